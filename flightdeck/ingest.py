"""Loading KPI data: one validation path for file uploads, the command line, SQL sources and
values typed in by hand.

A load is all-or-nothing. Every bad row is reported with its row number, column, value and
reason, and then nothing at all is stored. Observations are keyed by (KPI, period, segment), so
loading the same rows again changes nothing and leaves no duplicates; the same file (by sha256)
is refused with when and by whom it was loaded. Periods are moved to the start of the KPI's
period (Monday, the first of the month) and the week and month roll-ups of every bucket the load
touches are rebuilt in the same transaction. Threshold and trajectory alerts are re-checked
there too, and their webhook deliveries start only after the commit.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck import alerts, audit, bulk, formats, monitoring, rollups
from flightdeck.auth import User, authorize
from flightdeck.context import EXPERIMENT_ARMS, actor_id, actor_name, hierarchy_of
from flightdeck.db import Database
from flightdeck.errors import FlightdeckError, InvalidInput, NotFound, Problem
from flightdeck.exports import csv_bytes
from flightdeck.formats import SourceFormat, period_start
from flightdeck.kpis import ancestors, view_of
from flightdeck.orm import IngestBatchRow, KpiRow, ObservationRow, utcnow
from flightdeck.orm.kpis import ROLLUP_GRAINS
from flightdeck.users import COMMAND_LINE

Progress = Callable[[float, str], None]
MAX_UPLOAD_ENV = "FLIGHTDECK_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 20
PREVIEW_ROWS = 20
GUESSES = {
    "period": ("period", "date", "datum", "day", "periode", "fiscal_period", "posting_date", "month", "week"),
    "value": ("value", "wert", "amount", "betrag", "kpi_value", "measure", "rate"),
    "segment": ("segment", "store", "store_code", "filiale", "region", "region_code", "arm", "group"),
    "unit": ("unit", "currency", "waehrung", "währung", "einheit", "uom"),
}
REPORT_COLUMNS = ["row", "column", "value", "reason"]
OBSERVATION_COLUMNS = ("kpi_id", "period", "segment", "value", "batch_id")


def max_upload_bytes(db: Database) -> int:
    """`FLIGHTDECK_MAX_UPLOAD_MB`, else `[ingest] max_upload_mb` in the secrets file, else 20 MB."""
    configured = os.environ.get(MAX_UPLOAD_ENV) or db.settings.secrets.get("ingest", {}).get("max_upload_mb")
    return int(float(configured or DEFAULT_MAX_UPLOAD_MB) * 1024 * 1024)


def check_size(db: Database, size: int, file_name: str) -> None:
    """Refuse an oversized file before a byte of it is parsed."""
    cap = max_upload_bytes(db)
    if size > cap:
        raise InvalidInput(
            Problem(
                "file",
                f"'{file_name}' is {size / 1024 / 1024:.1f} MB; files are limited to "
                f"{cap / 1024 / 1024:.0f} MB. "
                "Split it by period, or load it with `python -m flightdeck ingest kpi` after raising "
                f"{MAX_UPLOAD_ENV}.",
            )
        )


# -- column mapping and preview ------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMapping:
    period: str
    value: str
    segment: str = ""
    unit: str = ""

    def used(self) -> dict[str, str]:
        return {role: column for role, column in vars(self).items() if column}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9äöü]+", "_", name.strip().lower()).strip("_")


def suggest_mapping(columns: list[str]) -> ColumnMapping:
    """A first guess from the column names; the user confirms or changes it."""
    chosen: dict[str, str] = {}
    for role, names in GUESSES.items():
        for column in columns:
            if column not in chosen.values() and (
                _norm(column) in names or any(_norm(column).startswith(n) for n in names)
            ):
                chosen[role] = column
                break
    rest = [c for c in columns if c not in chosen.values()]
    period = chosen.get("period") or (columns[0] if columns else "")
    value = chosen.get("value") or (rest[-1] if rest else "")
    return ColumnMapping(period, value, chosen.get("segment", ""), chosen.get("unit", ""))


@dataclass(frozen=True)
class PriorLoad:
    batch_id: int
    file_name: str
    loaded_at: datetime
    loaded_by_name: str
    rows_total: int


@dataclass(frozen=True)
class Preview:
    file_name: str
    size: int
    sha256: str
    kind: str
    encoding: str
    delimiter: str
    columns: list[str]
    head: pd.DataFrame
    mapping: ColumnMapping
    prior: PriorLoad | None


class DuplicateFile(FlightdeckError):
    """The identical file was loaded into this KPI before; loading it again would change nothing."""

    def __init__(self, kpi_name: str, prior: PriorLoad) -> None:
        self.prior = prior
        super().__init__(
            f"This file was already loaded into {kpi_name} on {prior.loaded_at:%Y-%m-%d %H:%M} UTC by "
            f"{prior.loaded_by_name} (batch #{prior.batch_id}, '{prior.file_name}', "
            f"{prior.rows_total:,} rows). "
            "Loading it again would change nothing."
        )


class Rejected(InvalidInput):
    """Some rows are bad: nothing was stored. `problems` holds up to MAX_PROBLEMS of them."""

    def __init__(self, problems: list[Problem], total_problems: int, rows: int) -> None:
        super().__init__(problems)
        self.total_problems = total_problems
        self.rows = rows

    def summary(self) -> str:
        shown = (
            ""
            if self.total_problems <= len(self.problems)
            else f" (the first {len(self.problems):,} are listed)"
        )
        return (
            f"{self.total_problems:,} problem(s) in {self.rows:,} rows{shown}. Nothing was loaded: "
            "fix the rows below (or the declared format) and load the file again."
        )

    def report_csv(self) -> bytes:
        return problems_csv(self.problems)


def problems_csv(problems: list[Problem]) -> bytes:
    return csv_bytes(REPORT_COLUMNS, ([p.row, p.field, p.value, p.message] for p in problems))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _prior(session: Session, kpi_id: int, digest: str) -> PriorLoad | None:
    found = session.scalar(
        select(IngestBatchRow)
        .where(IngestBatchRow.kpi_id == kpi_id, IngestBatchRow.sha256 == digest)
        .order_by(IngestBatchRow.id.desc())
        .limit(1)
    )
    if found is None:
        return None
    return PriorLoad(found.id, found.file_name, found.loaded_at, found.loaded_by_name, found.rows_total)


def preview(db: Database, kpi_id: int | None, data: bytes, file_name: str, fmt: SourceFormat) -> Preview:
    """The first rows as the declared format reads them, a suggested mapping, and whether this
    exact file was loaded into the KPI before."""
    check_size(db, len(data), file_name)
    table = formats.read_table(data, file_name, fmt.checked(), nrows=PREVIEW_ROWS)
    digest = sha256(data)
    prior = None
    if kpi_id is not None:
        with db.read() as session:
            prior = _prior(session, kpi_id, digest)
    head = table.frame.copy()
    head.insert(0, "Row", table.rows)
    return Preview(
        file_name=file_name,
        size=len(data),
        sha256=digest,
        kind=table.kind,
        encoding=table.encoding,
        delimiter=table.delimiter,
        columns=table.columns,
        head=head,
        mapping=suggest_mapping(table.columns),
        prior=prior,
    )


# -- validation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validated:
    """Clean rows: periods already at the start of the KPI's period."""

    periods: np.ndarray  # datetime64[D]
    segments: pd.Categorical
    values: np.ndarray  # float64
    rows: int


