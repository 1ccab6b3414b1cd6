"""Every figure of the app in one run: ``python3 -m benchmarks``.

    python3 -m benchmarks                 # everything (about 20-30 minutes on 2 cores)
    python3 -m benchmarks gan roc         # only these bench_<name>.py, no class
    python3 -m benchmarks --no-class      # every bench_<name>.py, without the classroom load test

Runs every ``benchmarks/bench_<name>.py`` (the page issues' figures: engines
against references, live trainers headless and through their page, what
Chromium shows, time to first content per page, memory), then the classroom
load test over all eight pages (30 students, 5 of them training, 60 s, on a
fresh server started by the test). Prints the JSON report and writes
``benchmarks/RESULTS.md``: the machine, the load average before and after
(other work on the machine shows there: compare figures from one run only),
the class's targets, and every figure as a flat table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

from benchmarks import classroom
from benchmarks import run as runner

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


def _flat(value, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        rows = []
        for key, item in value.items():
            rows += _flat(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
        rows = []
        for i, item in enumerate(value):
            rows += _flat(item, f"{prefix}[{i}]")
        return rows
    return [(prefix, value)]


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text.replace("|", "\\|")[:200]


def write_results(report: dict, path: Path = RESULTS) -> None:
    m = report["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python3 -m benchmarks` on {report['finished']} in {report['seconds']:.0f} s.",
        "",
        f"Machine: {m['cpus']} CPUs, {m['device']}, Python {m['python']}, torch {m['torch']}, {m['platform']}; "
        f"load average {m['load_before']} before, {m['load_after']} after (other work on the machine shows "
        "there: compare figures from the same run only).",
        "",
    ]
    cls = report.get("classroom")
    if cls:
        lines += ["## The class (30 students, 5 training, all eight pages)", "",
                  "| target | measured | target value | holds |", "|---|---|---|---|"]
        for name, t in cls.get("targets", {}).items():
            measured = next((v for k, v in t.items() if k not in ("target", "met")), None)
            lines.append(f"| {name} | {_cell(measured)} | {_cell(t.get('target'))} | {t.get('met')} |")
        lines.append("")
    for name, result in report["results"].items():
        lines += [f"## {name}", "", "| figure | value |", "|---|---|"]
        lines += [f"| {k} | {_cell(v)} |" for k, v in _flat(result)]
        lines.append("")
    if cls:
        lines += ["## classroom (every figure)", "", "| figure | value |", "|---|---|"]
        lines += [f"| {k} | {_cell(v)} |" for k, v in _flat({k: v for k, v in cls.items() if k != "errors"})]
        lines += ["", f"Errors seen by students: {cls.get('error_count')}", ""]
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python3 -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"only these benchmarks, of {runner.available()} (then no class)")
    ap.add_argument("--no-class", action="store_true", help="leave out the classroom load test")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where to write the Markdown results")
    args = ap.parse_args(argv)
    start = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()]
    report = runner.main(args.names)
    report["machine"].update(platform=platform.platform(), load_before=load_before)
    if not args.names and not args.no_class:
        print("[classroom: 30 students, 5 training, 60 s, all eight pages]", file=sys.stderr)
        report["classroom"] = classroom.main(["--students", "30", "--training", "5", "--seconds", "60",
                                              "--warmup", "home"])
    report["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.monotonic() - start, 1)
    report["finished"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    write_results(report, args.out)
    print(f"[written: {args.out}]", file=sys.stderr)
    return report


if __name__ == "__main__":
    print(json.dumps(main(), indent=2, default=str))
