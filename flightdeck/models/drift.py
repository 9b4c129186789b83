"""Input drift of models in production, from counts kept at prediction ingest (method:
docs/methods.md, "Monitoring and drift").

`count_bins` runs inside the prediction-log ingest transaction: each logged value is binned against
its version's training profile and added to per-(version, day, feature, bin) counts. Drift over any
window is then a SQL sum over those counts and a PSI per feature (`drift_stats`), whatever the
number of logged rows. The statistics live in `drift_stats`; this module is their bookkeeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from flightdeck.core.clock import utcnow
from flightdeck.models import drift_stats
from flightdeck.models.drift_stats import Band, FeatureDrift
from flightdeck.orm import ModelVersionRow, PredictionBinRow, PredictionRow

WINDOW_DAYS = 30
BAND_ORDER = {Band.STABLE: 0, Band.MODERATE: 1, Band.MAJOR: 2}
PREDICTION = "__prediction__"  # the counts of the prediction column, beside the features'


def prediction_profile(evaluation: Mapping[str, Any]) -> dict[str, list[float]] | None:
    """The reference distribution of the model's own output on its holdout, binned like a numeric
    feature. A classifier's scores: exact shares between 0.01-grid thresholds chosen at the holdout
    deciles, from the evaluation's confusion counts. A regressor's: the profile of the holdout
    predictions the evaluation kept."""
    table = evaluation.get("thresholds")
    if table:
        grid = np.asarray(table["thresholds"], dtype=float)
        above = np.asarray(table["tp"], dtype=float) + np.asarray(table["fp"], dtype=float)
        if not above[0]:
            return None
        below = 1 - above / above[0]  # share of holdout scores under each threshold
        inner = sorted(
            {float(grid[np.argmax(below >= q)]) for q in np.linspace(0.1, 0.9, 9) if (below >= q).any()}
            - {0.0}
        )
        shares_below = [float(below[np.searchsorted(grid, e)]) for e in inner]
        proportions = np.diff([0.0, *shares_below, 1.0])
        return {"edges": [0.0, *inner, 1.0], "proportions": proportions.tolist()}
    predicted = (evaluation.get("residuals") or {}).get("predicted")
    if predicted:
        return drift_stats.numeric_profile(predicted)
    return None


def count_bins(
    session: Session,
    version: ModelVersionRow,
    moments: np.ndarray,
    features: pd.DataFrame,
    predictions: np.ndarray | None = None,
) -> None:
    """Add one batch's logged feature values (and predictions) to the version's per-day bin counts."""
    profile = dict(version.profile or {})
    columns = {f: features[f].to_numpy() for f in features.columns if _countable(profile.get(f))}
    reference = prediction_profile(version.evaluation or {}) if predictions is not None else None
    if reference is not None and predictions is not None:
        profile[PREDICTION], columns[PREDICTION] = reference, np.asarray(predictions, dtype=float)
    if not columns or not len(features):
        return
    days, day_index = np.unique(np.asarray(moments).astype("datetime64[D]"), return_inverse=True)
    day_text = [str(d) for d in days]
    rows: list[dict[str, object]] = []
    for feature, values in columns.items():
        table = drift_stats.profile_counts(profile[feature], values, groups=day_index, n_groups=len(days))
        for d, b in zip(*np.nonzero(table), strict=True):
            rows.append(
                {
                    "version_id": version.id,
                    "day": day_text[d],
                    "feature": feature,
                    "bin": int(b),
                    "count": int(table[d, b]),
                }
            )
    if rows:
        _add(session, rows)


def _countable(feature_profile: object) -> bool:
    return isinstance(feature_profile, dict) and (
        "edges" in feature_profile or "categories" in feature_profile
    )


def _add(session: Session, rows: list[dict[str, object]]) -> None:
    """Upsert that adds: a later batch logged for the same day increases that day's counts."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = PredictionBinRow.__table__
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.version_id, table.c.day, table.c.feature, table.c.bin],
        set_={"count": table.c.count + statement.excluded.count},
    )
    for start in range(0, len(rows), 5000):
        chunk = [{**r, "day": date.fromisoformat(str(r["day"]))} for r in rows[start : start + 5000]]
        session.execute(statement, chunk)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftSummary:
    """A version's drift over one window: the worst band and every feature's result."""

    version_id: int
    window_start: date
    window_end: date
    worst: Band | None
    features: tuple[FeatureDrift, ...]
    prediction: FeatureDrift | None = None  # the model's output against its holdout output

    @property
    def drifted(self) -> tuple[FeatureDrift, ...]:
        return tuple(f for f in self.features if f.status is Band.MAJOR)