def _cell(value: object) -> str:
    """A cell as the report shows it; whole numbers from Excel lose their '.0' (store 101)."""
    if formats.is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_texts(column: pd.Series) -> pd.Series:
    """A column's cells as stripped text ('' for blanks), as the error report shows them."""
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return column.fillna("").str.strip()
    return column.map(_cell).astype("str")


def _named(name: str, path: str) -> str:
    return f"'{name}'" if name == path else f"'{name}' ({path})"


def _segment_rule(session: Session, row: KpiRow) -> tuple[set[str], str]:
    hierarchy = hierarchy_of(session, row.hierarchy_id) if row.hierarchy_id else None
    if hierarchy is None:
        return {"", *EXPERIMENT_ARMS}, (
            "this KPI has no hierarchy, so a segment may only be blank (the whole business) or an "
            "experiment arm (treatment, control)"
        )
    return {"", *EXPERIMENT_ARMS, *(n.code for n in hierarchy.nodes)}, (
        f"not a code of the hierarchy {_named(hierarchy.name, hierarchy.path)} nor an experiment arm "
        "(treatment, control)"
    )


@dataclass
class Findings:
    """Bad cells found so far, one entry per check. Every tabular upload (KPI data, model holdouts,
    prediction logs and outcomes) collects its problems here and reports them the same way."""

    frame: pd.DataFrame
    rows: np.ndarray
    checks: list[tuple[np.ndarray, str, np.ndarray | str]]

    def add(self, mask: np.ndarray, column: str, reasons: np.ndarray | str) -> None:
        if mask.any():
            self.checks.append((mask, column, reasons))

    def bad(self) -> np.ndarray:
        found = np.zeros(len(self.frame), dtype=bool)
        for mask, *_ in self.checks:
            found |= mask
        return found

    def reject_if_any(self) -> None:
        order = {column: i for i, column in enumerate(self.frame.columns)}
        listed: list[tuple[int, int, Problem]] = []
        total = 0
        for mask, column, reasons in self.checks:
            hits = np.flatnonzero(mask)
            total += len(hits)
            cells = self.frame[column].iloc[hits[: formats.MAX_PROBLEMS]]
            for i, cell in zip(hits[: formats.MAX_PROBLEMS], cells, strict=False):
                reason = reasons if isinstance(reasons, str) else str(reasons[i])
                number = int(self.rows[i])
                listed.append((number, order[column], Problem(column, reason, number, _cell(cell)[:200])))
        if total:
            listed.sort(key=lambda item: (item[0], item[1]))
            raise Rejected([p for *_, p in listed[: formats.MAX_PROBLEMS]], total, len(self.frame))


