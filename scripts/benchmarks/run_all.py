"""Run lenspipe's benchmark suite and print one table of medians and ratios.

    bash scripts/bench.sh            # the full suite (about 25 minutes on 2 cores)
    bash scripts/bench.sh --quick    # small sizes, to check the suite runs (targets not judged)
    bash scripts/bench.sh --rows 1q  # only the named rows (1: simulation cost, 1q: with a quasar,
                                     # 6: the local default end to end)

A full run also writes results/benchmarks/results.json; each benchmark replaces only its own folder
there, so other results (the science benchmark's) stay. Timings are not tests: they depend on
the machine and on what else it is doing, so each ratio is measured within one run.
"""

import argparse
import datetime
from pathlib import Path

import end_to_end
import rendering_accuracy
import scale
import simulation_overhead
import status_speed
import training_input
from common import REPO, Row, machine, write_json


def format_table(rows: list[Row]) -> str:
    header = ("benchmark", "measured", "baseline", "ratio", "target", "met")
    lines = [
        (
            row.benchmark,
            row.measured,
            row.baseline,
            "" if row.ratio is None else f"{row.ratio:.2f}",
            row.target,
            {True: "yes", False: "NO", None: "-"}[row.met],
        )
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines)]

    def format_line(cells: tuple) -> str:
        return (
            "| " + " | ".join(str(cell).ljust(width) for cell, width in zip(cells, widths)) + " |"
        )

    rule = "|".join("-" * (width + 2) for width in widths)
    return "\n".join([format_line(header), f"|{rule}|", *map(format_line, lines)])


def unjudged_if(quick: bool, rows: list[Row]) -> list[Row]:
    """``rows``, with no target judged when ``quick``: small sizes say nothing about them."""
    if quick:
        for row in rows:
            row.met = None
    return rows


def only_rows(names: list[str], out: Path, quick: bool) -> list[Row]:
    """The rows of ``--rows``: benchmark 1's rows by name and the end-to-end run (6)."""
    rows = []
    simulation_rows = tuple(name for name in names if name != "6")
    if simulation_rows:
        rows += simulation_overhead.run(quick, simulation_rows)
    if "6" in names:
        rows += end_to_end.run(out / "end_to_end", quick)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; targets not judged")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "benchmarks")
    parser.add_argument("--rows", nargs="+", choices=("1", "1q", "6"), help="run only these rows")
    arguments = parser.parse_args()
    out = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    quick = arguments.quick
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"lenspipe benchmarks, {stamp}, {machine()}{' (quick)' if quick else ''}", flush=True)
    if arguments.rows:
        print(format_table(unjudged_if(quick, only_rows(arguments.rows, out, quick))))
        return
    chunk_size = 2_000 if quick else 10_000

    rows = simulation_overhead.run(quick)
    hundred_k, scale_dir = scale.simulate_and_consolidate(
        out / "scale", 10 * chunk_size, chunk_size, "2a"
    )
    rows.append(hundred_k)
    one_chunk_per_core, _ = scale.simulate_and_consolidate(
        out / "scale_per_core", 10 * chunk_size, 5 * chunk_size, "2b"
    )
    rows.append(one_chunk_per_core)
    rows.append(scale.fan_out(out / "fan_out", 4, 1_000 if quick else 10_000))
    rows += scale.consolidation(scale_dir, chunk_size)
    store = scale_dir / "results/scale/lenses.zarr"
    rows += training_input.run(store, 500 if quick else 2_000)
    rows += end_to_end.run(out / "end_to_end", quick)
    rows += status_speed.run(out / "status", scale_dir, 10 * chunk_size)
    accuracy_rows, accuracy_table = rendering_accuracy.run(quick)
    rows += accuracy_rows

    rows = unjudged_if(quick, rows)
    print(format_table(rows))
    print(accuracy_table)
    write_json(rows, out / "results.json")


if __name__ == "__main__":
    main()
