"""Command line: ``python -m lenspipe status``, ``python -m lenspipe cluster-check`` and
``python -m lenspipe predict`` (see ``--help`` of each)."""

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from lenspipe.errors import ConfigError
from lenspipe.evaluation.image_files import BAND_AXES
from lenspipe.learning.variants import MAIN_MODEL, MODELS
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
    status.add_argument("--profile", help="the profile the run uses (e.g. profiles/amarel)")
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
    predict = commands.add_parser(
        "predict",
        help="a trained model's lens parameters for images of your own",
        description="Predict the lens parameters of images from outside the run (another "
        "simulator's, or real cutouts) with a model the run trained, as its test lenses are "
        "predicted: the run's normalisation, the average over the 8 flips and rotations, and "
        "its calibrated uncertainties. The images must be in the run's units (counts per "
        "second per pixel) on its pixel grid. Writes one CSV row per image.",
    )
    predict.add_argument(
        "--images",
        type=Path,
        required=True,
        help=".npy or FITS file (every image extension, .fits.fz too): one image (H, W), N "
        "images (N, H, W), or (N, H, W, bands)",
    )
    predict.add_argument(
        "--band-axis",
        choices=BAND_AXES,
        default="last",
        help="where the bands are: after the pixels (default) or first, as in a FITS cube "
        "(bands, H, W) or (N, bands, H, W); with 'first', a FITS file's extensions are bands",
    )
    predict.add_argument("--out", type=Path, required=True, help="the CSV to write (new)")
    predict.add_argument(
        "--model", default=MAIN_MODEL, choices=sorted(MODELS), help="default: %(default)s"
    )
    predict.add_argument(
        "--refine",
        action="store_true",
        help="then fit each image with lenstronomy from the CNN's prediction, with the run's "
        "PSF and noise model (the run's refine settings; about 1-2 s an image per worker)",
    )
    predict.add_argument(
        "--workers", type=int, default=1, help="processes that refine (default: %(default)s)"
    )
    for command in (status, predict):
        command.add_argument(
            "--configfile",
            nargs="+",
            default=[],
            metavar="FILE",
            help="config files on top of config/config.yaml, as given to snakemake",
        )
        command.add_argument(
            "--directory",
            "-d",
            type=Path,
            default=Path("."),
            help="the workflow folder (default: the current one)",
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
    if args.command == "predict":
        return _predict(args, config)
    report = collect_status(args.directory, config, args.configfile, args.profile)
    text = json.dumps(dataclasses.asdict(report), indent=1) + "\n" if args.json else render(report)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # piped into `head` or a closed `less`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _predict(args: argparse.Namespace, config: dict) -> int:
    """``predict``: write the predictions, or say what is wrong (exit status 2)."""
    from lenspipe.runs.predict_run import predict_run_images

    if args.workers < 1:
        print(f"error: --workers {args.workers}: expected 1 or more", file=sys.stderr)
        return 2
    try:
        count = predict_run_images(
            args.images,
            config,
            args.directory,
            args.model,
            args.out,
            refine=args.refine,
            workers=args.workers,
            band_axis=args.band_axis,
            progress=sys.stderr if args.refine else None,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    what = "refined predictions" if args.refine else "predictions"
    print(f"{args.out}: the {args.model} model's {what} for {count} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
