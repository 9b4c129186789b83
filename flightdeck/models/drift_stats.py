"""Drift statistics for a model in production: is what it sees still what it was trained on?

Pure functions on numbers (numpy, pandas, scipy): no database, no Streamlit. Method:
docs/methods.md, "Monitoring and drift".

Population Stability Index (PSI) per feature against the training profile. A numeric feature's
profile holds the 11 edges of its reference deciles and the 10 reference shares; the outer edges
are open, so values below the first or above the last edge count in the first or last bin, and a
bin is [edge_i, edge_i+1). PSI = Σ (a − e)·ln(a / e) over bins, with e the reference and a the
current shares; a share of zero becomes EPSILON (1e-4) and the shares are renormalised, so an empty
bin adds a large but finite term. Bands: < 0.1 stable, 0.1–0.25 moderate, > 0.25 major (the
conventional credit-scoring bands). PSI needs only counts per bin: `bin_counts` runs at ingest,
counts are summed per window in SQL, and `psi` works on the sums, so the page never reads rows.

PSI is noisy on small samples: with no drift its expected value is about (bins − 1)/n, 0.09 for
100 rows. Below MIN_PSI_ROWS current values a numeric feature is also tested with the two-sample
Kolmogorov–Smirnov test against the profile's reference sample, and its PSI band counts only if
KS finds a difference (p < 0.01). Categorical features use PSI over the reference categories plus
one "other/unseen" bucket (unseen and missing values); prediction drift is the same PSI on the
prediction column's profile. Live performance compares a metric on outcomes that have arrived
with the holdout metric, against a tolerance.

Assumptions: rows within a window are a fair sample of what the model serves; the reference
profile describes the training data; PSI measures how far the distribution moved, not whether the
model got worse (live performance says that, once outcomes arrive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from flightdeck.core.errors import InvalidInput, Problem

__all__ = [
    "EPSILON",
    "MIN_PSI_ROWS",
    "Band",
    "FeatureDrift",
    "KolmogorovSmirnov",
    "PerformanceCheck",
    "PerformanceStatus",
    "Psi",
    "bin_counts",
    "bin_index",
    "categorical_profile",
    "category_index",
    "compare_performance",
    "feature_drift",
    "ks_test",
    "numeric_profile",
    "profile_counts",
    "psi",
    "psi_band",
    "psi_values",
]


BINS = 10
EPSILON = 1e-4
MODERATE, MAJOR = 0.1, 0.25
MIN_PSI_ROWS = 500
KS_ALPHA = 0.01
REFERENCE_SAMPLE = 1000
MAX_CATEGORIES = 20
OTHER = "other/unseen"


class Band(StrEnum):
    STABLE = "stable"
    MODERATE = "moderate"
    MAJOR = "major"


@dataclass(frozen=True)
class Psi:
    value: float  # NaN when there are no current values
    band: Band | None
    n: int
    expected: tuple[float, ...]  # reference shares per bin
    actual: tuple[float, ...]  # current shares per bin


@dataclass(frozen=True)
class KolmogorovSmirnov:
    statistic: float  # largest distance between the two empirical distribution functions
    p_value: float
    n_reference: int
    n_current: int
    drifted: bool  # p < 0.01


@dataclass(frozen=True)
class FeatureDrift:
    """One feature (or the prediction) in one window: the PSI, the KS test where the window is small,
    and the resulting status (None when the window has no values)."""

    feature: str
    kind: str  # "numeric" or "categorical"
    n: int
    psi: Psi
    ks: KolmogorovSmirnov | None
    status: Band | None
    method: str
    summary: str

    @property
    def major(self) -> bool:
        return self.status is Band.MAJOR


class PerformanceStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    TOO_FEW_OUTCOMES = "too few outcomes"


@dataclass(frozen=True)
class PerformanceCheck:
    metric: str
    current: float
    holdout: float
    n_outcomes: int
    worse_by: float  # in the metric's units; positive is worse, whichever way the metric improves
    tolerance: float
    status: PerformanceStatus
    summary: str

    @property
    def degraded(self) -> bool:
        return self.status is PerformanceStatus.DEGRADED


# -- profiles ----------------------------------------------------------------------------------


def numeric_profile(
    values: np.ndarray | Sequence[float] | pd.Series, *, sample_size: int = REFERENCE_SAMPLE, seed: int = 0
) -> dict[str, list[float]]:
    """JSON-able reference profile of a numeric feature: decile edges, the share of reference values
    per bin (by the same binning as the current values, so identical data give PSI 0) and a random
    sample of values for the KS test."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise InvalidInput(Problem("values", "A profile needs at least one numeric value."))
    edges = np.quantile(x, np.linspace(0.0, 1.0, BINS + 1))
    counts = bin_counts(x, edges)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(x, size=min(sample_size, x.size), replace=False))
    return {
        "edges": edges.tolist(),
        "proportions": (counts / counts.sum()).tolist(),
        "sample": sample.tolist(),
    }


