"""Shannon information in a few NumPy functions: entropy, cross-entropy, KL, JS.

Every function takes array-likes (probabilities, or non-negative counts that
it normalises, as ``scipy.stats.entropy`` does) and returns a Python float in
the unit set by ``base``: 2 gives bits, ``math.e`` gives nats.

Conventions, the ones information theory uses:

- ``0 log 0 = 0``: an outcome that P never produces costs nothing;
- ``KL(P || Q) = inf`` (and ``H(P, Q) = inf``) where Q gives probability 0
  to an outcome that P can produce: a code built for Q has no word for it;
- negative entries, empty or non-finite inputs, all-zero inputs and P, Q of
  different shapes raise ``ValueError`` with a message saying which.

>>> round(entropy([2, 3, 4]), 2)          # the seed's bin of balls, in bits
1.53
>>> round(cross_entropy([0, 1, 0], [0.15, 0.60, 0.25]), 3)
0.737
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.params import Param, ParamTable

BITS = 2.0
NATS = math.e


def log_base(base: float) -> float:
    """``ln(base)``, after checking that ``base`` can be a logarithm base."""
    base = float(base)
    if not (math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base must be a positive number other than 1 (2 for bits, e for nats), got {base!r}")
    return math.log(base)


def nats_to(unit: str) -> float:
    """Factor that turns nats into ``unit`` ("bits" or "nats"): 1 / ln 2 for bits."""
    return 1.0 / math.log(2) if unit == "bits" else 1.0


def _to_array(values, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a flat list of numbers, got {values!r}") from None


def as_distribution(values, name: str = "p") -> np.ndarray:
    """``values`` as a 1-D float array of probabilities summing to 1.

    Non-negative counts or weights are divided by their sum. Raises
    ``ValueError`` (naming ``name``) on an empty, non-1-D, non-finite,
    negative or all-zero input.
    """
    arr = _to_array(values, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one number per outcome), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: it needs at least one outcome")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has a value that is not a finite number")
    if np.any(arr < 0):
        i = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(
            f"{name} has a negative entry ({arr[i]:g} for outcome {i + 1}): "
            "probabilities and counts cannot be negative"
        )
    top = arr.max()
    if top <= 0:
        raise ValueError(f"{name} is all zeros: at least one outcome needs a positive probability")
    # Divide by the largest entry first: the sum of huge counts (1e308 + 1e308) would overflow to
    # infinity and every probability would become 0; after it the sum lies between 1 and the length.
    scaled = arr / top
    return scaled / scaled.sum()


def total_weight(values) -> tuple[float, int]:
    """The sum of non-negative ``values`` as (mantissa, power of ten), without overflow.

    ``sum([1e308, 1e308])`` is ``inf`` in floating point; this gives ``(2.0, 308)``.
    Returns ``(0.0, 0)`` for all zeros.
    """
    arr = _to_array(values, "values")
    top = float(arr.max()) if arr.size else 0.0
    if top <= 0:
        return 0.0, 0
    power = math.floor(math.log10(top))
    half = power // 2  # two steps: 10.0 ** power itself overflows or loses digits near the float limits
    mantissa = top / 10.0 ** half / 10.0 ** (power - half) * float((arr / top).sum())
    while mantissa >= 10:
        mantissa, power = mantissa / 10, power + 1
    while mantissa < 1:
        mantissa, power = mantissa * 10, power - 1
    return mantissa, power


def _pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    p_arr, q_arr = _to_array(p, "P"), _to_array(q, "Q")
    if p_arr.shape != q_arr.shape:
        raise ValueError(
            f"P and Q must have the same number of outcomes, got shapes {p_arr.shape} and {q_arr.shape}"
        )
    return as_distribution(p_arr, "P"), as_distribution(q_arr, "Q")


def information_content(p, base: float = BITS) -> np.ndarray:
    """Surprise ``-log p`` of each outcome (``inf`` for an impossible one)."""
    ln_b = log_base(base)
    probs = as_distribution(p, "p")
    with np.errstate(divide="ignore"):
        return -np.log(probs) / ln_b


def entropy(p, base: float = BITS) -> float:
    """Shannon entropy ``H(P) = -sum p log p``: the average surprise of P.

    >>> entropy([0.5, 0.5])
    1.0
    """
    ln_b = log_base(base)
    probs = as_distribution(p, "P")
    nz = probs[probs > 0]
    return float(-(nz * np.log(nz)).sum() / ln_b) + 0.0  # + 0.0 turns -0.0 into 0.0


def cross_entropy_terms(p, q, base: float = BITS) -> np.ndarray:
    """Each outcome's share ``-p log q`` of ``H(P, Q)`` (0 where p = 0)."""
    ln_b = log_base(base)
    probs, qs = _pair(p, q)
    out = np.zeros_like(probs)
    on = probs > 0
    with np.errstate(divide="ignore"):
        out[on] = -probs[on] * np.log(qs[on]) / ln_b
    return out