def window_counts(
    session: Session, version_ids: Iterable[int], start: date, end: date
) -> dict[int, dict[str, np.ndarray]]:
    """Summed counts per version and feature over [start, end], aggregated in SQL."""
    ids = list(version_ids)
    if not ids:
        return {}
    found = session.execute(
        select(
            PredictionBinRow.version_id,
            PredictionBinRow.feature,
            PredictionBinRow.bin,
            func.sum(PredictionBinRow.count),
        )
        .where(
            PredictionBinRow.version_id.in_(ids), PredictionBinRow.day >= start, PredictionBinRow.day <= end
        )
        .group_by(PredictionBinRow.version_id, PredictionBinRow.feature, PredictionBinRow.bin)
    ).all()
    sums: dict[int, dict[str, dict[int, int]]] = {}
    for version_id, feature, bucket, total in found:
        sums.setdefault(version_id, {}).setdefault(feature, {})[int(bucket)] = int(total)
    return {
        version_id: {
            feature: np.array([bins.get(i, 0) for i in range(max(bins) + 1)])
            for feature, bins in features.items()
        }
        for version_id, features in sums.items()
    }


def drift_summary_many(
    session: Session, version_ids: Iterable[int], today: date | None = None, days: int = WINDOW_DAYS
) -> dict[int, DriftSummary | None]:
    """Each version's drift over the last `days` days; None where nothing was logged in that window
    (no evidence yet). Two queries whatever the number of versions."""
    ids = list(version_ids)
    end = today or utcnow().date()
    start = end - timedelta(days=days - 1)
    counts = window_counts(session, ids, start, end)
    profiles = dict(
        session.execute(
            select(ModelVersionRow.id, ModelVersionRow.profile).where(ModelVersionRow.id.in_(list(counts)))
        ).all()
    )
    summaries: dict[int, DriftSummary | None] = dict.fromkeys(ids)
    for version_id, features in counts.items():
        profile = profiles.get(version_id) or {}
        results = tuple(
            drift_stats.feature_drift(feature, profile[feature], _padded(values, profile[feature]))
            for feature, values in sorted(features.items())
            if _countable(profile.get(feature))
        )
        bands = [r.status for r in results if r.status is not None]
        worst = max(bands, key=BAND_ORDER.__getitem__) if bands else None
        summaries[version_id] = DriftSummary(version_id, start, end, worst, results)
    return summaries


def _padded(values: np.ndarray, feature_profile: dict[str, object]) -> np.ndarray:
    """Counts as long as the profile's buckets (a window may not reach the last bins)."""
    buckets = len(feature_profile["proportions"])  # type: ignore[arg-type]
    out = np.zeros(buckets, dtype=np.int64)
    out[: min(buckets, len(values))] = values[:buckets]
    return out


# -- the monitoring page ---------------------------------------------------------------------------


def last_logged_day(session: Session, version_id: int) -> date | None:
    """The newest day with counts: windows end there, so a quiet weekend does not empty them."""
    return session.scalar(
        select(func.max(PredictionBinRow.day)).where(PredictionBinRow.version_id == version_id)
    )


