"""Evaluation computed by Flightdeck: metrics against a simple baseline, segments, latency, the
value of decision errors across thresholds, and the training-data profile that drift reads later.

Nothing here is typed in by a data scientist: the model is run on a holdout file and measured with
scikit-learn. Holdout, reference and prediction-log files are read with the KPI ingest's readers
and problem reports (`formats.read_table`, `ingest.Findings`), so every upload reports bad rows the
same way. Results are plain JSON (no NaN) so they store in either database as they are.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.models import drift_stats
from flightdeck.tabular import files, formats
from flightdeck.tabular.findings import Findings, cell_texts
from flightdeck.tabular.progress import Progress, silent

NUMERIC_SHARE = 0.9  # a column is numeric when this share of its filled cells read as numbers
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)
MAX_SEGMENTS = 50
MAX_CATEGORIES = 50
RESIDUAL_POINTS = 2000
PROFILE_SAMPLE = 500
QUANTILES = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}


CLASSIFICATION_METRICS = {
    "roc_auc": ("ROC AUC", True),
    "pr_auc": ("PR AUC (average precision)", True),
    "f1": ("F1 at threshold 0.5", True),
    "log_loss": ("Log loss", False),
    "brier": ("Brier score", False),
}


REGRESSION_METRICS = {
    "mae": ("MAE", False),
    "rmse": ("RMSE", False),
    "mape": ("MAPE", False),
    "r2": ("R²", True),
}


def metric_names(task: str) -> dict[str, tuple[str, bool]]:
    """key → (label, higher is better)."""
    return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS


def _num(value: Any) -> float | None:
    """A finite float, or None: JSON has no NaN."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def jsonable(value: Any) -> Any:
    """numpy scalars and arrays as plain Python, NaN and infinities as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _num(value)
    return value


# -- reading tables of features ----------------------------------------------------------------


@dataclass(frozen=True)
class FeatureTable:
    """Parsed feature columns: numbers as float (NaN where blank), categories as text (None where
    blank), with the kind found for each."""

    frame: pd.DataFrame
    kinds: dict[str, str]  # feature → "numeric" | "categorical"


def read_features(
    frame: pd.DataFrame,
    columns: list[str],
    fmt: formats.SourceFormat,
    findings: Findings,
    kinds: dict[str, str] | None = None,
) -> FeatureTable:
    """Parse feature columns with the declared number format. Blank cells are missing values, which
    models and profiles handle. Without given `kinds`, a column whose filled cells mostly read as
    numbers is numeric and its other cells are reported; otherwise it is categorical."""
    parsed: dict[str, Any] = {}
    found: dict[str, str] = {}
    for column in columns:
        cells = cell_texts(frame[column])
        filled = (cells != "").to_numpy()
        numbers = formats.parse_numbers(frame[column], fmt)
        share = numbers.ok[filled].mean() if filled.any() else 1.0
        kind = (kinds or {}).get(column) or ("numeric" if share >= NUMERIC_SHARE else "categorical")
        found[column] = kind
        if kind == "numeric":
            findings.add(filled & ~numbers.ok, column, numbers.reasons)
            parsed[column] = np.where(numbers.ok, numbers.values, np.nan)
        else:
            parsed[column] = np.where(filled, cells.to_numpy(dtype=object), None)
    return FeatureTable(pd.DataFrame(parsed, index=frame.index), found)


def model_input(model: Any, table: pd.DataFrame, features: list[str]) -> Any:
    """What the estimator was fitted on: a frame with its column names, or a plain array."""
    ordered = table[features]
    if hasattr(model, "feature_names_in_"):
        return ordered
    return ordered.to_numpy()


# -- metrics -------------------------------------------------------------------------------------


def classification_metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    """`y` is 1 for the positive class; `scores` the predicted probability of it."""
    both = 0 < y.sum() < len(y)
    clipped = np.clip(scores, 1e-15, 1 - 1e-15)
    return {
        "roc_auc": _num(roc_auc_score(y, scores)) if both else None,
        "pr_auc": _num(average_precision_score(y, scores)) if both else None,
        "f1": _num(f1_score(y, scores >= 0.5, zero_division=0.0)),
        "log_loss": _num(log_loss(y, clipped, labels=[0, 1])),
        "brier": _num(brier_score_loss(y, scores, pos_label=1)),
    }


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    return {
        "mae": _num(mean_absolute_error(y, predicted)),
        "rmse": _num(math.sqrt(mean_squared_error(y, predicted))),
        "mape": _num(mean_absolute_percentage_error(y, predicted)),
        "r2": _num(r2_score(y, predicted)) if len(y) > 1 else None,
    }


def threshold_table(y: np.ndarray, scores: np.ndarray) -> dict[str, list[Any]]:
    """Confusion counts when everyone scoring at or above each threshold is acted on."""
    positives = np.sort(scores[y == 1])
    negatives = np.sort(scores[y == 0])
    tp = len(positives) - np.searchsorted(positives, THRESHOLDS, side="left")
    fp = len(negatives) - np.searchsorted(negatives, THRESHOLDS, side="left")
    return {
        "thresholds": THRESHOLDS.tolist(),
        "tp": tp.tolist(),
        "fp": fp.tolist(),
        "fn": (len(positives) - tp).tolist(),
        "tn": (len(negatives) - fp).tolist(),
    }


def _segments(
    task: str, segments: pd.Series | None, y: np.ndarray, predicted: np.ndarray
) -> list[dict[str, Any]]:
    if segments is None:
        return []
    labels = segments.fillna("(blank)").astype(str).to_numpy()
    names, counts = np.unique(labels, return_counts=True)
    biggest = names[np.argsort(-counts, kind="stable")][:MAX_SEGMENTS]
    measure = classification_metrics if task == "classification" else regression_metrics
    found = []
    for name in sorted(biggest):
        mask = labels == name
        found.append(
            {"segment": str(name), "n": int(mask.sum()), "metrics": measure(y[mask], predicted[mask])}
        )
    return found


def measure_latency(
    predict: Callable[[Any], Any],
    rows: Any,
    single_reps: int = 100,
    batch_reps: int = 10,
    budget_s: float = 1.0,
) -> dict[str, Any]:
    """p50/p95 milliseconds for one row and for batches of 1,000, on this server; stops early
    when a measurement's time budget runs out (a slow model still gets at least 5 samples)."""
    table = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    as_frame = isinstance(rows, pd.DataFrame)
    n = len(table)

    def pick(index: np.ndarray) -> Any:
        part = table.iloc[index]
        return part if as_frame else part.to_numpy()

    predict(pick(np.arange(min(n, 10))))  # warm up caches and thread pools
    results: dict[str, Any] = {}
    for name, size, reps in (("single", 1, single_reps), ("batch_1000", 1000, batch_reps)):
        samples: list[float] = []
        started = time.perf_counter()
        for i in range(reps):
            index = (np.arange(size) + i * size) % n
            chunk = pick(index)
            tick = time.perf_counter()
            predict(chunk)
            samples.append((time.perf_counter() - tick) * 1000)
            if i >= 4 and time.perf_counter() - started > budget_s / 2:
                break
        results[f"{name}_p50_ms"] = float(np.percentile(samples, 50))
        results[f"{name}_p95_ms"] = float(np.percentile(samples, 95))
        results[f"{name}_samples"] = len(samples)
    return results


