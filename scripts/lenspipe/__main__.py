"""Command line: ``python -m lenspipe status`` and ``python -m lenspipe cluster-check`` (see
``--help`` of each)."""

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from lenspipe.errors import ConfigError
from lenspipe.runs.cluster_check import report as cluster_report
from lenspipe.runs.status.campaign import collect_status
from lenspipe.runs.status.render import render
from lenspipe.runs.status.run_config import load_run_config


def main(argv: list[str] | None = None) -> int:
    """Run a lenspipe command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m lenspipe")
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser(
        "status",
        help="progress, failures, resources and the resume command of a run (reads only)",
        description="Report a run's progress, failed jobs and their causes, resource use and "
        "the command that resumes it. Give the same --configfile (and --profile) as the run.",
    )
    status.add_argument(
        "--configfile",
        nargs="+",
        default=[],
        metavar="FILE",
        help="config files on top of config/config.yaml, as given to snakemake",
    )
    status.add_argument("--profile", help="the profile the run uses (e.g. profiles/amarel)")
    status.add_argument(
        "--directory",
        "-d",
        type=Path,
        default=Path("."),
        help="the workflow folder (default: the current one)",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    check = commands.add_parser(
        "cluster-check",
        help="before a first run: partitions, account, GPUs, and whether the profile fits",
        description="Print the cluster's partitions and limits (sinfo), your accounts "
        "(sacctmgr), GPU types and node features, and every rule's request in the profile on "
        "every attempt, checked against the partitions. Submits nothing. Exit status 0: all "
        "fit; 1: something does not; 2: SLURM cannot be asked.",
    )
    check.add_argument(
        "--profile", default="profiles/amarel", help="the profile folder (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if args.command == "cluster-check":
        lines, exit_status = cluster_report(args.profile)
        print("\n".join(lines))
        return exit_status
    try:
        config = load_run_config(args.directory, args.configfile)
    except ConfigError as error:
        print(f"ConfigError: {error}", file=sys.stderr)
        return 2
    report = collect_status(args.directory, config, args.configfile, args.profile)
    text = json.dumps(dataclasses.asdict(report), indent=1) + "\n" if args.json else render(report)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # piped into `head` or a closed `less`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