def validate(
    session: Session,
    row: KpiRow,
    frame: pd.DataFrame,
    rows: np.ndarray,
    mapping: ColumnMapping,
    fmt: SourceFormat,
) -> Validated:
    """Check every row; raise `Rejected` with every problem (row, column, value, reason) if any."""
    used = mapping.used()
    missing = [c for c in used.values() if c not in frame.columns]
    if missing or not mapping.period or not mapping.value:
        absent = ", ".join(missing) or "a choice"
        raise InvalidInput(
            Problem("mapping", f"Map the period and value columns to columns of the file ({absent}).")
        )
    if len(set(used.values())) < len(used):
        raise InvalidInput(Problem("mapping", "Map each column to one role only."))
    if frame.empty:
        raise InvalidInput(Problem("file", "The file has a header but no rows of data."))
    n = len(frame)
    findings = Findings(frame, rows, [])

    periods = formats.parse_periods(frame[mapping.period], fmt)
    findings.add(~periods.ok, mapping.period, periods.reasons)
    values = formats.parse_numbers(frame[mapping.value], fmt)
    findings.add(~values.ok, mapping.value, values.reasons)
    today = np.datetime64(utcnow().date(), "D")
    findings.add(periods.ok & (periods.values > today), mapping.period, "the period lies in the future")

    segments = pd.Series("", index=frame.index, dtype="str")
    if mapping.segment:
        cells = cell_texts(frame[mapping.segment])
        lowered = cells.str.lower()
        segments = cells.where(~lowered.isin(EXPERIMENT_ARMS), lowered)
        allowed, hint = _segment_rule(session, row)
        findings.add(~segments.isin(allowed).to_numpy(dtype=bool), mapping.segment, hint)
    if mapping.unit:
        units = cell_texts(frame[mapping.unit]).str.casefold()
        reason = f"the unit differs from the KPI's unit '{row.unit}'"
        findings.add((units != row.unit.casefold()).to_numpy(dtype=bool), mapping.unit, reason)

    starts = period_start(periods.values, row.frequency)
    clean = ~findings.bad()
    categories = pd.Categorical(segments)
    keys = pd.DataFrame({"p": starts, "s": categories.codes, "r": rows})[clean]
    repeated = keys.duplicated(["p", "s"], keep="first")
    if repeated.any():
        first = keys.groupby(["p", "s"])["r"].transform("first")[repeated]
        duplicate = np.zeros(n, dtype=bool)
        duplicate[keys.index[repeated]] = True
        reasons = np.full(n, "", dtype=object)
        reasons[keys.index[repeated]] = [
            f"row {int(r)} already has a value for the same {row.frequency} and segment" for r in first
        ]
        findings.add(duplicate, mapping.period, reasons)
    findings.reject_if_any()
    return Validated(starts, categories, values.values, n)


