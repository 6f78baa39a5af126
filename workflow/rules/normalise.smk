rule normalise:
    input:
        store=rules.consolidate.output.store,
    output:
        normalisation=f"{RUN}/normalisation.json",
        split=f"{RUN}/split.csv",
    log:
        f"{RUN}/logs/normalise.log",
    conda:
        "../../envs/lenspipe.yaml"
    script:
        "../../scripts/normalise.py"
