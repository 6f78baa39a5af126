"""Versions of the packages that shape the data, for provenance records."""

from importlib.metadata import PackageNotFoundError, version

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
