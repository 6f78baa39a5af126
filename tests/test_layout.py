"""The run's declared stage graph (lenspipe.runs.layout), read by the status command, is the
one Snakemake builds from the rules, job by job: each model through the same rules."""

import re
from pathlib import Path

import pytest
import yaml
from conftest import production_config
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
    ],
)
def test_the_declared_stages_are_the_jobs_snakemake_runs_in_the_same_order(changes, tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(changes))
    config = validate_config(merge_config(production_config(), changes))
    declared = {stage: set(needs) for stage, needs in layout.run_stages(config).items()}
    workflow = job_graph(str(overlay))
    known = set(declared) | {"simulate_chunk"}
    if layout.refine_runs(config):
        known.add("refine_chunk")
    assert set(workflow) - {"all", "survey_gallery", "realism_gallery"} == known
    for stage in declared:
        assert ancestors(declared, stage) == ancestors(workflow, stage) & known, stage
    # Every model is trained and evaluated; only a model with uncertainties is calibrated.
    for model in MODELS:
        assert {f"train/{model}", f"evaluate/{model}"} <= set(declared), model
        calibrated = predicts_uncertainties(config, model)
        assert (f"calibrate/{model}" in declared) is calibrated, model
        assert (f"calibration_plot/{model}" in declared) is calibrated, model
    assert predicts_uncertainties(config, "cnn") is ("training" not in changes)
    assert not predicts_uncertainties(config, "naive")
    assert ("baseline_fit" in declared) is ("lens_system" not in changes)
    refines = not changes  # a quasar is not modelled; a CNN without sigma cannot seed
    assert ("refine" in declared) is ("refine_seeds" in declared) is refines


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
