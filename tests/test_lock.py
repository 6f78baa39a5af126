"""requirements.lock: consistent with pyproject.toml, and what the tests run with."""

import tomllib

import make_lock
from conftest import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def locked_versions() -> dict[str, str]:
    pins = [line.split("==") for line in make_lock.locked_lines()]
    return {canonicalize_name(name): version for name, version in pins}


def test_every_requirement_of_pyproject_is_locked_at_a_version_it_allows():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    locked = locked_versions()
    for text in project["dependencies"] + project["optional-dependencies"]["dev"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run scripts/make_lock.py"
        assert requirement.specifier.contains(locked[name]), (text, locked[name])


def test_the_tests_run_with_exactly_the_locked_versions():
    """setup_env.sh installs with the lock as constraints (so CI does): the environment's
    dependency closure of lenspipe[dev] is the lock, name for name and version for version."""
    assert make_lock.pin_lines() == make_lock.locked_lines()
