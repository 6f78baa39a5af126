"""The config of a run as Snakemake sees it: config/config.yaml, then each --configfile."""

from pathlib import Path
from typing import Any

import yaml
from lenspipe.config import merge_config, validate_config
from lenspipe.errors import ConfigError

DEFAULT_CONFIGFILE = Path("config") / "config.yaml"


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
