"""Read the attempt journal a chunk job keeps in its work folder (``lenspipe.chunk_job``)."""

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(
    r"^(?P<time>\S+)(?: \[SLURM job (?P<slurm>[^\]]+)\])?"
    r"(?: \[host (?P<host>\S+) pid (?P<pid>\d+)\])? (?P<message>.*)$"
)
_STARTED = re.compile(
    r"attempt started: (?P<saved>\d+) of \d+ lenses already saved"
    r"(?: \(platform: (?P<platform>.*)\))?"
)


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


def read_journal(path: Path) -> list[JournalAttempt]:
    """The attempts recorded in a journal file, oldest first; [] if there is no journal."""
    try:
        lines = path.read_text().splitlines()
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
        elif message.startswith("finished:") and attempts:
            attempts[-1].finished = True
    return attempts