@dataclass(frozen=True)
class Holdout:
    """A holdout ready to score: inputs, the target (1/0 for classification), segments."""

    inputs: pd.DataFrame
    target: np.ndarray
    segments: pd.Series | None
    segment_column: str


def evaluate(
    model: Any,
    task: str,
    features: list[str],
    holdout: Holdout,
    progress: Progress | None = None,
    latency: bool = True,
) -> dict[str, Any]:
    """Every figure a reviewer needs, from one pass of the model over the holdout."""
    step = progress or silent
    x = model_input(model, holdout.inputs, features)
    y = holdout.target
    n = len(y)
    step(0.35, f"Scoring {n:,} holdout rows")
    result: dict[str, Any] = {"task": task, "rows": n, "segment_column": holdout.segment_column}
    if task == "classification":
        scores = np.asarray(model.predict_proba(x))[:, 1]
        step(0.6, "Computing metrics, the baseline and the calibration")
        prior = DummyClassifier(strategy="prior").fit(np.zeros((n, 1)), y)
        baseline = prior.predict_proba(np.zeros((n, 1)))[:, 1]
        prob_true, prob_pred = calibration_curve(y, scores, n_bins=10, strategy="uniform")
        predicted_positive = scores >= 0.5
        result |= {
            "metrics": classification_metrics(y, scores),
            "baseline": classification_metrics(y, baseline),
            "baseline_name": "DummyClassifier (class prior)",
            "prevalence": float(y.mean()),
            "calibration": {"predicted": prob_pred.tolist(), "observed": prob_true.tolist()},
            "confusion": {
                "tp": int((predicted_positive & (y == 1)).sum()),
                "fp": int((predicted_positive & (y == 0)).sum()),
                "fn": int((~predicted_positive & (y == 1)).sum()),
                "tn": int((~predicted_positive & (y == 0)).sum()),
            },
            "thresholds": threshold_table(y, scores),
        }
        predicted, call = scores, model.predict_proba
    else:
        predicted = np.asarray(model.predict(x), dtype=float)
        step(0.6, "Computing metrics, the baseline and the residuals")
        mean = DummyRegressor(strategy="mean").fit(np.zeros((n, 1)), y)
        pick = np.linspace(0, n - 1, min(n, RESIDUAL_POINTS)).astype(int)
        result |= {
            "metrics": regression_metrics(y, predicted),
            "baseline": regression_metrics(y, mean.predict(np.zeros((n, 1)))),
            "baseline_name": "DummyRegressor (mean of the target)",
            "target_mean": float(y.mean()),
            "residuals": {"predicted": predicted[pick].tolist(), "residual": (y - predicted)[pick].tolist()},
        }
        call = model.predict
    result["segments"] = _segments(task, holdout.segments, y, predicted)
    if latency:
        step(0.75, "Measuring latency for single rows and batches of 1,000")
        result["latency"] = measure_latency(call, x)
    return jsonable(result)


