"""The run's declared stage graph (lenspipe.runs.layout), read by the status command, is the
one Snakemake builds from the rules."""

import re

import pytest
import yaml
from conftest import production_config
from lenspipe.config import merge_config, validate_config
from lenspipe.runs import layout
from workflow_helpers import snakemake


def rule_graph(*configfiles: str) -> dict[str, set[str]]:
    """Each rule of the workflow's graph for ``configfiles``, with the rules it reads from."""
    result = snakemake("--rulegraph", "--configfile", "config/config.yaml", *configfiles)
    assert result.returncode == 0, result.stderr[-3000:]
    names = dict(re.findall(r"^\s*(\d+)\[label = \"(\w+)\"", result.stdout, re.M))
    graph = {name: set() for name in names.values()}
    for source, target in re.findall(r"^\s*(\d+) -> (\d+)$", result.stdout, re.M):
        graph[names[target]].add(names[source])
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


@pytest.mark.parametrize("quasar", [False, True])
def test_the_declared_stages_are_the_rules_snakemake_runs_in_the_same_order(quasar, tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump({"lens_system": {"point_source": quasar}}))
    config = validate_config(
        merge_config(production_config(), {"lens_system": {"point_source": quasar}})
    )
    declared = {stage: set(needs) for stage, needs in layout.run_stages(config).items()}
    workflow = rule_graph(str(overlay))
    known = set(declared) | {"simulate_chunk"}
    assert set(workflow) - {"all", "survey_gallery", "realism_gallery"} == known
    for stage in declared:
        assert ancestors(declared, stage) == ancestors(workflow, stage) & known, stage
    assert ("baseline_fit" in declared) is not quasar


def test_the_fit_baseline_runs_under_either_rendering():
    for supersampling in ("adaptive", 1):
        config = merge_config(production_config(), {"image": {"supersampling": supersampling}})
        assert layout.fit_baseline_runs(validate_config(config)), supersampling
