"""Send a rule script's output, including that of C libraries such as TensorFlow, to its log."""

import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from lenspipe.runs.job_record import USAGE_PREFIX, job_record, record_line, usage_record


@contextlib.contextmanager
def logging_to(path: str | Path) -> Iterator[TextIO]:
    """Redirect stdout and stderr (file descriptors 1 and 2) to ``path`` inside the block.

    Yields the open log file, for progress bars.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    line_buffered = sys.stdout.line_buffering
    with open(path, "a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        # A file is block-buffered by default; flush every line so `tail -f` shows progress.
        sys.stdout.reconfigure(line_buffering=True)
        try:
            yield log
        except BaseException:
            traceback.print_exc()
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout.reconfigure(line_buffering=line_buffered)
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextlib.contextmanager
def rule_log(job: Any) -> Iterator[TextIO]:
    """``logging_to`` a rule job's log, after a first line recording the job's request and
    before a last line recording what it used (also when it fails).

    ``job`` is the ``snakemake`` object of a rule script; see ``lenspipe.runs.job_record``.
    """
    started = time.perf_counter()
    path = Path(job.log[0])
    record = job_record(job.rule, dict(job.wildcards.items()), job.threads, job.resources)
    path.write_text(record_line(record))
    try:
        with logging_to(path) as log:
            yield log
    finally:
        with open(path, "a") as log:
            log.write(USAGE_PREFIX + json.dumps(usage_record(started), sort_keys=True) + "\n")
