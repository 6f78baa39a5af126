"""Exceptions that name the field or file that is wrong."""

MAX_MESSAGE = 1000
"""The most characters of a ``ConfigError`` message: a value echoed in it (a YAML anchor bomb
in ``seed`` echoed 39 MB) is cut in the middle, keeping the field's name at the start and
what was expected at the end."""


class ConfigError(ValueError):
    """A configuration value is missing, mistyped or inconsistent; the message names the field."""

    def __init__(self, message: str):
        if len(message) > MAX_MESSAGE:
            kept = (MAX_MESSAGE - 60) // 2
            left_out = len(message) - 2 * kept
            message = (
                f"{message[:kept]} ... ({left_out:,} characters left out) ... {message[-kept:]}"
            )
        super().__init__(message)


class ChunkError(ValueError):
    """A simulated chunk file is not what consolidation expects; the message names the file."""


class SlurmRequestError(ValueError):
    """A rule asks SLURM for something its partition cannot give; the message names the rule."""


class SimulationError(RuntimeError):
    """Lenses cannot be simulated as configured; the message names the config field."""


class MissingGpuError(RuntimeError):
    """A job that asked SLURM for a GPU sees none; the message names the node."""


class ImageError(ValueError):
    """An image cannot be fitted (wrong shape, pixels that are not finite); the message names
    the image."""


class StoreError(ValueError):
    """The run's zarr store is damaged; the message names the store and its damaged chunks."""
