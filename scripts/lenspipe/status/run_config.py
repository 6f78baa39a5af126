"""The config of a run as Snakemake sees it: config/config.yaml, then each --configfile."""

import copy
from pathlib import Path
from typing import Any

import yaml

from lenspipe.config import validate_config
from lenspipe.errors import ConfigError

DEFAULT_CONFIGFILE = Path("config") / "config.yaml"


def merge_config(base: dict, changes: dict) -> dict:
    """A copy of ``base`` with ``changes`` merged in key by key, nested dicts included, as
    Snakemake merges a ``--configfile`` into the Snakefile's ``configfile``."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_run_config(workdir: Path, configfiles: list[str]) -> dict[str, Any]:
    """Read, merge and validate the run's config files (relative to ``workdir``)."""
    config: dict[str, Any] = {}
    for name in [str(DEFAULT_CONFIGFILE), *configfiles]:
        path = workdir / name
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except OSError as error:
            raise ConfigError(f"{name}: cannot read the config file ({error.strerror})") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"{name}: not valid YAML ({error})") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{name}: expected a mapping of config fields at the top level")
        config = merge_config(config, loaded)
    return validate_config(config)
