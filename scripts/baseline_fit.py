"""Rule baseline_fit: lenstronomy maximum-likelihood fits of the first test lenses."""

from lenspipe.logs import rule_log

with rule_log(snakemake):
    from lenspipe.baseline_fit import fit_test_lenses

    fit = snakemake.params.fit
    fit_test_lenses(
        simulation=snakemake.params.simulation,
        targets=snakemake.params.targets,
        n_lenses=fit["n_lenses"],
        n_particles=fit["n_particles"],
        n_iterations=fit["n_iterations"],
        store_path=snakemake.input.store,
        split_path=snakemake.input.split,
        predictions_path=snakemake.output.predictions,
    )
