"""Rule baseline_fit: lenstronomy maximum-likelihood fits of the first test lenses."""

# The fits run in spawned worker processes, which import this script again (without the
# snakemake object) as their main module: only the process Snakemake started runs the job.
if __name__ == "__main__":
    from lenspipe.runs.logs import rule_log

    with rule_log(snakemake):
        from lenspipe.baselines.fit_test_lenses import fit_test_lenses
        from lenspipe.baselines.likelihood_fit import Search
        from lenspipe.settings import SimulationSettings

        fit = snakemake.params.fit
        fit_test_lenses(
            simulation=SimulationSettings.from_config(snakemake.params.simulation),
            targets=snakemake.params.targets,
            n_lenses=fit["n_lenses"],
            search=Search(
                n_starts=fit["n_starts"],
                n_particles=fit["n_particles"],
                n_iterations=fit["n_iterations"],
                polish_iterations=fit["polish_iterations"],
            ),
            chi2_tolerance=fit["chi2_tolerance"],
            store_path=snakemake.input.store,
            split_path=snakemake.input.split,
            predictions_path=snakemake.output.predictions,
            workers=snakemake.threads,
        )