def cross_entropy(p, q, base: float = BITS) -> float:
    """Cross-entropy ``H(P, Q) = -sum p log q``: the average code length when
    outcomes come from P but the code was built for Q. ``inf`` where q = 0 < p.

    >>> round(cross_entropy([0, 1, 0], [0.05, 0.90, 0.05]), 2)
    0.15
    """
    return float(cross_entropy_terms(p, q, base).sum())


def kl_terms(p, q, base: float = BITS) -> np.ndarray:
    """Each outcome's share ``p log(p / q)`` of ``KL(P || Q)`` (may be negative)."""
    ln_b = log_base(base)
    probs, qs = _pair(p, q)
    out = np.zeros_like(probs)
    on = probs > 0
    with np.errstate(divide="ignore"):
        out[on] = probs[on] * (np.log(probs[on]) - np.log(qs[on])) / ln_b
    return out


def kl_divergence(p, q, base: float = BITS) -> float:
    """Kullback-Leibler divergence ``KL(P || Q) = sum p log(p / q) = H(P, Q) - H(P)``.

    The extra code length paid for using Q's code on P's outcomes; 0 only when
    P = Q, ``inf`` where Q gives 0 to an outcome P can produce. Not symmetric.
    """
    terms = kl_terms(p, q, base)
    if np.isinf(terms).any():
        return math.inf
    return float(max(terms.sum(), 0.0))  # rounding can leave -1e-17 for P = Q


