# lenspipe: mock strong lenses with lenstronomy -> zarr -> MinMax -> Keras CNN -> evaluation.
#
# `snakemake -n` plans the production run of config/config.yaml; the README's local run adds
# `--configfile config/local.yaml`, whose values replace those of the production config.


from snakemake.utils import min_version

min_version("9.14.1")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/consolidate.smk"
include: "workflow/rules/normalise.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/gallery.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/refine.smk"
include: "workflow/rules/independent.smk"
include: "workflow/rules/learning_curve.smk"


# The driver runs `all`, the calibration plots and the comparison and learning-curve tables
# itself: a few seconds each, not worth a SLURM job. The galleries render lenses for about 20 s
# each, too much for a shared login node: they are SLURM jobs.
localrules:
    all,
    compare,
    calibration_plot,
    independent_table,
    learning_curve,
    cutouts,


rule all:
    default_target: True
    input:
        model_results,
        rules.compare.output,
        survey_galleries,
        realism_gallery,
        independent_tests_table,
        learning_curve_outputs,
        rules.cutouts.input,
