"""The run's declared stage graph (lenspipe.runs.layout), read by the status command, is the
one Snakemake builds from the rules, job by job: each model through the same rules."""

import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO, production_config
from lenspipe.config import merge_config, validate_config
from lenspipe.learning.variants import MODELS, predicts_uncertainties
from lenspipe.runs import layout
from workflow_helpers import snakemake


def job_graph(*configfiles: str) -> dict[str, set[str]]:
    """Each job of the workflow's DAG for ``configfiles``, named as its stage (``compare``,
    ``train/cnn``; every chunk job ``simulate_chunk``), with the stages it reads from.

    Snakemake labels a job with the wildcards its inputs do not fix: ``train`` with its model,
    but not ``evaluate``, whose model comes from its ``train`` job; a job of a model's rule
    downstream of one model's training only is that model's.
    """
    result = snakemake("--dag", "--configfile", "config/config.yaml", *configfiles)
    assert result.returncode == 0, result.stderr[-3000:]
    labels = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', result.stdout, re.M))
    parents: dict[str, set[str]] = {node: set() for node in labels}
    for source, target in re.findall(r"^\s*(\d+) -> (\d+)$", result.stdout, re.M):
        parents[target].add(source)
    trained = {
        node: label.split("model: ")[1] for node, label in labels.items() if "model: " in label
    }
    model_rules = {layout.stage_rule(stage) for stage in layout.STAGES if "{model}" in stage}
    names = {}
    for node, label in labels.items():
        rule = label.split("\\n")[0]
        models = {
            trained[other] for other in ancestors(parents, node) | {node} if other in trained
        }
        one_model = len(models) == 1 and rule in model_rules
        names[node] = f"{rule}/{models.pop()}" if one_model else rule
    graph: dict[str, set[str]] = {}
    for node, name in names.items():
        graph.setdefault(name, set()).update(names[parent] for parent in parents[node])
    return graph


def ancestors(graph: dict[str, set[str]], node: str) -> set[str]:
    found: set[str] = set()
    stack = list(graph.get(node, ()))
    while stack:
        parent = stack.pop()
        if parent not in found:
            found.add(parent)
            stack += graph.get(parent, ())
    return found


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"lens_system": {"point_source": True}},
        # A CNN without uncertainties: no model is calibrated.
        {"training": {"loss": "mse"}},
        # Every optional stage on: the independent tests, the learning curve, the galleries.
        {
            "evaluation": {
                "learning_curve": [10000],
                "independent_tests": [{"name": "shifted", "seed": 7}],
            },
            "lens_system": {"redshifts": True, "subhalos": {"mean_count": 2.0}},
        },
        # Every optional stage off.
        {"evaluation": {"survey_galleries": []}, "refine": {"n_lenses": 0}},
    ],
)
def test_the_declared_stages_are_the_jobs_snakemake_runs_in_the_same_order(changes, tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(changes))
    config = validate_config(merge_config(production_config(), changes))
    declared = {stage: set(needs) for stage, needs in layout.run_stages(config).items()}
    workflow = job_graph(str(overlay))
    assert set(workflow) - {"all"} == set(declared)
    for stage in declared:
        assert ancestors(declared, stage) == ancestors(workflow, stage), stage
    # Every model is trained and evaluated; only a model with uncertainties is calibrated.
    for model in MODELS:
        assert {f"train/{model}", f"evaluate/{model}"} <= set(declared), model
        calibrated = predicts_uncertainties(config, model)
        assert (f"calibrate/{model}" in declared) is calibrated, model
        assert (f"calibration_plot/{model}" in declared) is calibrated, model
    assert predicts_uncertainties(config, "cnn") is ("training" not in changes)
    assert not predicts_uncertainties(config, "naive")
    quasar = changes.get("lens_system", {}).get("point_source", False)
    assert ("baseline_fit" in declared) is not quasar
    # A quasar is not modelled; a CNN without sigma cannot seed.
    refines = "training" not in changes and not quasar and "refine" not in changes
    assert ("refine" in declared) is ("refine_chunk" in declared) is refines
    evaluation = config["evaluation"]
    assert ("independent_table" in declared) is bool(evaluation["independent_tests"])
    assert ("learning_curve" in declared) is bool(evaluation["learning_curve"])
    assert ("survey_gallery" in declared) is bool(evaluation["survey_galleries"])
    assert ("realism_gallery" in declared) is ("lens_system" in changes and not quasar)


def test_each_stages_outputs_are_files_of_the_layout_with_its_model():
    config = validate_config(production_config())
    run = layout.run_dir(config)
    stages = layout.run_stages(config)
    assert [stage for stage in stages if stage.startswith("train/")] == [
        f"train/{model}" for model in MODELS
    ]
    assert layout.stage_outputs(Path(run), "evaluate/naive") == [
        Path(run) / "models" / "naive" / "metrics.json"
    ]
    assert layout.stage_log(Path(run), "train/cnn") == Path(run) / "logs" / "train" / "cnn.log"
    assert (layout.stage_rule("train/cnn"), layout.stage_wildcards("train/cnn")) == (
        "train",
        {"model": "cnn"},
    )
    assert (layout.stage_rule("compare"), layout.stage_wildcards("compare")) == ("compare", {})


def test_the_fit_baseline_runs_under_either_rendering():
    for supersampling in ("adaptive", 1):
        config = merge_config(production_config(), {"image": {"supersampling": supersampling}})
        assert layout.fit_baseline_runs(validate_config(config)), supersampling


def test_every_rule_logs_and_benchmarks_under_its_own_stage_name():
    """Logs and benchmarks are ``layout.LOG`` and ``layout.BENCHMARK`` of the rule's stage:
    its name, then its wildcards; an independent campaign's jobs, in the campaign's folder,
    under the name of the run's rule they repeat."""
    rules = re.findall(
        r"^rule (\w+):\n((?:    .*\n|\n)*)",
        "".join(path.read_text() for path in sorted((REPO / "workflow" / "rules").glob("*.smk"))),
        re.M,
    )
    assert len(rules) > 20
    logged = 0
    for rule, body in rules:
        for directive, helper in (("log", "log_path"), ("benchmark", "benchmark_path")):
            entry = re.search(rf"^    {directive}:\n        (.*)\n", body, re.M)
            if entry is None:
                continue
            call = re.fullmatch(rf'{helper}\("([^"]+)"(, CAMPAIGN)?\),?', entry[1])
            assert call, f"rule {rule}: {directive} is {entry[1]}, not {helper}(stage)"
            stage_rule = call[1].split("/")[0]
            expected = rule.replace("_independent", "") if call[2] else rule
            assert stage_rule == expected, f"rule {rule} writes its {directive} as {call[1]}"
            logged += directive == "log"
    assert logged == len(rules) - 1  # every rule but the aggregate `cutouts`
