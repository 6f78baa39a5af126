"""Versions of the packages and the processor that shape the data, for provenance records."""

import functools
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PROVENANCE_PACKAGES = ("lenspipe", "lenstronomy", "numpy", "scipy", "zarr")


def package_versions(packages: tuple[str, ...] = PROVENANCE_PACKAGES) -> dict[str, str]:
    """Return the installed version of each package ("not installed" when absent)."""
    versions = {}
    for package in packages:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


@functools.cache
def cpu_platform() -> str:
    """The machine's architecture and processor model, for example
    ``x86_64 Intel(R) Xeon(R) Processor``: NumPy picks its SIMD code by processor, so the
    last bits of floating-point results (and so the bytes of the data) can differ between
    processor types."""
    model = platform.processor() or "unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()} {model}"
