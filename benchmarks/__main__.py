"""Every figure of the app in one run: ``python3 -m benchmarks``.

    python3 -m benchmarks                 # everything (about 40 minutes on 2 cores)
    python3 -m benchmarks gan roc         # only these bench_<name>.py, no class
    python3 -m benchmarks --no-class      # every bench_<name>.py, without the classroom load test

Runs the classroom load test over all eight pages (30 students, 5 of them
training, 60 s) first, then every ``benchmarks/bench_<name>.py`` (the page
issues' figures: engines against references, live trainers headless and
through their page, what Chromium shows, time to first content per page,
memory). The class goes first because it is the figure most sensitive to
other work on the machine: after half an hour of benchmarks (Chromium,
servers, worker processes winding down) it measured 2-5 times worse than the
same class run alone. It runs three ways: a fresh server whose first visitor opened only the home page; a server
on which every page was opened once before the class (what a teacher who tries
the pages first gets); and two server processes behind nginx on the same
machine (``benchmarks/replicas.py``, deploy/nginx.conf: one process per core). Prints the JSON report and writes
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
    classes = report.get("classes", {})
    if classes:
        names = list(classes)
        loads = ", ".join(f"{n}: {classes[n].get('load_average_before')}" for n in names)
        lines += ["## The class (30 students, 5 training, all eight pages)", "",
                  f"Run first, before the other benchmarks; load average (1 min) before each way: {loads}.", "",
                  "| target | " + " | ".join(names) + " | target value |",
                  "|---|" + "---|" * (len(names) + 1)]
        for target in TARGET_ROWS:
            row = [classes[n].get(target) for n in names]
            lines.append(f"| {target} | " + " | ".join(_cell(v) for v in row) + f" | {_cell(TARGET_ROWS[target])} |")
        lines += ["", "Slider reruns per page, each way (p50 / p95 s):", "",
                  "| page | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        pages = sorted({p for n in names for p in classes[n].get("pages", {})})
        for page in pages:
            cells = []
            for n in names:
                st = classes[n].get("pages", {}).get(page)
                cells.append(f"{st['p50_s']} / {st['p95_s']}" if st else "")
            lines.append(f"| {page} | " + " | ".join(cells) + " |")
        lines.append("")
    for name, result in report["results"].items():
        lines += [f"## {name}", "", "| figure | value |", "|---|---|"]
        lines += [f"| {k} | {_cell(v)} |" for k, v in _flat(result)]
        lines.append("")
    for key in ("classroom_fresh", "classroom_warm", "classroom_two_processes"):
        run = report.get(key)
        if run:
            lines += [f"## {key} (every figure)", "", "| figure | value |", "|---|---|"]
            lines += [f"| {k} | {_cell(v)} |" for k, v in _flat({k: v for k, v in run.items() if k != "errors"})]
            lines += ["", f"Errors seen by students: {run.get('error_count')}", ""]
    path.write_text("\n".join(lines))


STUDENTS = 30
CLASS = ["--students", str(STUDENTS), "--training", "5", "--seconds", "60"]
_T = classroom.TARGETS  # issue 11's targets for a class on this 2-core machine
TARGET_ROWS = {
    "analytic_rerun_p50_s_worst_page": _T["rerun_p50_s"], "analytic_rerun_p95_s_worst_page": _T["rerun_p95_s"],
    "open_p95_s": _T["open_p95_s"], "training_updates_per_s_lowest": _T["updates_per_s_min"], "errors": 0,
    "server_rss_mb_peak_all_processes": _T["rss_mb_base"] + _T["rss_mb_per_student"] * STUDENTS,
}


def _from_classroom(r: dict) -> dict:
    pages = {name: v["rerun"] for name, v in r["pages"].items() if v["rerun"]["n"]}
    return {
        "analytic_rerun_p50_s_worst_page": max(v["p50_s"] for v in pages.values()),
        "analytic_rerun_p95_s_worst_page": max(v["p95_s"] for v in pages.values()),
        "open_p95_s": r["open"]["p95_s"],
        "training_updates_per_s_lowest": min(t["updates_per_s"] for t in r["training"]),
        "errors": r["error_count"],
        "server_rss_mb_peak_all_processes": r["server"]["rss_mb_peak"],  # the server and its worker processes
        "pages": pages,
    }


def _from_replicas(r: dict) -> dict:
    overall = r["latency"]["overall"]
    return {
        "analytic_rerun_p50_s_worst_page": max(v["p50_s"] for v in r["latency"]["per_replica"].values()),
        "analytic_rerun_p95_s_worst_page": max(v["p95_s"] for v in r["latency"]["per_replica"].values()),
        "open_p95_s": r["open"]["p95_s"],
        "training_updates_per_s_lowest": min(t["updates_per_s"] for t in r["training"]),
        "errors": r["error_count"],
        "server_rss_mb_peak_all_processes": round(sum(x["rss_mb_peak"] for x in r["replicas"]), 1),
        "pages": {"all pages (per replica: the worst)": overall},
    }


def classes(report: dict) -> dict:
    """The class over all eight pages, three ways; every figure goes into the report."""
    from benchmarks import replicas

    out = {}
    runs = (("fresh server (warm-up: home)", "classroom_fresh", lambda: classroom.main(CLASS + ["--warmup", "home"]),
             _from_classroom),
            ("every page opened once before", "classroom_warm", lambda: classroom.main(CLASS + ["--warmup"]),
             _from_classroom),
            ("2 processes behind nginx", "classroom_two_processes",
             lambda: replicas.main(["--replicas", "2", *CLASS, "--uploads", "1", "--kill-at", "0", "--no-blip",
                                    "--balance"]),
             _from_replicas))
    for title, key, run, summary in runs:
        print(f"[classroom: 30 students, 5 training, 60 s, all eight pages: {title}]", file=sys.stderr)
        load = round(os.getloadavg()[0], 2)
        result = run()
        report[key] = result
        out[title] = {**summary(result), "load_average_before": load}
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python3 -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"only these benchmarks, of {runner.available()} (then no class)")
    ap.add_argument("--no-class", action="store_true", help="leave out the classroom load test")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where to write the Markdown results")
    args = ap.parse_args(argv)
    start = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()]
    class_runs: dict = {}
    class_summary = classes(class_runs) if not args.names and not args.no_class else None
    report = runner.main(args.names)
    report["machine"].update(platform=platform.platform(), load_before=load_before)
    if class_summary is not None:
        report.update(class_runs)
        report["classes"] = class_summary
    report["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.monotonic() - start, 1)
    report["finished"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    write_results(report, args.out)
    print(f"[written: {args.out}]", file=sys.stderr)
    return report


if __name__ == "__main__":
    print(json.dumps(main(), indent=2, default=str))
