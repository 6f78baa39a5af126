rule normalise:
    input:
        store=rules.consolidate.output.store,
    output:
        normalisation=f"{RUN}/normalisation.json",
        split=f"{RUN}/split.csv",
    log:
        f"{RUN}/logs/normalise.log",
    benchmark:
        f"{RUN}/benchmarks/normalise.tsv"
    conda:
        "../../envs/lenspipe.yaml"
    script:
        "../../scripts/normalise.py"
