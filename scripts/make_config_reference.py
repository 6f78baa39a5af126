"""Write config/README.md, the configuration reference, from the config schema.

.venv/bin/python scripts/make_config_reference.py          # write it
.venv/bin/python scripts/make_config_reference.py --check  # exit 1 if it is out of date
"""

import argparse
import sys
from pathlib import Path

from lenspipe.config_reference import config_reference

REPO = Path(__file__).resolve().parents[1]

REFERENCE = REPO / "config" / "README.md"

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--check", action="store_true", help="only check that it is up to date")
arguments = parser.parse_args()
text = config_reference()
if arguments.check:
    if not REFERENCE.exists() or REFERENCE.read_text() != text:
        sys.exit("config/README.md is out of date: run scripts/make_config_reference.py")
else:
    REFERENCE.write_text(text)
