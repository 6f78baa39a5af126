"""The package on its own: built, installed away from the repository, it validates a config."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from lenspipe.runs.package_path import export_to_jobs

CHECK = """
import sys
import lenspipe
from lenspipe.config import validate_config
from lenspipe.errors import ConfigError

print(lenspipe.__file__)
config = validate_config({"run_name": "alone", "n_lenses": 100, "chunk_size": 50})
print(config["image"]["num_pix"], config["training"]["loss"])
try:
    validate_config({"run_name": "alone", "n_lenses": 0})
except ConfigError as error:
    print("refused:", error)
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package built into a wheel from a copy of its sources, installed in a folder."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"
    shutil.copytree(REPO / "scripts" / "lenspipe", source / "scripts" / "lenspipe")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    build = [*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", root / "wheel"]
    subprocess.run([*build, source], check=True, capture_output=True)
    (wheel,) = (root / "wheel").glob("lenspipe-*.whl")
    install = [*pip, "install", "--quiet", "--no-deps", "--target", root / "site", wheel]
    subprocess.run(install, check=True, capture_output=True)
    return root / "site"


def test_the_installed_package_validates_a_config_without_the_repository(installed, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=tmp_path,
        env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    location, defaults, refusal = result.stdout.splitlines()
    assert Path(location).is_relative_to(installed)
    assert defaults == "64 mse_nll"
    assert "refused:" in refusal and "n_lenses" in refusal


def test_the_wheel_holds_the_schema_and_every_layer(installed):
    package = installed / "lenspipe"
    assert (package / "config.schema.yaml").is_file()
    layers = ("simulation", "data", "learning", "evaluation", "baselines", "refinement", "runs")
    for layer in layers:
        assert (package / layer / "__init__.py").is_file(), layer


def test_jobs_get_the_workflows_package_first_on_pythonpath_once(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/site/a", "/work/scripts", "", "/site/b"]))
    export_to_jobs("/work/scripts")
    assert os.environ["PYTHONPATH"].split(os.pathsep) == ["/work/scripts", "/site/a", "/site/b"]
    monkeypatch.delenv("PYTHONPATH")
    export_to_jobs("/work/scripts")
    assert os.environ["PYTHONPATH"] == "/work/scripts"
