"""Settings recorded beside work in progress, so a resumed job never mixes in work made with
other settings: the chunk jobs' saved parts and the training's backup. Also the name of the
epoch history a training keeps there, which the status command reads."""

import json
from pathlib import Path
from typing import Any

from lenspipe.atomic import replace_text

SETTINGS_FILE = "settings.json"
# The losses of each epoch so far, in a training's work folder.
HISTORY_IN_PROGRESS = "history.csv"


UNRECORDED = "the settings record (missing or unreadable)"
"""The change reported for work whose settings record cannot be read: it counts as made with
other settings, since nothing says it was not."""


def changes_since_recorded(work_dir: Path, settings: dict[str, Any]) -> list[str]:
    """Dotted names of the fields in which ``settings`` differ from those recorded in
    ``work_dir`` (empty if none); ``[UNRECORDED]`` if no readable settings are recorded
    there."""
    try:
        recorded = json.loads((work_dir / SETTINGS_FILE).read_text())
    except (OSError, ValueError):
        return [UNRECORDED]
    if not isinstance(recorded, dict):
        return [UNRECORDED]
    return changed_fields(recorded, json.loads(json.dumps(settings)))


def record_settings(work_dir: Path, settings: dict[str, Any]) -> None:
    """Record ``settings`` in ``work_dir`` (created if needed), atomically: a killed job leaves
    the old record or the new one, never a part of one."""
    work_dir.mkdir(parents=True, exist_ok=True)
    replace_text(work_dir / SETTINGS_FILE, json.dumps(settings, sort_keys=True))


def changed_fields(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the fields whose values differ between ``old`` and ``new``."""
    changed = []
    for key in sorted(set(old) | set(new)):
        name = f"{prefix}{key}"
        before, after = old.get(key), new.get(key)
        if isinstance(before, dict) and isinstance(after, dict):
            changed += changed_fields(before, after, f"{name}.")
        elif before != after:
            changed.append(name)
    return changed