def _small_sample(
    session: Session, version_id: int, start: date, end: date, features: list[str]
) -> dict[str, np.ndarray]:
    """The logged values of a few numeric features in a window known to hold fewer than
    MIN_PSI_ROWS predictions (only then is anything read from the log itself)."""
    low = datetime.combine(start, time(), tzinfo=UTC)
    high = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    columns = [PredictionRow.features[f].as_float() for f in features]
    rows = session.execute(
        select(*columns)
        .where(PredictionRow.version_id == version_id, PredictionRow.predicted_at >= low)
        .where(PredictionRow.predicted_at < high)
        .limit(drift_stats.MIN_PSI_ROWS)
    ).all()
    values = np.asarray(rows, dtype=float).reshape(len(rows), len(features))
    return {f: values[:, i] for i, f in enumerate(features)}


def window_drift(session: Session, version_id: int, start: date, end: date) -> DriftSummary:
    """Every feature's drift over [start, end] from the counts, with the KS test where the window is
    small, and the prediction's drift."""
    version = session.get_one(ModelVersionRow, version_id)
    profile = dict(version.profile or {})
    reference = prediction_profile(version.evaluation or {})
    if reference is not None:
        profile[PREDICTION] = reference
    counts = window_counts(session, [version_id], start, end).get(version_id, {})
    measured = [f for f in version.features if _countable(profile.get(f))]
    sums = {
        f: _padded(counts.get(f, np.zeros(0)), profile[f]) for f in [*measured, PREDICTION] if f in profile
    }
    small = [f for f in measured if "edges" in profile[f] and 0 < sums[f].sum() < drift_stats.MIN_PSI_ROWS]
    sample = _small_sample(session, version_id, start, end, small) if small else {}
    results = tuple(drift_stats.feature_drift(f, profile[f], sums[f], sample.get(f)) for f in measured)
    prediction = (
        drift_stats.feature_drift("prediction", profile[PREDICTION], sums[PREDICTION])
        if PREDICTION in sums
        else None
    )
    bands = [r.status for r in results if r.status is not None]
    worst = max(bands, key=BAND_ORDER.__getitem__) if bands else None
    return DriftSummary(version_id, start, end, worst, results, prediction)


def drift_over_time(
    session: Session, version_id: int, end: date, windows: int = 12, window_days: int = 7
) -> pd.DataFrame:
    """PSI per feature (and the prediction) for consecutive windows ending at `end`: one SQL
    aggregate per day and bin, then the windows summed in numpy. Rows: window_end, feature, psi, n."""
    version = session.get_one(ModelVersionRow, version_id)
    profile = dict(version.profile or {})
    reference = prediction_profile(version.evaluation or {})
    if reference is not None:
        profile[PREDICTION] = reference
    first = end - timedelta(days=windows * window_days - 1)
    found = session.execute(
        select(
            PredictionBinRow.day,
            PredictionBinRow.feature,
            PredictionBinRow.bin,
            func.sum(PredictionBinRow.count),
        )
        .where(PredictionBinRow.version_id == version_id, PredictionBinRow.day >= first)
        .where(PredictionBinRow.day <= end)
        .group_by(PredictionBinRow.day, PredictionBinRow.feature, PredictionBinRow.bin)
    ).all()
    frame = pd.DataFrame(found, columns=["day", "feature", "bin", "count"])
    out = []
    ends = [end - timedelta(days=window_days * (windows - 1 - w)) for w in range(windows)]
    for feature, part in frame.groupby("feature"):
        entry = profile.get(str(feature))
        if not _countable(entry):
            continue
        buckets = len(entry["proportions"])  # type: ignore[index]
        window = np.array([(pd.Timestamp(d).date() - first).days for d in part["day"]]) // window_days
        table = np.zeros((windows, buckets))
        keep = part["bin"].to_numpy() < buckets
        np.add.at(
            table, (window[keep], part["bin"].to_numpy()[keep]), part["count"].to_numpy(dtype=float)[keep]
        )
        values = drift_stats.psi_values(entry["proportions"], table)  # type: ignore[index]
        name = "prediction" if feature == PREDICTION else str(feature)
        out += [(ends[w], name, values[w], int(table[w].sum())) for w in range(windows)]
    return pd.DataFrame(out, columns=["window_end", "feature", "psi", "n"])