# -- writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    kpi_id: int
    kpi_name: str
    batch_id: int | None
    rows: int
    new: int
    changed: int
    unchanged: int
    period_min: date | None
    period_max: date | None
    segments: tuple[str, ...]
    alerts: tuple[str, ...] = ()
    dry_run: bool = False

    def summary(self) -> str:
        span = f"; periods {self.period_min} to {self.period_max}" if self.period_min else ""
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.rows:,} rows checked: {self.new:,} new, {self.changed:,} changed and {self.unchanged:,} "
            f"unchanged values {verb} stored{span}."
        )


@dataclass(frozen=True)
class Origin:
    """Where a load comes from, for its batch record and the duplicate check."""

    source: str  # upload, cli, sql, manual, demo
    file_name: str = ""
    sha256: str | None = None
    size: int = 0
    fmt: SourceFormat | None = None


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
    step = progress or (lambda _f, _m: None)
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


def _writable(session: Session, actor: User | None, kpi_id: int, lock: bool) -> KpiRow:
    """The KPI, locked against concurrent loads (one writer per KPI keeps the new/changed count
    and the plain insert of new rows exact), after checking the actor may load into it."""
    query = select(KpiRow).where(KpiRow.id == kpi_id)
    row = session.scalar(query.with_for_update(of=KpiRow) if lock else query)
    if row is None:
        raise NotFound("KPI", kpi_id)
    if actor is not None:
        authorize(actor, "kpi.ingest", view_of(row), entity=f"kpi {row.key}")
    if row.formula != "none":
        raise InvalidInput(
            Problem(
                "kpi",
                f"{row.name} is computed from its drivers and has no data of its own: load its drivers.",
            )
        )
    return row


