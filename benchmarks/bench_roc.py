"""ROC page performance: our from-scratch curves against scikit-learn on a
million scores (same run, same data, outputs checked equal), the vectorised
bootstrap, and the page's rerun time after a threshold move (AppTest, which
runs app.py, the shared sidebar and the page; so it is an upper bound on the
server's own script time)."""

from __future__ import annotations

import statistics
import time

import numpy as np
from sklearn import metrics as skm

from benchmarks.timing import best_of
from core import roc

N = 1_000_000


def _curves(repeats: int) -> dict:
    rng = np.random.default_rng(0)
    y = (rng.random(N) < 0.1).astype(np.int64)
    out = {}
    for name, s in (("continuous", rng.standard_normal(N) + y),
                    ("ties_1000_levels", np.round(rng.random(N) + 0.3 * y, 3))):
        ours = roc.roc_curve(y, s)
        ref = skm.roc_curve(y, s, drop_intermediate=False)
        identical = all(np.array_equal(a, b) for a, b in zip(ours, ref, strict=True))
        t_ours = best_of(lambda s=s: roc.roc_curve(y, s), repeats)
        t_ref = best_of(lambda s=s: skm.roc_curve(y, s, drop_intermediate=False), repeats)
        t_ref_default = best_of(lambda s=s: skm.roc_curve(y, s), repeats)
        t_auc = best_of(lambda s=s: roc.roc_auc(y, s), repeats)
        t_auc_ref = best_of(lambda s=s: skm.roc_auc_score(y, s), repeats)
        t_ap = best_of(lambda s=s: roc.average_precision(y, s), repeats)
        t_ap_ref = best_of(lambda s=s: skm.average_precision_score(y, s), repeats)
        out[name] = {
            "points": len(ours[0]),
            "identical_to_sklearn": identical,
            "roc_curve_s": round(t_ours, 4),
            "sklearn_roc_curve_s": round(t_ref, 4),
            "ratio_ours_over_sklearn": round(t_ours / t_ref, 3),
            "sklearn_roc_curve_drop_intermediate_s": round(t_ref_default, 4),
            "roc_auc_s": round(t_auc, 4),
            "ratio_roc_auc_over_sklearn": round(t_auc / t_auc_ref, 3),
            "average_precision_s": round(t_ap, 4),
            "ratio_ap_over_sklearn": round(t_ap / t_ap_ref, 3),
        }
    return out


def _bootstrap() -> dict:
    out = {}
    for n in (2_000, 20_000):
        rng = np.random.default_rng(1)
        y = (rng.random(n) < 0.1).astype(int)
        s = rng.standard_normal(n) + y
        out[f"n{n}_1000_resamples_s"] = round(best_of(lambda y=y, s=s: roc.bootstrap_auc_ap(y, s, 1000), 2), 3)
    return out


def _reruns(params: dict[str, str], slider_key: str, values: list[float]) -> dict:
    from tests.conftest import open_page

    at = open_page("pages/roc.py", params)
    assert not at.exception, [e.value for e in at.exception]
    at.slider(key=slider_key).set_value(values[0]).run()  # warm the caches
    times = []
    for v in values[1:]:
        at.slider(key=slider_key).set_value(v)
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, [e.value for e in at.exception]
    return {"median_ms": round(1000 * statistics.median(times), 1), "best_ms": round(1000 * min(times), 1),
            "reruns": len(times)}


def _page() -> dict:
    from tests.conftest import open_page

    home = open_page("pages/home.py")
    shell = []
    for _ in range(10):
        start = time.perf_counter()
        home.run()
        shell.append(time.perf_counter() - start)
    grid = [round(0.5 + 0.05 * i, 2) for i in range(16)]
    return {
        "home_page_rerun_median_ms (the shell alone, for reference)": round(1000 * statistics.median(shell), 1),
        "synthetic_n2000": _reruns({}, "roc:threshold", grid),
        "synthetic_n20000": _reruns({"sample_size": "20000"}, "roc:threshold", grid),
        "classifiers_n4000": _reruns({"source": "models"}, "roc:model_threshold", [round(0.2 + 0.02 * i, 2) for i in range(16)]),
    }


def run() -> dict:
    return {
        "note": "ratios are measured in one run on the same data; the machine may be shared",
        "roc_curve_1M": _curves(repeats=5),
        "bootstrap": _bootstrap(),
        "page_rerun_after_threshold_move": _page(),
    }