def js_divergence(p, q, base: float = BITS) -> float:
    """Jensen-Shannon divergence: the mean KL of P and Q to their average M.

    Symmetric and always finite: at most 1 bit (ln 2 nats).
    """
    probs, qs = _pair(p, q)
    m = 0.5 * (probs + qs)
    return float(max(0.5 * kl_divergence(probs, m, base) + 0.5 * kl_divergence(qs, m, base), 0.0))


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """``softmax(z / T)`` along the last axis; T > 1 softens, T < 1 sharpens.

    ``-inf`` logits get probability 0 (so ``softmax(log q, T)`` keeps q's zeros).

    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    """
    t = float(temperature)
    if not (math.isfinite(t) and t > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    z = np.asarray(logits, dtype=float)
    if z.size == 0:
        raise ValueError("logits is empty")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("logits must be finite numbers (or -inf for an impossible outcome)")
    top = np.max(z, axis=-1, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError("logits: every outcome is -inf, so no outcome is possible")
    e = np.exp((z - top) / t)
    return e / e.sum(axis=-1, keepdims=True)


def binary_entropy(p, base: float = BITS) -> np.ndarray:
    """``H(p) = -p log p - (1-p) log(1-p)`` for each p in [0, 1], elementwise."""
    ln_b = log_base(base)
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("binary_entropy needs probabilities between 0 and 1")
    out = np.zeros_like(p)
    for part in (p, 1.0 - p):
        on = part > 0
        out[on] -= part[on] * np.log(part[on])
    return out / ln_b


def sharpen(q, temperature: float) -> np.ndarray:
    """Q raised to the power ``1/T`` and renormalised: ``softmax(log q / T)``.

    T = 1 leaves Q unchanged, T > 1 flattens it towards uniform, T < 1 makes
    it peakier; zeros stay zeros.
    """
    qs = as_distribution(q, "Q")
    with np.errstate(divide="ignore"):
        return softmax(np.log(qs), temperature)


@dataclass(frozen=True)
class Comparison:
    """Everything Part A of the page shows about a pair (P, Q), in one unit."""

    p: np.ndarray
    q: np.ndarray
    unit: str  # "bits" or "nats"
    h_p: float
    h_q: float
    h_pq: float  # H(P, Q)
    h_qp: float  # H(Q, P)
    kl_pq: float
    kl_qp: float
    js: float
    surprise_p: np.ndarray  # -log p per outcome
    surprise_q: np.ndarray  # -log q per outcome
    ce_terms: np.ndarray  # -p log q per outcome: sums to H(P, Q)
    h_terms: np.ndarray  # -p log p per outcome: sums to H(P)
    kl_pq_terms: np.ndarray  # p log(p/q) per outcome: sums to KL(P || Q)

    @property
    def missing_in_q(self) -> np.ndarray:
        """Outcomes P can produce that Q calls impossible (they make KL(P||Q) infinite)."""
        return np.flatnonzero((self.p > 0) & (self.q == 0))

    @property
    def missing_in_p(self) -> np.ndarray:
        """Outcomes Q can produce that P calls impossible (they make KL(Q||P) infinite)."""
        return np.flatnonzero((self.q > 0) & (self.p == 0))


def compare(p, q, unit: str = "bits") -> Comparison:
    """All of Part A's numbers for P and Q (counts are normalised first)."""
    if unit not in ("bits", "nats"):
        raise ValueError(f"unit must be 'bits' or 'nats', got {unit!r}")
    base = BITS if unit == "bits" else NATS
    probs, qs = _pair(p, q)
    return Comparison(
        p=probs,
        q=qs,
        unit=unit,
        h_p=entropy(probs, base),
        h_q=entropy(qs, base),
        h_pq=cross_entropy(probs, qs, base),
        h_qp=cross_entropy(qs, probs, base),
        kl_pq=kl_divergence(probs, qs, base),
        kl_qp=kl_divergence(qs, probs, base),
        js=js_divergence(probs, qs, base),
        surprise_p=information_content(probs, base),
        surprise_q=information_content(qs, base),
        ce_terms=cross_entropy_terms(probs, qs, base),
        h_terms=cross_entropy_terms(probs, probs, base),
        kl_pq_terms=kl_terms(probs, qs, base),
    )


def parse_weights(text: str, name: str = "P") -> np.ndarray:
    """Numbers typed by a learner (``"2, 3, 4"``) as a float array, unnormalised.

    Commas, semicolons or spaces separate them. Raises ``ValueError`` with a
    message fit to show when an entry is not a number, is negative or is not
    finite. Normalisation is left to the caller, who can then say it happened.
    """
    parts = [t for t in text.replace(";", ",").replace(" ", ",").split(",") if t.strip()]
    if not parts:
        raise ValueError(f"{name} is empty: type one number per outcome, for example 2, 3, 4")
    values = []
    for i, token in enumerate(parts, start=1):
        try:
            v = float(token)
        except ValueError:
            raise ValueError(f"{name}: entry {i} ({token.strip()!r}) is not a number") from None
        if not math.isfinite(v):
            raise ValueError(f"{name}: entry {i} ({token.strip()!r}) is not a finite number")
        if v < 0:
            raise ValueError(
                f"{name}: entry {i} is negative ({v:g}). Probabilities and counts cannot be negative"
            )
        values.append(v)
    arr = np.asarray(values, dtype=float)
    if arr.max() <= 0:  # not the sum: 1e308 + 1e308 overflows
        raise ValueError(f"{name} is all zeros: at least one outcome needs a positive weight")
    return arr


MIN_OUTCOMES, MAX_OUTCOMES = 2, 10


def parse_pair(p_text: str, q_text: str) -> tuple[np.ndarray, np.ndarray]:
    """Both typed distributions, checked together (unnormalised weights).

    Raises ``ValueError`` when either entry is invalid (see ``parse_weights``),
    when they have different numbers of outcomes, or when that number is not
    between 2 and 10.
    """
    p = parse_weights(p_text, "P")
    q = parse_weights(q_text, "Q")
    if len(p) != len(q):
        raise ValueError(
            f"P has {len(p)} outcomes but Q has {len(q)}: give both the same number of entries"
        )
    if not MIN_OUTCOMES <= len(p) <= MAX_OUTCOMES:
        raise ValueError(f"use between {MIN_OUTCOMES} and {MAX_OUTCOMES} outcomes, got {len(p)}")
    return p, q


# -- Part A of the entropy page: its presets and its controls ------------------------------
@dataclass(frozen=True)
class Preset:
    title: str
    p: str
    q: str
    labels: tuple[str, ...] | None = None
    note: str = ""


PRESETS: dict[str, Preset] = {
    "bins": Preset(
        "Two bins of balls: P = 2 red, 3 green, 4 blue; Q = 4, 4, 1", "2, 3, 4", "4, 4, 1",
        ("red", "green", "blue"),
        "You draw a ball from bin P. Its entropy, H(P) = 1.53 bits, is the average information one draw "
        "gives you. H(P, Q) is what you pay on average if you encode P's draws with a code built for bin Q.",
    ),
    "guess1": Preset(
        "Classifier: true class B, prediction (0.15, 0.60, 0.25)", "0, 1, 0", "0.15, 0.60, 0.25",
        ("A", "B", "C"),
        "P is the label (all mass on B), Q the classifier's prediction. The cross-entropy loss is "
        "-log₂ 0.60 = 0.737 bits (the seed's notes round it down to 0.736).",
    ),
    "guess2": Preset(
        "Classifier: true class B, confident prediction (0.05, 0.90, 0.05)", "0, 1, 0", "0.05, 0.90, 0.05",
        ("A", "B", "C"),
        "The more confident, correct prediction costs only -log₂ 0.90 = 0.152 bits. Training a classifier "
        "with cross-entropy pushes exactly this number down.",
    ),
    "uniform": Preset(
        "Uniform P (4 outcomes) against a skewed Q", "1, 1, 1, 1", "4, 3, 2, 1", None,
        "A uniform P has the largest entropy possible for 4 outcomes: log₂ 4 = 2 bits.",
    ),
    "onehot": Preset(
        "One-hot P (certain outcome) against a uniform Q", "0, 0, 1, 0", "1, 1, 1, 1", None,
        "A certain outcome carries no information: H(P) = 0, so all of H(P, Q) is KL divergence.",
    ),
    "zero": Preset(
        "Q says an outcome P can produce is impossible", "1, 1, 1", "1, 1, 0", None,
        "Q puts probability 0 on outcome C, which P produces a third of the time.",
    ),
}
Q_TEMPERATURES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 8.0)
UNITS = ("bits", "nats")
UNIT_NAMES = {"bits": "bits (log base 2)", "nats": "nats (natural log)"}

# The controls of the page's first tab and its units (page-level settings, no config dataclass).
PARAMS = ParamTable(None, [
    Param("unit", "Units", "radio", options=UNITS, default="bits", format_func=UNIT_NAMES.get,
          help="1 nat = 1 / ln 2 ≈ 1.443 bits. Losses in machine learning are usually in nats.",
          widget_args={"horizontal": True}),
    Param("preset", "Preset", "selectbox", options=tuple(PRESETS), default="bins",
          format_func=lambda key: PRESETS[key].title),
    Param("p", "P, the true distribution: counts or probabilities, separated by commas", "text",
          url="p_dist", default=PRESETS["bins"].p, old=("p",),
          help="For example 2, 3, 4 (counts) or 0.2, 0.3, 0.5. 2 to 10 entries."),
    Param("q", "Q, the model's distribution (same number of entries)", "text",
          url="q_dist", default=PRESETS["bins"].q, old=("q",)),
    Param("q_temperature", "Flatten or sharpen Q: temperature T", "select_slider", options=Q_TEMPERATURES,
          default=1.0, old=("qt",),
          help="Replaces Q by Q^(1/T), renormalised. T > 1 flattens Q towards uniform, T < 1 makes it peakier; "
               "zeros stay zeros. The same softening as distillation's temperature in the loss lab."),
    Param("heads", "Probability of heads, p", "slider", lo=0.0, hi=1.0, step=0.01, default=0.3,
          url="heads_probability", old=("coin",)),
])
# What choosing a preset (or the restore button) sets: P and Q from the preset, the temperature back to 1.
PRESET_CONTROLS = ParamTable(None, [PARAMS["p"], PARAMS["q"], PARAMS["q_temperature"]])
