#!/usr/bin/env bash
# Create the virtual environment .venv (first time only) and install lenspipe into it with
# every dependency, including the test tools. Safe to run again: pip only adds what is missing.
#
#     bash scripts/setup_env.sh          # CPU (laptops, CI, Amarel's CPU nodes)
#     bash scripts/setup_env.sh --gpu    # also CUDA for TensorFlow (training on Amarel's GPUs)
#     bash scripts/setup_env.sh --check  # only check that the Python is new enough
#
# The venv is made with `python3`, or with the interpreter named by PYTHON, for example
# PYTHON=$HOME/miniforge3/bin/python3 bash scripts/setup_env.sh --gpu. lenspipe needs
# Python 3.11 or newer; an older one is refused, with what to load instead.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="dev"
check_only=false
case "${1:-}" in
    "") ;;
    --gpu) extras="dev,gpu" ;;
    --check) check_only=true ;;
    *)
        echo "usage: [PYTHON=<interpreter>] bash scripts/setup_env.sh [--gpu | --check]" >&2
        exit 2
        ;;
esac

python="${PYTHON:-python3}"

too_old() {
    # $1: the interpreter, $2: what it reported as its version (or why it reported none).
    cat >&2 <<ADVICE
setup_env.sh: lenspipe needs Python 3.11 or newer, but $1 is $2.
Run this script with a newer Python, named by PYTHON, for example:
    PYTHON=python3.11 bash scripts/setup_env.sh --gpu
On Amarel (the login nodes' system python3 is 3.9), either load a Python module:
    module use /projects/community/modulefiles
    module avail anaconda                       # choose one whose python3 is 3.11 or newer
    module load anaconda/<version>
    python3 --version                           # 3.11 or newer
    PYTHON=python3 bash scripts/setup_env.sh --gpu
or install Miniforge once in your home directory and use its Python:
    curl -L -O https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-Linux-x86_64.sh
    bash Miniforge3-Linux-x86_64.sh -b -p \$HOME/miniforge3
    PYTHON=\$HOME/miniforge3/bin/python3 bash scripts/setup_env.sh --gpu
ADVICE
    exit 1
}

# Python 3.11 or newer: the interpreter that will make the venv, or the venv's own if it exists.
if [ -x .venv/bin/python ]; then
    python=.venv/bin/python
fi
if ! command -v "$python" >/dev/null 2>&1; then
    too_old "$python" "not found"
fi
version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) ||
    too_old "$python" "not a working Python"
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 11 ]; }; then
    if [ "$python" = .venv/bin/python ]; then
        too_old ".venv/bin/python (made earlier: remove .venv first)" "Python $version"
    fi
    where=$(command -v "$python")
    [ "$where" = "$python" ] || python="$python ($where)"
    too_old "$python" "Python $version"
fi
if $check_only; then
    echo "setup_env.sh: $python is Python $version: fine"
    exit 0
fi

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
# requirements.lock pins every package of lenspipe[dev] (scripts/make_lock.py writes it), so
# every install, CI's included, gets the versions the tests passed with.
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    --constraint requirements.lock -e ".[${extras}]"
