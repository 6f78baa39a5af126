"""The stop of a training job that asked SLURM for a GPU and sees none."""

import pytest
from lenspipe.errors import MissingGpuError
from lenspipe.runs.devices import check_training_device

NODE = "gpu017.amarel.rutgers.edu"


@pytest.mark.parametrize("resources", [{"gres": "gpu:1"}, {"gpu": 1}, {"gres": "gpu:a100:2"}])
def test_a_job_that_asked_for_a_gpu_and_sees_none_stops_naming_the_node(resources):
    with pytest.raises(MissingGpuError) as error:
        check_training_device(
            resources, False, gpus=[], host=NODE, environment={"SLURM_JOB_ID": "4242"}
        )
    message = str(error.value)
    assert f"TensorFlow sees no GPU on node {NODE}" in message
    assert "SLURM_JOB_ID=4242" in message and "CUDA_VISIBLE_DEVICES=(unset)" in message
    assert "training.allow_cpu_fallback: true" in message


def test_the_config_can_let_it_train_on_the_cpu():
    line = check_training_device({"gres": "gpu:1"}, True, gpus=[], host=NODE)
    assert line.startswith(f"Training on the CPU of node {NODE}: the job asked for 1 GPU(s)")


@pytest.mark.parametrize("resources", [{}, {"gres": ""}, {"gres": "tmpdisk:10"}, {"gpu": 0}])
def test_a_job_that_asked_for_no_gpu_trains_on_the_cpu(resources):
    line = check_training_device(resources, False, gpus=[], host="laptop")
    assert line == "Training on the CPU of node laptop: no GPU was requested"


def test_a_job_that_sees_its_gpu_names_it():
    line = check_training_device({"gres": "gpu:1"}, False, gpus=["/physical_device:GPU:0"])
    assert line.startswith("Training on /physical_device:GPU:0 (node ")


def test_without_a_gpu_request_tensorflow_on_this_machine_is_fine():
    # The real TensorFlow of this (GPU-less) machine: a local run must keep training.
    assert "Training on" in check_training_device({}, False)