def categorical_profile(
    values: np.ndarray | Sequence[Any] | pd.Series, *, max_categories: int = MAX_CATEGORIES
) -> dict[str, list[Any]]:
    """JSON-able reference profile of a categorical feature: its most frequent categories (as text)
    and their shares, plus a last share for everything else (rarer categories and missing values)."""
    text = _as_text(values)
    if len(text) == 0:
        raise InvalidInput(Problem("values", "A profile needs at least one value."))
    categories = text.value_counts(dropna=True).index[:max_categories].tolist()
    counts = np.bincount(category_index(text, categories), minlength=len(categories) + 1)
    return {"categories": categories, "proportions": (counts / counts.sum()).tolist()}


# -- counting (at ingest) ----------------------------------------------------------------------


def bin_index(
    values: np.ndarray | Sequence[float] | pd.Series, edges: Sequence[float] | np.ndarray
) -> np.ndarray:
    """The bin of each value against `edges` (open outer edges), or −1 for a missing value."""
    edges = _edges(edges)
    x = np.asarray(values, dtype=float)
    index = np.searchsorted(edges[1:-1], x, side="right")
    return np.where(np.isnan(x), -1, index)


def category_index(values: np.ndarray | Sequence[Any] | pd.Series, categories: Sequence[str]) -> np.ndarray:
    """The position of each value among `categories`, or len(categories) (the 'other/unseen' bucket)
    for a category the reference did not have and for a missing value."""
    text = _as_text(values)
    codes = pd.Index([str(c) for c in categories]).get_indexer(text).astype(np.int64)
    return np.where(codes < 0, len(categories), codes)


def bin_counts(
    values: np.ndarray | Sequence[float] | pd.Series,
    edges: Sequence[float] | np.ndarray,
    *,
    groups: np.ndarray | None = None,
    n_groups: int | None = None,
) -> np.ndarray:
    """Counts per bin, vectorised. With `groups` (an integer per value, e.g. the day's number) a
    (n_groups × bins) table, so one ingest batch yields the counts of every window it touches.
    Missing values are not counted."""
    return _count(bin_index(values, edges), len(_edges(edges)) - 1, groups, n_groups)


def profile_counts(
    profile: Mapping[str, Any],
    values: np.ndarray | Sequence[Any] | pd.Series,
    *,
    groups: np.ndarray | None = None,
    n_groups: int | None = None,
) -> np.ndarray:
    """Counts of `values` in the buckets of a numeric or categorical profile (see `bin_counts`)."""
    if "edges" in profile:
        return bin_counts(values, profile["edges"], groups=groups, n_groups=n_groups)
    categories = profile["categories"]
    return _count(category_index(values, categories), len(categories) + 1, groups, n_groups)


def _count(index: np.ndarray, buckets: int, groups: np.ndarray | None, n_groups: int | None) -> np.ndarray:
    valid = index >= 0
    if groups is None:
        return np.bincount(index[valid], minlength=buckets).astype(np.int64)
    group = np.asarray(groups, dtype=np.int64)
    if group.shape != index.shape:
        raise InvalidInput(Problem("groups", "Give one group per value."))
    size = int(n_groups if n_groups is not None else (group.max() + 1 if group.size else 0))
    flat = group[valid] * buckets + index[valid]
    return np.bincount(flat, minlength=size * buckets).astype(np.int64).reshape(size, buckets)


def _edges(edges: Sequence[float] | np.ndarray) -> np.ndarray:
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) < 0):
        raise InvalidInput(Problem("edges", "Bin edges must be at least two finite, non-decreasing numbers."))
    return e


def _as_text(values: np.ndarray | Sequence[Any] | pd.Series) -> pd.Series:
    """Categories compared as text (a code logged as 7 or '7' is the same); missing stays missing."""
    series = pd.Series(values, dtype=object)
    return series.astype(str).where(series.notna())


# -- statistics --------------------------------------------------------------------------------


def psi_band(value: float) -> Band | None:
    if not np.isfinite(value):
        return None
    return Band.STABLE if value < MODERATE else Band.MODERATE if value <= MAJOR else Band.MAJOR


def psi_values(
    expected: Sequence[float] | np.ndarray,
    counts: np.ndarray | Sequence[Sequence[float]],
    *,
    epsilon: float = EPSILON,
) -> np.ndarray:
    """PSI of each row of `counts` (windows × bins, e.g. summed per day in SQL) against the reference
    shares `expected`; NaN for a row without values."""
    e = np.asarray(expected, dtype=float)
    a = np.atleast_2d(np.asarray(counts, dtype=float))
    if a.shape[-1] != e.size or np.any(e < 0) or np.any(a < 0) or e.sum() <= 0:
        raise InvalidInput(
            Problem(
                "counts", f"Expected non-negative counts for the profile's {e.size} bins, got {a.shape[-1]}."
            )
        )
    p = _floor_shares(e / e.sum(), epsilon)
    n = a.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = _floor_shares(a / n, epsilon)
        values = np.sum((q - p) * np.log(q / p), axis=1)
    return np.where(n[:, 0] > 0, values, np.nan)