def load_frame(
    db: Database,
    actor: User | None,
    kpi_id: int,
    frame: pd.DataFrame,
    rows: np.ndarray,
    mapping: ColumnMapping,
    fmt: SourceFormat,
    origin: Origin,
    *,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> LoadResult:
    """Validate and (unless `dry_run`) store a table of cells. `actor=None` is the command line."""
    step = progress or (lambda _f, _m: None)
    fmt = fmt.checked()
    scope = db.read() if dry_run else db.transaction()
    with scope as session:
        row = _writable(session, actor, kpi_id, lock=not dry_run)
        if origin.sha256 and not force and (prior := _prior(session, kpi_id, origin.sha256)):
            raise DuplicateFile(row.name, prior)
        step(0.3, f"Checking {len(frame):,} rows")
        clean = validate(session, row, frame, rows, mapping, fmt)
        step(0.45, "Comparing with the values already stored")
        batch = None
        if not dry_run:
            batch = IngestBatchRow(
                kpi_id=row.id,
                source=origin.source,
                file_name=origin.file_name[:255],
                sha256=origin.sha256,
                size_bytes=origin.size,
                rows_total=clean.rows,
                period_min=formats.day(clean.periods.min()),
                period_max=formats.day(clean.periods.max()),
                declared_format=fmt.as_dict(),
                loaded_by_id=actor_id(actor),
                loaded_by_name=actor_name(actor),
            )
            session.add(batch)
            session.flush()
        new, changed, unchanged = store(session, row, clean, batch, step)
        if batch is not None and origin.sha256 is None and not (new or changed):
            session.delete(batch)  # a sync or hand entry that changed nothing leaves no trace
            batch = None
        raised: list[str] = []
        if batch is not None:
            batch.rows_new, batch.rows_changed, batch.rows_unchanged = new, changed, unchanged
            step(0.92, "Checking thresholds and alerts")
            notify = alerts.webhook_url(db.settings) is not None
            raised = monitoring.evaluate_alerts(session, [row.id], notify=notify)
            from flightdeck import model_alerts  # it reads impact, which builds on this module's KPIs

            raised += model_alerts.evaluate_kpis(session, [row.id, *ancestors(session, row.id)], notify)
            audit.record(
                session,
                by=actor,
                actor_name=COMMAND_LINE,
                action="kpi.ingest",
                entity_type="kpi",
                entity_id=row.id,
                after={
                    "batch": batch.id,
                    "source": origin.source,
                    "file": origin.file_name,
                    "sha256": origin.sha256,
                    "rows": clean.rows,
                    "new": new,
                    "changed": changed,
                    "unchanged": unchanged,
                    "periods": [batch.period_min, batch.period_max],
                },
            )
        result = LoadResult(
            kpi_id=row.id,
            kpi_name=row.name,
            batch_id=batch.id if batch else None,
            rows=clean.rows,
            new=new,
            changed=changed,
            unchanged=unchanged,
            period_min=formats.day(clean.periods.min()),
            period_max=formats.day(clean.periods.max()),
            segments=tuple(sorted(clean.segments.unique().astype(str))),
            alerts=tuple(raised),
            dry_run=dry_run,
        )
    if not dry_run:
        alerts.dispatch(db)
    step(1.0, "Done")
    return result


def load_file(
    db: Database,
    actor: User | None,
    kpi_id: int,
    data: bytes,
    file_name: str,
    fmt: SourceFormat,
    mapping: ColumnMapping,
    *,
    source: str = "upload",
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> LoadResult:
    """A CSV or Excel file, size-checked before it is parsed."""
    check_size(db, len(data), file_name)
    step = progress or (lambda _f, _m: None)
    step(0.05, f"Reading {file_name}")
    table = formats.read_table(data, file_name, fmt.checked())
    origin = Origin(source, file_name, sha256(data), len(data), fmt)
    return load_frame(
        db,
        actor,
        kpi_id,
        table.frame,
        table.rows,
        mapping,
        fmt,
        origin,
        dry_run=dry_run,
        force=force,
        progress=progress,
    )


# -- history -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    id: int
    kpi_id: int
    kpi_name: str
    source: str
    file_name: str
    rows_total: int
    rows_new: int
    rows_changed: int
    rows_unchanged: int
    period_min: date | None
    period_max: date | None
    loaded_by_name: str
    loaded_at: datetime


def list_batches(db: Database, kpi_id: int | None = None, limit: int = 200) -> list[Batch]:
    query = select(IngestBatchRow).order_by(IngestBatchRow.id.desc()).limit(limit)
    if kpi_id is not None:
        query = query.where(IngestBatchRow.kpi_id == kpi_id)
    with db.read() as session:
        return [
            Batch(
                b.id,
                b.kpi_id,
                b.kpi.name,
                b.source,
                b.file_name,
                b.rows_total,
                b.rows_new,
                b.rows_changed,
                b.rows_unchanged,
                b.period_min,
                b.period_max,
                b.loaded_by_name,
                b.loaded_at,
            )
            for b in session.scalars(query)
        ]
