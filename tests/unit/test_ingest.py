"""Loading KPI data: one validation path, every bad row reported, all or nothing, upserts without
duplicates, duplicate files named, oversized files refused unread, roll-ups always exact."""

import io
import itertools
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from flightdeck.accounts import audit_trail
from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, PermissionDenied
from flightdeck.kpis import definitions, entities, ingest
from flightdeck.kpis.ingest import DuplicateFile
from flightdeck.kpis.validation import ColumnMapping
from flightdeck.orm import IngestBatchRow, ObservationRow, RollupRow
from flightdeck.tabular import files, formats, uploads
from flightdeck.tabular.findings import Rejected
from flightdeck.tabular.formats import PRESETS, SourceFormat
from tests.kpi_factories import MAPPING, Workspace, csv_file, days, load, make_kpi, workspace

DE = PRESETS["de"][1]
JAN = date(2025, 1, 1)


def stored(db: Database, kpi_id: int) -> dict[tuple[date, str], float]:
    with db.read() as session:
        rows = session.execute(
            select(ObservationRow.period, ObservationRow.segment, ObservationRow.value).where(
                ObservationRow.kpi_id == kpi_id
            )
        )
        return {(p, s): v for p, s, v in rows}


def count(db: Database, table: type) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def nothing_stored(db: Database) -> bool:
    ingests = audit_trail.list_events(db, audit_trail.AuditFilter(actions=("kpi.ingest",)))[0]
    return (count(db, ObservationRow), count(db, RollupRow), count(db, IngestBatchRow), ingests) == (
        0,
        0,
        0,
        [],
    )


