"""TensorFlow without its C++ start-up lines.

Importing TensorFlow writes a dozen lines from its C++ core to the process's stderr (oneDNN,
"Could not find cuda drivers", CPU instructions, absl's own warning), which made up 9 of 10
lines of ``python -m lenspipe predict`` and buried every job's log. ``install`` (run when the
package is imported) sets ``TF_CPP_MIN_LOG_LEVEL`` to 3 unless it is set, which silences the
C++ log after start-up, and makes the first import of ``tensorflow`` drop the lines it writes
in that log's format while keeping anything else written to stderr meanwhile. Set
``TF_CPP_MIN_LOG_LEVEL=0`` to see them all.
"""

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType
from typing import Any

CPP_LOG_LINE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\]"  # I1205 16:00:00.1 123 port.cc:153]
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|To enable the following instructions: .* rebuild TensorFlow)"  # a continuation line
)
"""A line TensorFlow's C++ core writes while it is imported."""


@contextlib.contextmanager
def without_cpp_log_lines() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block, then write back to it every
    line that is not one of TensorFlow's C++ log lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured:
                if not CPP_LOG_LINE.match(line):
                    os.write(2, line)


class _QuietLoader(importlib.abc.Loader):
    """Another loader's module, executed ``without_cpp_log_lines``."""

    def __init__(self, loader: importlib.abc.Loader):
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with without_cpp_log_lines():
            self._loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:  # resources, is_package, ...: the loader's own
        return getattr(self._loader, name)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as the other finders do, with a ``_QuietLoader``; once."""

    def find_spec(self, fullname: str, path: Any, target: Any = None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Silence TensorFlow's C++ log in this process (and the processes it starts)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules and not any(
        isinstance(finder, _QuietTensorFlow) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietTensorFlow())
