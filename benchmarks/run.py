"""Print the app's performance figures as JSON.

    python3 -m benchmarks.run              # every benchmark
    python3 -m benchmarks.run roc gan      # only bench_roc.py and bench_gan.py

Each ``benchmarks/bench_<name>.py`` defines ``run() -> dict`` returning plain
numbers. Figures that compare two things (ours vs a reference, setting on vs
off) are measured in the same run and reported as ratios too: these machines
are noisy, and a ratio from one run is what stays meaningful.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(names: list[str]) -> dict:
    import torch

    from core.device import configure_threads, describe

    configure_threads()
    chosen = names or available()
    unknown = sorted(set(chosen) - set(available()))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; available: {available()}")
    report = {
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpus": os.cpu_count(),
            "device": describe().label,
        },
        "results": {},
    }
    for name in chosen:
        start = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{name}")
        result = module.run()
        result["benchmark_seconds"] = round(time.perf_counter() - start, 2)
        report["results"][name] = result
        print(f"[{name} done in {result['benchmark_seconds']} s]", file=sys.stderr)
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
