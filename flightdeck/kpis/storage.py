"""Storing validated KPI rows: an upsert by (KPI, period, segment) that counts new, changed and
unchanged values against what is stored, then rebuilds the roll-ups of exactly the buckets the
load touched, all in the load's transaction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from flightdeck.business.hierarchies import hierarchy_of
from flightdeck.kpis import rollups
from flightdeck.kpis.validation import Validated
from flightdeck.orm import IngestBatchRow, KpiRow, ObservationRow
from flightdeck.orm.kpis import ROLLUP_GRAINS
from flightdeck.tabular import bulk
from flightdeck.tabular.formats import period_start
from flightdeck.tabular.progress import Progress, silent

OBSERVATION_COLUMNS = ("kpi_id", "period", "segment", "value", "batch_id")


def _existing(session: Session, kpi_id: int, low: np.datetime64, high: np.datetime64) -> pd.DataFrame:
    """The KPI's stored observations in [low, high], straight from the driver's cursor: for a
    million rows SQLAlchemy's row objects cost seconds that a plain fetch does not."""
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(
            "SELECT CAST(period AS VARCHAR(10)), segment, value FROM kpi_observations "  # noqa: S608 - no input
            f"WHERE kpi_id = {mark} AND period >= {mark} AND period <= {mark}",
            (kpi_id, str(low), str(high)),
        )
        found = cursor.fetchall()
    finally:
        cursor.close()
    if not found:
        return pd.DataFrame({"period": np.array([], dtype="datetime64[D]"), "segment": [], "value": []})
    frame = pd.DataFrame.from_records(found, columns=["period", "segment", "value"])
    day_codes, days = pd.factorize(frame["period"])  # a few hundred distinct days
    segment_codes, names = pd.factorize(frame["segment"])
    return pd.DataFrame(
        {
            "period": np.asarray(days, dtype="datetime64[D]")[day_codes],
            "segment": pd.Categorical.from_codes(segment_codes, pd.Index(np.asarray(names, dtype=object))),
            "value": frame["value"].to_numpy(dtype=float),
        }
    )


def _window(periods: np.ndarray) -> tuple[np.datetime64, np.datetime64]:
    """Every day of every week and month bucket the periods fall in."""
    low = min(period_start(periods.min(keepdims=True), g)[0] for g in ROLLUP_GRAINS)
    last = periods.max(keepdims=True)
    week_end = period_start(last, "week")[0] + np.timedelta64(6, "D")
    month_end = (last.astype("datetime64[M]") + 1).astype("datetime64[D]")[0] - np.timedelta64(1, "D")
    return low, max(week_end, month_end)


def store(
    session: Session,
    row: KpiRow,
    clean: Validated,
    batch: IngestBatchRow | None,
    progress: Progress | None = None,
) -> tuple[int, int, int]:
    """Upsert the rows and rebuild the roll-ups they touch; (new, changed, unchanged). With no
    batch this only counts, for a dry run."""
    step = progress or silent
    incoming = pd.DataFrame({"period": clean.periods, "segment": clean.segments, "value": clean.values})
    low, high = _window(clean.periods)
    existing = _existing(session, row.id, low, high)
    if existing.empty:
        fresh = incoming
        changed = incoming.iloc[0:0]
        unchanged = 0
    else:
        incoming["segment"] = incoming["segment"].astype(object)
        merged = incoming.merge(
            existing, on=["period", "segment"], how="left", suffixes=("", "_old"), indicator=True
        )
        is_new = (merged["_merge"] == "left_only").to_numpy()
        differs = ~is_new & (merged["value"].to_numpy() != merged["value_old"].to_numpy())
        fresh, changed = incoming[is_new], incoming[differs]
        unchanged = int((~is_new & ~differs).sum())
    if batch is None or (fresh.empty and changed.empty):
        return len(fresh), len(changed), unchanged

    step(0.55, f"Writing {len(fresh):,} new and {len(changed):,} changed values")
    table = ObservationRow.__tablename__
    if not fresh.empty:
        bulk.insert(session, table, OBSERVATION_COLUMNS, _observation_rows(row.id, fresh, batch.id))
    if not changed.empty:
        rows = _observation_rows(row.id, changed, batch.id)
        bulk.upsert(session, table, OBSERVATION_COLUMNS, OBSERVATION_COLUMNS[:3], rows)

    step(0.8, "Updating the roll-ups by day, week, month and along the hierarchy")
    written = pd.concat([fresh, changed])
    if existing.empty:
        full = incoming
    else:
        kept = existing.merge(
            written[["period", "segment"]], on=["period", "segment"], how="left", indicator=True
        )
        full = pd.concat([existing[(kept["_merge"] == "left_only").to_numpy()], written], ignore_index=True)
    hierarchy = hierarchy_of(session, row.hierarchy_id) if row.hierarchy_id else None
    rollups.rebuild(session, row.id, hierarchy, full, written)
    return len(fresh), len(changed), unchanged


def _names(segments: pd.Series) -> list[str]:
    """Segment names from a categorical column, without a per-row string conversion."""
    values = segments.array
    if isinstance(values, pd.Categorical):
        return np.asarray(values.categories, dtype=object)[values.codes].tolist()
    return segments.astype(object).tolist()


def _observation_rows(kpi_id: int, part: pd.DataFrame, batch_id: int) -> list[tuple[object, ...]]:
    count = len(part)
    return list(
        zip(
            [kpi_id] * count,
            rollups.iso(part["period"].to_numpy()),
            _names(part["segment"]),
            part["value"].astype(float).tolist(),
            [batch_id] * count,
            strict=True,
        )
    )
