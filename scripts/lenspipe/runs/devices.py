"""Which device a training job runs on, and the stop when it asked for a GPU and sees none.

A training job sent to a GPU node that TensorFlow cannot use (a node without a GPU, a GPU
generation the installed TensorFlow does not support, or an install without CUDA) would
otherwise print one line and train on the node's CPUs for hours. ``check_training_device``
stops it at once instead, with the node's name, unless the config allows the CPU
(``training.allow_cpu_fallback``).
"""

import os
import socket
from collections.abc import Mapping, Sequence

from lenspipe.errors import MissingGpuError
from lenspipe.runs.slurm_preflight import gpu_request

# SLURM's and CUDA's variables that say which GPUs a job was given; quoted in the message.
GPU_VARIABLES = ("SLURM_JOB_ID", "SLURM_JOB_GPUS", "SLURM_GPUS_ON_NODE", "CUDA_VISIBLE_DEVICES")


def visible_gpus() -> list[str]:
    """The GPUs TensorFlow sees, by name (``/physical_device:GPU:0``, ...)."""
    import tensorflow as tf

    return [gpu.name for gpu in tf.config.list_physical_devices("GPU")]


def check_training_device(
    resources: Mapping,
    allow_cpu_fallback: bool,
    gpus: Sequence[str] | None = None,
    host: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> str:
    """The device line for the log; raise MissingGpuError when the job's ``resources`` ask for
    a GPU (``gres: "gpu:1"`` or ``gpu: 1``), TensorFlow sees none and ``allow_cpu_fallback``
    is off.

    ``gpus``, ``host`` and ``environment`` default to what this process sees.
    """
    gpus = visible_gpus() if gpus is None else list(gpus)
    host = socket.gethostname() if host is None else host
    environment = os.environ if environment is None else environment
    if gpus:
        return f"Training on {', '.join(gpus)} (node {host})"
    requested, _ = gpu_request(resources)
    if not requested:
        return f"Training on the CPU of node {host}: no GPU was requested"
    if allow_cpu_fallback:
        return (
            f"Training on the CPU of node {host}: the job asked for {requested} GPU(s) but "
            "TensorFlow sees none (training.allow_cpu_fallback is true)"
        )
    seen = ", ".join(f"{name}={environment.get(name, '(unset)')}" for name in GPU_VARIABLES)
    raise MissingGpuError(
        f"this job asked SLURM for {requested} GPU(s) but TensorFlow sees no GPU on node "
        f"{host} ({seen}). Either the node gave none, its GPU is one the installed TensorFlow "
        "cannot use (constrain the GPU type: GPU_CONSTRAINT or GPU_GRES in "
        "profiles/amarel/config.v9+.yaml), or TensorFlow was installed without CUDA (bash "
        "scripts/setup_env.sh --gpu). Stopped rather than train on the CPU for hours; set "
        "training.allow_cpu_fallback: true in the config to train on the CPU instead."
    )
