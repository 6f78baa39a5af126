"""Which processes of a run are alive on this machine (read from /proc, Linux only)."""

import socket
from pathlib import Path

PROC = Path("/proc")


def process_alive(host: str | None, pid: int | None) -> bool | None:
    """Whether Python process ``pid`` on ``host`` still runs; None when it ran on another
    machine. A process id reused by a program other than Python does not count."""
    if host is None or pid is None or host != socket.gethostname():
        return None
    try:
        return b"python" in (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False


def snakemake_drivers(workdir: Path) -> list[int]:
    """Process ids of Snakemake drivers running in ``workdir`` on this machine.

    A SLURM job's inner Snakemake (``--target-jobs``) and an ``--unlock`` are not drivers.
    """
    workdir = workdir.resolve()
    drivers = []
    for entry in PROC.glob("[0-9]*"):
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = (entry / "cwd").resolve()
        except OSError:
            continue
        words = [word.decode(errors="replace") for word in arguments]
        if (
            cwd == workdir
            and any(word.endswith("snakemake") for word in words)
            and not {"--target-jobs", "--unlock"} & set(words)
        ):
            drivers.append(int(entry.name))
    return sorted(drivers)