def test_a_file_in_a_german_export_format_loads_with_its_segments(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    rows = [(d, s, 2.0 + i / 100) for i, d in enumerate(days(JAN, 10)) for s in ("N1", "N2", "S1")]
    data = csv_file(rows, DE, ("Datum", "Filiale", "Wert"))
    preview = ingest.preview(db, kpi.id, data, "churn.csv", DE)
    assert preview.mapping == ColumnMapping("Datum", "Wert", "Filiale")
    assert (preview.encoding, preview.delimiter, preview.prior) == ("utf-8", ";", None)
    result = load(db, ws.owner, kpi, data, "churn.csv", fmt=DE, mapping=preview.mapping)
    assert (result.rows, result.new, result.changed, result.unchanged) == (30, 30, 0, 0)
    assert result.segments == ("N1", "N2", "S1")
    assert (result.period_min, result.period_max) == (JAN, date(2025, 1, 10))
    assert stored(db, kpi.id)[(date(2025, 1, 3), "N2")] == pytest.approx(2.02)
    [batch] = ingest.list_batches(db)
    assert (batch.kpi_name, batch.source, batch.loaded_by_name, batch.rows_new) == (
        "Churn",
        "upload",
        "Bianca",
        30,
    )
    [event] = audit_trail.list_events(db, audit_trail.AuditFilter(actions=("kpi.ingest",)))[0]
    assert event.after["new"] == 30
    assert event.actor_id == ws.owner.id


BAD_ROWS = [
    ("31.02.2025;N1;2,0", "Datum", "no such calendar date"),
    ("20250105;N1;2,0", "Datum", "not a date written as DD.MM.YYYY"),
    ("05.01.2025;N1;2.5", "Wert", "not a number written with decimal comma"),
    ("05.01.2025;N1;", "Wert", "the value is missing"),
    ("05.01.2025;X9;2,0", "Filiale", "not a code of the hierarchy"),
    ("01.01.2099;N1;2,0", "Datum", "the period lies in the future"),
    ("01.01.2025;N1;9,9", "Datum", "row 2 already has a value for the same day and segment"),
]


@pytest.mark.parametrize(("line", "column", "reason"), BAD_ROWS, ids=[r[2][:30] for r in BAD_ROWS])
def test_one_bad_row_rejects_the_file_and_nothing_is_stored(
    db: Database, line: str, column: str, reason: str
) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    data = f"Datum;Filiale;Wert\n01.01.2025;N1;2,0\n02.01.2025;N2;2,1\n{line}\n".encode()
    with pytest.raises(Rejected) as rejected:
        load(db, ws.owner, kpi, data, fmt=DE, mapping=ColumnMapping("Datum", "Wert", "Filiale"))
    [problem] = rejected.value.problems
    assert (problem.row, problem.field) == (4, column)
    assert reason in problem.message
    assert problem.value == line.split(";")[["Datum", "Filiale", "Wert"].index(column)]
    assert nothing_stored(db)


def test_every_problem_is_listed_in_row_order_and_the_report_downloads(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    lines = "".join(f"{line}\n" for line, _, _ in BAD_ROWS)
    data = f"Datum;Filiale;Wert\n01.01.2025;N1;2,0\n{lines}".encode()
    with pytest.raises(Rejected) as rejected:
        load(db, ws.owner, kpi, data, fmt=DE, mapping=ColumnMapping("Datum", "Wert", "Filiale"))
    assert [p.row for p in rejected.value.problems] == list(range(3, 3 + len(BAD_ROWS)))
    assert rejected.value.total_problems == len(BAD_ROWS)
    assert "7 problem(s) in 8 rows. Nothing was loaded" in rejected.value.summary()
    report = pd.read_csv(io.BytesIO(rejected.value.report_csv()), encoding="utf-8-sig", dtype=str)
    assert list(report.columns) == ["row", "column", "value", "reason"]
    assert report["row"].tolist() == [str(r) for r in range(3, 3 + len(BAD_ROWS))]


def test_a_rejected_file_leaves_the_kpis_data_exactly_as_it_was(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    load(db, ws.owner, kpi, csv_file([(d, "N1", 2.0) for d in days(JAN, 5)]))
    before = stored(db, kpi.id)
    with db.read() as session:
        rollups_before = session.scalars(select(RollupRow).order_by(RollupRow.period)).all()
        rollups_before = [(r.grain, r.period, r.total) for r in rollups_before]
    changes = [(d, "N1", 3.0) for d in days(JAN, 5)] + [(date(2025, 1, 6), "N1", "oops")]
    with pytest.raises(Rejected):
        load(db, ws.owner, kpi, csv_file(changes), "changes.csv")
    assert stored(db, kpi.id) == before
    with db.read() as session:
        after = [
            (r.grain, r.period, r.total)
            for r in session.scalars(select(RollupRow).order_by(RollupRow.period))
        ]
    assert after == rollups_before
    assert len(ingest.list_batches(db)) == 1


COMMA = SourceFormat(delimiter=",")
LATIN_1 = "Datum;Wert\n01.01.2025;2,0\n02.01.2025;Kühl\n".encode("latin-1")
UNREADABLE = {
    "encoding": (LATIN_1, DE.with_(encoding="utf-8"), ColumnMapping("Datum", "Wert"), "not valid UTF-8"),
    "ragged line": (b"period,value\n2025-01-01,1\n2025-01-02,1,9\n", COMMA, MAPPING, "Line 3 has 3 fields"),
    "unknown column": (b"period,amount\n2025-01-01,1\n", COMMA, MAPPING, "Map the period and value columns"),
    "header only": (b"period,segment,value\n", COMMA, MAPPING, "no rows of data"),
    "one column twice": (
        b"period,value\n2025-01-01,1\n",
        COMMA,
        ColumnMapping("period", "period"),
        "one role",
    ),
}


@pytest.mark.parametrize(("data", "fmt", "mapping", "message"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_file_that_cannot_be_read_as_declared_is_refused(
    db: Database, data: bytes, fmt: SourceFormat, mapping: ColumnMapping, message: str
) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    with pytest.raises(InvalidInput) as refused:
        load(db, ws.owner, kpi, data, fmt=fmt, mapping=mapping)
    assert message in refused.value.problems[0].message
    assert nothing_stored(db)


def test_an_oversized_file_is_refused_before_it_is_parsed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    monkeypatch.setenv(uploads.MAX_UPLOAD_ENV, "0.001")  # about 1 KB

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(files, "read_table", never)
    big = csv_file([(d, "N1", 2.0) for d in days(JAN, 100)])
    for attempt in (
        lambda: load(db, ws.owner, kpi, big, "big.csv"),
        lambda: ingest.preview(db, kpi.id, big, "big.csv", SourceFormat()),
    ):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        assert "files are limited to 0 MB" in refused.value.problems[0].message
        assert "'big.csv' is" in refused.value.problems[0].message
    assert nothing_stored(db)


def test_loading_the_same_rows_again_is_an_upsert_without_duplicates(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    rows = [(d, s, 2.5) for d in days(JAN, 7) for s in ("N1", "S1")]
    load(db, ws.owner, kpi, csv_file(rows), "first.csv")
    again = load(db, ws.owner, kpi, csv_file(list(reversed(rows))), "reordered.csv")
    assert (again.new, again.changed, again.unchanged) == (0, 0, 14)
    assert count(db, ObservationRow) == 14
    rows[3] = (rows[3][0], rows[3][1], 9.0)
    fixed = load(db, ws.owner, kpi, csv_file(rows), "fixed.csv")
    assert (fixed.new, fixed.changed, fixed.unchanged) == (0, 1, 13)
    assert count(db, ObservationRow) == 14
    assert stored(db, kpi.id)[(rows[3][0], rows[3][1])] == 9.0


def test_the_identical_file_is_refused_with_when_and_by_whom_it_was_loaded(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    other = make_kpi(db, ws, "other")
    data = csv_file([(d, "N1", 2.0) for d in days(JAN, 3)])
    first = load(db, ws.owner, kpi, data, "jan.csv")
    with pytest.raises(DuplicateFile) as duplicate:
        load(db, ws.admin, kpi, data, "renamed.csv")
    message = str(duplicate.value)
    assert f"by Bianca (batch #{first.batch_id}, 'jan.csv', 3 rows)" in message
    assert f"on {utcnow():%Y-%m-%d}" in message
    assert ingest.preview(db, kpi.id, data, "renamed.csv", SourceFormat()).prior.batch_id == first.batch_id
    assert load(db, ws.owner, other, data, "jan.csv").new == 3  # another KPI: not a duplicate
    forced = load(db, ws.admin, kpi, data, "jan.csv", force=True)
    assert (forced.new, forced.unchanged) == (0, 3)


def test_a_check_counts_but_stores_nothing(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    result = load(db, ws.owner, kpi, csv_file([(d, "N1", 2.0) for d in days(JAN, 4)]), dry_run=True)
    assert (result.dry_run, result.new, result.batch_id) == (True, 4, None)
    assert nothing_stored(db)


def test_periods_move_to_the_start_of_the_kpis_period(db: Database) -> None:
    ws = workspace(db)
    monthly = make_kpi(db, ws, "cost", unit="EUR", aggregation="sum", frequency="month")
    load(db, ws.owner, monthly, csv_file([(date(2025, 1, 31), "", 10.0), (date(2025, 2, 14), "", 20.0)]))
    assert stored(db, monthly.id) == {(date(2025, 1, 1), ""): 10.0, (date(2025, 2, 1), ""): 20.0}
    with pytest.raises(Rejected) as rejected:  # two values for one month
        load(db, ws.owner, monthly, csv_file([(date(2025, 3, 3), "", 1.0), (date(2025, 3, 9), "", 2.0)]))
    assert "same month and segment" in rejected.value.problems[0].message
    fiscal = PRESETS["fiscal"][1]
    data = b'posting_period,region,cost_eur\n2025/004,N,"1,250.00"\n'
    result = load(
        db,
        ws.owner,
        monthly,
        data,
        "ap.csv",
        fmt=fiscal,
        mapping=ColumnMapping("posting_period", "cost_eur", "region"),
    )
    assert result.period_min == date(2025, 4, 1)
    assert stored(db, monthly.id)[(date(2025, 4, 1), "N")] == 1250.0


def test_excel_workbooks_and_values_typed_by_hand_use_the_same_checks(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    buffer = io.BytesIO()
    pd.DataFrame({"Date": [pd.Timestamp(2025, 1, 2)], "Store": ["N1"], "Value": [2.25]}).to_excel(
        buffer, index=False
    )
    result = load(
        db, ws.owner, kpi, buffer.getvalue(), "x.xlsx", mapping=ColumnMapping("Date", "Value", "Store")
    )
    assert (result.new, stored(db, kpi.id)) == (1, {(date(2025, 1, 2), "N1"): 2.25})
    typed = pd.DataFrame(
        {"Period": [date(2025, 1, 3), date(2025, 1, 2)], "Segment": ["N1", "N1"], "Value": [2.5, 2.25]}
    )
    mapping = ColumnMapping("Period", "Value", "Segment")
    by_hand = ingest.load_frame(
        db,
        ws.owner,
        kpi.id,
        typed,
        np.arange(1, 3),
        mapping,
        SourceFormat(),
        ingest.Origin("manual", "by hand"),
    )
    assert (by_hand.new, by_hand.unchanged) == (1, 1)
    nothing_new = ingest.load_frame(
        db,
        ws.owner,
        kpi.id,
        typed,
        np.arange(1, 3),
        mapping,
        SourceFormat(),
        ingest.Origin("manual", "by hand"),
    )
    assert nothing_new.batch_id is None  # a hand entry that changed nothing leaves no batch
    with pytest.raises(Rejected):
        ingest.load_frame(
            db, ws.owner, kpi.id, typed.assign(Value=["x", 1.0]), np.arange(1, 3), mapping, SourceFormat(),
            ingest.Origin("manual", "by hand"),
        )  # fmt: skip


def test_a_unit_column_must_match_the_kpis_unit(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws, "basket", unit="EUR")
    data = b"period;value;currency\n2025-01-01;24,00;EUR\n2025-01-02;25,00;USD\n"
    with pytest.raises(Rejected) as rejected:
        load(
            db,
            ws.owner,
            kpi,
            data,
            fmt=DE.with_(date_format="iso"),
            mapping=ColumnMapping("period", "value", "", "currency"),
        )
    [problem] = rejected.value.problems
    assert (problem.row, problem.field, problem.value) == (3, "currency", "USD")


def test_only_the_kpis_owners_and_admins_load_data(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    data = csv_file([(JAN, "N1", 2.0)])
    for someone in (ws.other_owner, ws.viewer, ws.scientist):
        with pytest.raises(PermissionDenied):
            load(db, someone, kpi, data)
    assert count(db, ObservationRow) == 0
    assert load(db, ws.admin, kpi, data).new == 1
    assert load(db, None, kpi, csv_file([(JAN, "N2", 2.0)]), source="cli").new == 1  # the command line
    assert [b.loaded_by_name for b in ingest.list_batches(db)] == ["command line", "Ada"]


def test_a_computed_kpi_takes_no_data_of_its_own(db: Database) -> None:
    ws = workspace(db)
    parent = make_kpi(db, ws, "total", unit="x", aggregation="sum")
    make_kpi(db, ws, "part", unit="x", aggregation="sum", parent_id=parent.id)
    parent = definitions.update_kpi(
        db, ws.owner, parent.id, parent.version, entities.KpiDraft.of(parent, formula="sum")
    )
    with pytest.raises(InvalidInput) as refused:
        load(db, ws.owner, parent, csv_file([(JAN, "N1", 2.0)]))
    assert "computed from its drivers" in refused.value.problems[0].message


def test_long_loads_report_progress_to_the_end(db: Database) -> None:
    ws = workspace(db)
    kpi = make_kpi(db, ws)
    steps: list[tuple[float, str]] = []
    load(
        db,
        ws.owner,
        kpi,
        csv_file([(d, "N1", 2.0) for d in days(JAN, 30)]),
        progress=lambda f, m: steps.append((f, m)),
    )
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert any("roll-ups" in m for _, m in steps)


# -- roll-ups are what a direct aggregation gives --------------------------------------------------

CHILDREN = {"": ["N", "S"], "N": ["N1", "N2"], "S": ["S1"]}  # the workspace's Region → Store
STORES = ["N1", "N2", "S1"]
Bucket = tuple[int, float, date, float]  # n, total, latest period, latest value


def direct_rollups(db: Database, kpi_id: int) -> dict[tuple[str, date, str, bool], Bucket]:
    """The roll-ups stated independently: own buckets per segment, then each node from its
    children, a child's own bucket winning over its derived one."""
    own: dict[tuple[str, date, str], list[tuple[date, float]]] = {}
    for (period, segment), value in stored(db, kpi_id).items():
        for grain in ("day", "week", "month"):
            start = formats.day(formats.period_start(np.array([period], dtype="datetime64[D]"), grain)[0])
            own.setdefault((grain, start, segment), []).append((period, value))

    def bucket(points: list[tuple[date, float]]) -> Bucket:
        latest = max(points)
        return len(points), sum(v for _, v in points), latest[0], latest[1]

    def value(grain: str, start: date, node: str) -> Bucket | None:
        if (grain, start, node) in own:
            return bucket(own[(grain, start, node)])
        return derived(grain, start, node)

    def derived(grain: str, start: date, node: str) -> Bucket | None:
        parts = [v for c in CHILDREN.get(node, []) if (v := value(grain, start, c)) is not None]
        if not parts:
            return None
        return (
            sum(p[0] for p in parts),
            sum(p[1] for p in parts),
            max(p[2] for p in parts),
            sum(p[3] for p in parts),
        )

    expected: dict[tuple[str, date, str, bool], Bucket] = {}
    for grain, start, segment in own:
        if grain != "day":
            expected[(grain, start, segment, False)] = bucket(own[(grain, start, segment)])
    for grain, start in {(g, b) for g, b, _ in own}:
        for node in CHILDREN:
            if (found := derived(grain, start, node)) is not None:
                expected[(grain, start, node, True)] = found
    return expected


def stored_rollups(db: Database, kpi_id: int) -> dict[tuple[str, date, str, bool], Bucket]:
    with db.read() as session:
        rows = session.scalars(select(RollupRow).where(RollupRow.kpi_id == kpi_id))
        return {
            (r.grain, r.period, r.segment, r.derived): (
                r.n,
                pytest.approx(r.total),
                r.last_period,
                r.last_value,
            )
            for r in rows
        }


KPI_NUMBERS = itertools.count()


@pytest.fixture
def shared_ws(db: Database) -> Workspace:
    """One workspace for all examples of a property test (fixtures are not rebuilt per example)."""
    return workspace(db)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    loads=st.lists(
        st.lists(
            st.tuples(
                st.integers(0, 75), st.sampled_from(["N1", "N2", "S1", "N", ""]), st.integers(-500, 500)
            ),
            min_size=1,
            max_size=40,
            unique_by=lambda r: (r[0], r[1]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_roll_ups_always_equal_a_direct_aggregation_of_the_observations(
    db: Database, shared_ws: Workspace, loads: list[list[tuple[int, str, int]]]
) -> None:
    """Overlapping loads that add and change values across week and month boundaries."""
    kpi = make_kpi(db, shared_ws, f"sales_{next(KPI_NUMBERS)}", aggregation="sum")
    start = date(2025, 1, 27)  # a Monday, days before a month ends
    for number, rows in enumerate(loads):
        data = csv_file([(start + timedelta(days=d), s, v / 10) for d, s, v in rows])
        load(db, shared_ws.owner, kpi, data, f"load{number}.csv", force=True)
        assert stored_rollups(db, kpi.id) == direct_rollups(db, kpi.id)
