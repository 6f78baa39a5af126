"""The check of SLURM requests against the cluster's partitions, on sinfo's own output."""

import math

import pytest
from lenspipe.runs.slurm_preflight import (
    JobRequest,
    gpu_request,
    parse_sinfo,
    parse_time_limit,
    problems,
)

SINFO = """\
main|14-00:00:00|191000|(null)
main|14-00:00:00|257000+|(null)
gpu|2-00:00:00|191000|gpu:a100:4(S:0-1)
gpu|2-00:00:00|95000|gpu:2
debug|30:00|16000|(null)
"""


def request(**changes) -> JobRequest:
    fields = dict(
        rule_name="train", attempt=1, partition="gpu", runtime_minutes=360, mem_mb=32000, gpus=1
    )
    return JobRequest(**{**fields, **changes})


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("14-00:00:00", 20160),
        ("2-03:04:00", 2 * 1440 + 3 * 60 + 4),
        ("30:00", 30),
        ("01:30:00", 90),
        ("2-12", 2 * 1440 + 720),
        ("1-06:30", 1440 + 390),
        ("45", 45),
        ("infinite", math.inf),
    ],
)
def test_time_limits_are_read_in_minutes(text, minutes):
    assert parse_time_limit(text) == minutes


def test_partitions_take_the_largest_node_of_each():
    partitions = parse_sinfo(SINFO)
    assert sorted(partitions) == ["debug", "gpu", "main"]
    assert partitions["main"].node_mem_mb == 257000
    assert partitions["gpu"].gpus_per_node == 4
    assert partitions["gpu"].max_minutes == 2880
    assert partitions["debug"].gpus_per_node == 0


def test_requests_that_fit_raise_nothing():
    assert problems([request(), request(partition="main", gpus=0)], parse_sinfo(SINFO)) == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"partition": "gpus"}, "slurm_partition 'gpus', which this cluster does not have"),
        ({"runtime_minutes": 5760}, "runtime=5760 minutes, above the 2880-minute limit"),
        ({"mem_mb": 300000}, "mem_mb=300000, more than any node of partition 'gpu'"),
        ({"partition": "main"}, "1 GPU(s), but the nodes of partition 'main' have 0 GPUs"),
    ],
)
def test_each_unsatisfiable_request_is_named(changes, expected):
    found = problems([request(attempt=3, **changes)], parse_sinfo(SINFO))
    assert len(found) == 1
    assert found[0].startswith("rule train (attempt 3) asks for ")
    assert expected in found[0]


def test_no_partition_means_the_cluster_default_and_is_not_checked():
    assert problems([request(partition=None, gpus=0)], parse_sinfo(SINFO)) == []


@pytest.mark.parametrize(
    "resources, expected",
    [
        ({}, (0, None)),
        ({"gres": "gpu:1"}, (1, None)),
        ({"gres": "gpu"}, (1, None)),
        ({"gres": "gpu:a100:2"}, (2, "a100")),
        ({"gres": "gpu:a100"}, (1, "a100")),
        ({"gres": "tmpdisk:100,gpu:1"}, (1, None)),
        ({"gres": "tmpdisk:100"}, (0, None)),
        ({"gpu": 1}, (1, None)),
        ({"gpu": 2, "gpu_model": "a100"}, (2, "a100")),
        ({"gpu_model": "v100"}, (1, "v100")),
    ],
)
def test_gpu_requests_are_read_in_either_form_the_plugin_maps(resources, expected):
    assert gpu_request(resources) == expected


@pytest.mark.parametrize("resources", [{"gres": "gpu:1"}, {"gpu": 1}])
def test_a_gpu_on_a_partition_without_gpus_is_named_in_either_form(resources):
    gpus, gpu_type = gpu_request(resources)
    found = problems([request(partition="main", gpus=gpus, gpu_type=gpu_type)], parse_sinfo(SINFO))
    assert found == [
        "rule train (attempt 1) asks for 1 GPU(s), but the nodes of partition 'main' have 0 GPUs."
    ]


def test_gpu_types_and_features_are_read_and_checked():
    partitions = parse_sinfo(SINFO_FEATURES)
    assert partitions["gpu"].gpu_types == {"a100", "v100"}
    assert problems([request(gpu_type="a100", constraint="ampere")], partitions) == []
    assert problems([request(constraint="ampere|volta")], partitions) == []
    assert problems([request(constraint="ampere&a100")], partitions) == []
    (wrong_type,) = problems([request(gpu_type="h100")], partitions)
    assert "GPU type 'h100', which partition 'gpu' does not have (GPU types: a100, v100)" in (
        wrong_type
    )
    # Both features exist, but on no single node.
    (no_node,) = problems([request(constraint="ampere&volta")], partitions)
    assert "constraint 'ampere&volta', which no node of partition 'gpu' meets" in no_node
    assert "(features: a100, ampere, v100, volta)" in no_node


SINFO_FEATURES = """\
main|3-00:00:00|257000|(null)|(null)
gpu|3-00:00:00|191000|gpu:a100:4(S:0-1)|ampere,a100
gpu|3-00:00:00|191000|gpu:v100:2|volta,v100
"""
