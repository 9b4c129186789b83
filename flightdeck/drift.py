"""Input drift of models in production, from counts kept at prediction ingest (DESIGN.md §6).

`count_bins` runs inside the prediction-log ingest transaction: each logged value is binned against
its version's training profile and added to per-(version, day, feature, bin) counts. Drift over any
window is then a SQL sum over those counts and a PSI per feature (`drift_stats`), whatever the
number of logged rows. The statistics live in `drift_stats`; this module is their bookkeeping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from flightdeck import drift_stats
from flightdeck.drift_stats import Band, FeatureDrift
from flightdeck.orm import ModelVersionRow, PredictionBinRow, utcnow

WINDOW_DAYS = 30
BAND_ORDER = {Band.STABLE: 0, Band.MODERATE: 1, Band.MAJOR: 2}


def count_bins(
    session: Session, version: ModelVersionRow, moments: np.ndarray, features: pd.DataFrame
) -> None:
    """Add one batch's logged feature values to the version's per-day bin counts."""
    profile = version.profile or {}
    measured = [f for f in features.columns if _countable(profile.get(f))]
    if not measured or not len(features):
        return
    days, day_index = np.unique(np.asarray(moments).astype("datetime64[D]"), return_inverse=True)
    day_text = [str(d) for d in days]
    rows: list[dict[str, object]] = []
    for feature in measured:
        table = drift_stats.profile_counts(
            profile[feature], features[feature].to_numpy(), groups=day_index, n_groups=len(days)
        )
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