def _floor_shares(shares: np.ndarray, epsilon: float) -> np.ndarray:
    floored = np.maximum(shares, epsilon)
    return floored / floored.sum(axis=-1, keepdims=True)


def psi(
    expected: Sequence[float] | np.ndarray, counts: Sequence[float] | np.ndarray, *, epsilon: float = EPSILON
) -> Psi:
    """PSI of current counts per bin against the reference shares, with its band."""
    a = np.asarray(counts, dtype=float)
    value = float(psi_values(expected, a, epsilon=epsilon)[0])
    n = int(a.sum())
    e = np.asarray(expected, dtype=float)
    actual = a / n if n else np.full(a.size, np.nan)
    return Psi(value, psi_band(value), n, tuple((e / e.sum()).tolist()), tuple(actual.tolist()))


def ks_test(
    reference_sample: Sequence[float] | np.ndarray, current: Sequence[float] | np.ndarray
) -> KolmogorovSmirnov:
    """Two-sample Kolmogorov–Smirnov test (scipy.stats.ks_2samp, two-sided); missing values dropped."""
    ref = np.asarray(reference_sample, dtype=float)
    cur = np.asarray(current, dtype=float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        raise InvalidInput(Problem("values", "The KS test needs reference and current values."))
    result = stats.ks_2samp(ref, cur)
    p = float(result.pvalue)
    return KolmogorovSmirnov(float(result.statistic), p, int(ref.size), int(cur.size), p < KS_ALPHA)


def feature_drift(
    feature: str,
    profile: Mapping[str, Any],
    counts: Sequence[float] | np.ndarray,
    current_values: Sequence[Any] | np.ndarray | pd.Series | None = None,
) -> FeatureDrift:
    """Drift of one feature in one window from its summed counts. For a numeric feature with fewer
    than MIN_PSI_ROWS values, pass the window's raw `current_values` (few, by definition) too: the
    PSI band then counts only if the KS test against the profile's sample finds a difference."""
    numeric = "edges" in profile
    result = psi(profile["proportions"], counts)
    ks = None
    status, method = result.band, "PSI"
    small = 0 < result.n < MIN_PSI_ROWS
    if numeric and small and current_values is not None and profile.get("sample"):
        ks = ks_test(profile["sample"], np.asarray(current_values, dtype=float))
        method = f"PSI, confirmed by the Kolmogorov–Smirnov test (fewer than {MIN_PSI_ROWS} values)"
        status = result.band if ks.drifted else Band.STABLE
    if result.n == 0:
        summary = f"{feature}: no values in this window."
    else:
        summary = (
            f"{feature}: PSI {result.value:.2f} on {result.n:,} values, {status.value if status else ''}"
        )
        if ks is not None:
            summary += f" (KS p = {ks.p_value:.2g})"
        elif small:
            summary += f"; fewer than {MIN_PSI_ROWS} values, so treat the band with care"
        summary += "."
    kind = "numeric" if numeric else "categorical"
    return FeatureDrift(feature, kind, result.n, result, ks, status, method, summary)


def compare_performance(
    metric: str,
    current: float,
    holdout: float,
    *,
    n_outcomes: int,
    higher_is_better: bool = True,
    tolerance: float = 0.05,
    min_outcomes: int = 100,
) -> PerformanceCheck:
    """Live metric on outcomes that have arrived against the holdout metric: degraded when it is
    worse by more than `tolerance` (in the metric's units, e.g. 0.05 of AUC), judged only once
    `min_outcomes` outcomes exist (a metric on a handful of outcomes is mostly noise)."""
    if tolerance < 0:
        raise InvalidInput(Problem("tolerance", "The tolerance cannot be negative."))
    worse_by = (holdout - current) if higher_is_better else (current - holdout)
    if n_outcomes < min_outcomes:
        status = PerformanceStatus.TOO_FEW_OUTCOMES
        verdict = f"too few outcomes to judge yet (needs {min_outcomes:,})"
    elif worse_by > tolerance:
        status = PerformanceStatus.DEGRADED
        verdict = f"{abs(worse_by):.3g} worse, beyond the {tolerance:g} tolerance: degraded"
    else:
        status = PerformanceStatus.OK
        change = "worse" if worse_by > 0 else "better"
        verdict = f"{abs(worse_by):.3g} {change}, within the {tolerance:g} tolerance"
    summary = (
        f"{metric} is {current:.3g} on {n_outcomes:,} outcomes, {holdout:.3g} on the holdout: {verdict}."
    )
    return PerformanceCheck(
        metric, float(current), float(holdout), int(n_outcomes), float(worse_by), tolerance, status, summary
    )