# -- value of errors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorValues:
    """Money per decision, as the business owner states it (a cost is negative)."""

    tp: float
    fp: float
    fn: float
    tn: float
    currency: str = "EUR"


@dataclass(frozen=True)
class ValueCurve:
    thresholds: tuple[float, ...]
    per_1000: tuple[float, ...]
    best_threshold: float
    best_value: float
    baseline_value: float
    baseline_policy: str  # what a model that knows only the base rate would do

    @property
    def gain_over_baseline(self) -> float:
        return self.best_value - self.baseline_value


def value_curve(table: dict[str, list[Any]], values: ErrorValues) -> ValueCurve:
    """Expected money per 1,000 decisions at each threshold, from the holdout's confusion counts.
    The baseline knows only the base rate, so the best it can do is act on everyone or on no one."""
    tp, fp, fn, tn = (np.asarray(table[k], dtype=float) for k in ("tp", "fp", "fn", "tn"))
    n = tp[0] + fp[0] + fn[0] + tn[0]
    money = (tp * values.tp + fp * values.fp + fn * values.fn + tn * values.tn) / n * 1000
    best = int(np.argmax(money))
    positives, negatives = tp[0] + fn[0], fp[0] + tn[0]
    everyone = (positives * values.tp + negatives * values.fp) / n * 1000
    no_one = (positives * values.fn + negatives * values.tn) / n * 1000
    policy, baseline = ("act on everyone", everyone) if everyone >= no_one else ("act on no one", no_one)
    return ValueCurve(
        thresholds=tuple(float(t) for t in table["thresholds"]),
        per_1000=tuple(float(v) for v in money),
        best_threshold=float(table["thresholds"][best]),
        best_value=float(money[best]),
        baseline_value=float(baseline),
        baseline_policy=policy,
    )


# -- the training-data profile --------------------------------------------------------------------


def _numeric_profile(values: np.ndarray) -> dict[str, Any]:
    """Deciles, shares and the KS sample as drift reads them (`drift_stats.numeric_profile`, one
    binning rule for the profile and the live counts), plus what a reviewer reads."""
    present = values[~np.isnan(values)]
    missing = 1 - len(present) / len(values) if len(values) else 0.0
    if not len(present):
        return {"kind": "numeric", "missing_share": missing, "empty": True}
    hist_counts, hist_edges = np.histogram(present, bins=20)
    return {
        "kind": "numeric",
        **drift_stats.numeric_profile(present, sample_size=PROFILE_SAMPLE),
        "quantiles": {name: float(np.quantile(present, q)) for name, q in QUANTILES.items()},
        "mean": float(present.mean()),
        "std": float(present.std(ddof=1)) if len(present) > 1 else 0.0,
        "missing_share": missing,
        "histogram": {"edges": hist_edges.tolist(), "counts": hist_counts.tolist()},
    }


