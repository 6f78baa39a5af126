"""The work folder of a chunk job: its saved parts and its attempt journal.

``lenspipe.runs.chunk_job`` writes them and ``lenspipe.runs.status`` reads them, both through this
module, so their names and formats are defined once. (The settings record beside them is
``lenspipe.work_settings``.)
"""

import datetime
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lenspipe.runs.job_record import now, slurm_job_id
from lenspipe.work_settings import changes_since_recorded, record_settings

JOURNAL_FILE = "journal.txt"
_PART_NAME = re.compile(r"^lenses_(\d{9})-(\d{9})\.npz$")
_LINE = re.compile(
    r"^(?P<time>\S+)(?: \[SLURM job (?P<slurm>[^\]]+)\])?"
    r"(?: \[host (?P<host>\S+) pid (?P<pid>\d+)\])? (?P<message>.*)$"
)
_STARTED = re.compile(
    r"attempt started: (?P<saved>\d+) of \d+ lenses already saved"
    r"(?: \(platform: (?P<platform>.*)\))?"
)
_FINISHED = "finished: "


def part_ranges(lenses: range, checkpoint_every: int) -> list[range]:
    """Split a chunk's lens range into consecutive parts of ``checkpoint_every`` lenses."""
    return [
        range(start, min(start + checkpoint_every, lenses.stop))
        for start in range(lenses.start, lenses.stop, checkpoint_every)
    ]


def part_path(work_dir: Path, part: range) -> Path:
    """File that holds the saved lenses of ``part``."""
    return work_dir / f"lenses_{part.start:09d}-{part.stop - 1:09d}.npz"


def saved_parts(work_dir: Path) -> list[Path]:
    """The saved-part files in ``work_dir``, in lens order."""
    return sorted(path for path in work_dir.glob("lenses_*.npz") if _PART_NAME.match(path.name))


def saved_part_range(path: Path) -> range:
    """The lenses a saved-part file holds, from its name."""
    first, last = _PART_NAME.match(path.name).groups()
    return range(int(first), int(last) + 1)


def write_journal(work_dir: Path, message: str) -> None:
    """Append a timestamped line to the journal, saying which SLURM job, host and process
    wrote it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    job = slurm_job_id()
    slurm = f" [SLURM job {job}]" if job else ""
    process = f" [host {socket.gethostname()} pid {os.getpid()}]"
    with (work_dir / JOURNAL_FILE).open("a") as journal:
        journal.write(f"{now()}{slurm}{process} {message}\n")


def keep_parts_made_with(work_dir: Path, record: dict[str, Any], parts: list[Path]) -> None:
    """Remove ``parts`` (the work folder's saved parts) unless the settings record beside them
    is ``record`` (a missing or unreadable one counts as other settings), saying so in the
    journal; then record ``record``."""
    changed = changes_since_recorded(work_dir, record)
    stale = parts if changed else []
    for file in stale:
        file.unlink()
    if stale:
        fields = ", ".join(changed)
        write_journal(work_dir, f"settings changed ({fields}): removed {len(stale)} saved parts")
    record_settings(work_dir, record)


def attempt_started(saved: int, lenses: int, platform: str) -> str:
    """The journal message that opens an attempt."""
    return f"attempt started: {saved} of {lenses} lenses already saved (platform: {platform})"


def chunk_finished(path: str | Path) -> str:
    """The journal message that closes a successful attempt."""
    return f"{_FINISHED}{path} written"


@dataclass
class JournalAttempt:
    """One attempt at a chunk, as its journal lines tell it."""

    started: datetime.datetime
    slurm_job_id: str | None
    host: str | None
    pid: int | None
    saved_before: int
    finished: bool = False
    platform: str | None = None  # the processor (lenspipe.versions.cpu_platform)


def read_journal(work_dir: Path) -> list[JournalAttempt]:
    """The attempts recorded in the journal of ``work_dir``, oldest first; [] if none."""
    try:
        lines = (work_dir / JOURNAL_FILE).read_text().splitlines()
    except FileNotFoundError:
        return []
    attempts: list[JournalAttempt] = []
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            continue
        message = match["message"]
        started = _STARTED.match(message)
        if started:
            attempts.append(
                JournalAttempt(
                    started=datetime.datetime.fromisoformat(match["time"]),
                    slurm_job_id=match["slurm"],
                    host=match["host"],
                    pid=int(match["pid"]) if match["pid"] else None,
                    saved_before=int(started["saved"]),
                    platform=started["platform"],
                )
            )
        elif message.startswith(_FINISHED) and attempts:
            attempts[-1].finished = True
    return attempts
