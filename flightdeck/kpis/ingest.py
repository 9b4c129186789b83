"""Loading KPI data: one validation path for file uploads, the command line, SQL sources and
values typed in by hand.

A load is all-or-nothing. Every bad row is reported with its row number, column, value and
reason, and then nothing at all is stored. Observations are keyed by (KPI, period, segment), so
loading the same rows again changes nothing and leaves no duplicates; the same file (by sha256)
is refused with when and by whom it was loaded. Periods are moved to the start of the KPI's
period (Monday, the first of the month) and the week and month roll-ups of every bucket the load
touches are rebuilt in the same transaction, which then announces `KpiDataLoaded`: its
subscribers (KPI alerts, the impact alerts of the models serving the KPI) run in that same
transaction, and webhook deliveries of what they raise start only after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.alerts import inbox
from flightdeck.core import audit, events
from flightdeck.core.actors import COMMAND_LINE, actor_id, actor_name
from flightdeck.core.db import Database
from flightdeck.core.errors import FlightdeckError, InvalidInput, NotFound, Problem
from flightdeck.core.permissions import User, authorize
from flightdeck.kpis.entities import view_of
from flightdeck.kpis.events import KpiDataLoaded
from flightdeck.kpis.storage import store
from flightdeck.kpis.tree import lineage
from flightdeck.kpis.validation import ColumnMapping, suggest_mapping, validate
from flightdeck.orm import IngestBatchRow, KpiRow
from flightdeck.tabular import files, formats
from flightdeck.tabular.formats import SourceFormat
from flightdeck.tabular.progress import Progress, silent
from flightdeck.tabular.uploads import check_size, sha256

PREVIEW_ROWS = 20


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
    table = files.read_table(data, file_name, fmt.checked(), nrows=PREVIEW_ROWS)
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
    step = progress or silent
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
        if batch is not None:
            batch.rows_new, batch.rows_changed, batch.rows_unchanged = new, changed, unchanged
            step(0.92, "Checking thresholds and alerts")
            moved = tuple(lineage(session, [row.id]))
            events.publish(session, KpiDataLoaded(row.id, batch.id, moved))
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
            alerts=inbox.raised_in(session),
            dry_run=dry_run,
        )
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
    step = progress or silent
    step(0.05, f"Reading {file_name}")
    table = files.read_table(data, file_name, fmt.checked())
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