def _categorical_profile(values: pd.Series) -> dict[str, Any]:
    """Shares of the categories among filled cells, the missing share, and the buckets drift counts
    in (`drift_stats.categorical_profile`: the top categories and one 'other/unseen' share)."""
    present = values.dropna()
    missing = 1 - len(present) / len(values) if len(values) else 0.0
    shares = present.astype(str).value_counts(normalize=True)
    frequencies = {str(k): float(v) for k, v in shares.iloc[:MAX_CATEGORIES].items()}
    if len(shares) > MAX_CATEGORIES:
        frequencies["(other)"] = float(shares.iloc[MAX_CATEGORIES:].sum())
    drift = drift_stats.categorical_profile(values) if len(present) else {}
    return {"kind": "categorical", "frequencies": frequencies, "missing_share": missing, **drift}


def profile(table: FeatureTable) -> dict[str, Any]:
    """Per feature: the reference distribution drift compares live inputs with (docs/methods.md,
    "Monitoring and drift")."""
    found = {}
    for feature, kind in table.kinds.items():
        column = table.frame[feature]
        if kind == "numeric":
            found[feature] = _numeric_profile(column.to_numpy(dtype=float))
        else:
            found[feature] = _categorical_profile(column)
    return jsonable(found)


# -- the holdout file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedHoldout:
    holdout: Holdout
    features: FeatureTable
    positive_label: str


def _positive_label(classes: list[Any]) -> str:
    return str(classes[1]) if len(classes) == 2 else ""


def label_key(value: object) -> str:
    """A class label as text that matches however a file writes it (True, 1, 1.0, yes)."""
    text = str(value).strip().lower()
    return {"true": "1", "false": "0", "1.0": "1", "0.0": "0", "yes": "1", "no": "0"}.get(text, text)


def read_holdout(
    table: files.Table,
    fmt: formats.SourceFormat,
    task: str,
    features: list[str],
    target: str,
    segment_column: str,
    classes: list[Any] | None,
) -> ParsedHoldout:
    """Check every row of a holdout (features, target, optional segment) and report all problems."""
    frame = table.frame
    wanted = [*features, target, *([segment_column] if segment_column else [])]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidInput(
            Problem(
                "holdout",
                f"The holdout lacks the column(s) {', '.join(missing)}. It needs every feature the model "
                f"declares ({', '.join(features)}) and the target '{target}'.",
            )
        )
    if frame.empty:
        raise InvalidInput(Problem("holdout", "The holdout has a header but no rows."))
    findings = Findings(frame, table.rows, [])
    parsed = read_features(frame, features, fmt, findings)
    positive = ""
    if task == "classification":
        if not classes or len(classes) != 2:
            raise InvalidInput(
                Problem(
                    "artifact", "Flightdeck evaluates binary classifiers: the model must have two classes."
                )
            )
        cells = cell_texts(frame[target])
        keys = cells.map(label_key)
        known = {label_key(c): i for i, c in enumerate(classes)}
        findings.add(
            ~keys.isin(known).to_numpy(dtype=bool),
            target,
            f"not one of the model's classes ({', '.join(str(c) for c in classes)})",
        )
        y = keys.map(known).fillna(0).to_numpy(dtype=int)
        positive = _positive_label(classes)
    else:
        numbers = formats.parse_numbers(frame[target], fmt)
        findings.add(~numbers.ok, target, numbers.reasons)
        y = numbers.values
    findings.reject_if_any()
    if task == "classification" and len(np.unique(y)) < 2:
        raise InvalidInput(
            Problem(
                "holdout", f"The target '{target}' holds only one class; a holdout needs both to evaluate."
            )
        )
    segments = None
    if segment_column:
        segments = pd.Series(cell_texts(frame[segment_column]).to_numpy(dtype=object)).replace("", "(blank)")
    return ParsedHoldout(
        Holdout(parsed.frame.reset_index(drop=True), y, segments, segment_column), parsed, positive
    )
