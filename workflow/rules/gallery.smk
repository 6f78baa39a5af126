rule survey_gallery:
    output:
        gallery=report(
            run_path("survey_gallery"),
            caption="../report/survey_gallery.rst",
            category="Simulation",
            subcategory="{survey}",
        ),
    log:
        log_path("survey_gallery/{survey}"),
    wildcard_constraints:
        survey="LSST|DES|Euclid|HST|Roman",
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=SIMULATION,
        gallery_size=SETTINGS.evaluation.gallery_size,
    script:
        "../../scripts/survey_gallery.py"


rule realism_gallery:
    output:
        gallery=report(
            run_path("realism_gallery"),
            caption="../report/realism_gallery.rst",
            category="Simulation",
        ),
    log:
        log_path("realism_gallery"),
    conda:
        "../../envs/simulation.yaml"
    params:
        simulation=SIMULATION,
    script:
        "../../scripts/realism_gallery.py"
