"""Builders for KPI tests: a small workspace (owners, a goal, Region → Store), KPIs and files,
all made through the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flightdeck.business import goals, hierarchies
from flightdeck.core.db import Database
from flightdeck.core.permissions import User
from flightdeck.core.roles import Role
from flightdeck.kpis import definitions, entities, ingest, validation
from flightdeck.tabular.formats import SourceFormat, format_number, format_period
from tests.factories import add_user

STORES = {"N": ("North", ["N1", "N2"]), "S": ("South", ["S1"])}
COMMA = SourceFormat(delimiter=",")
NODES_CSV = b"code,label,parent_code\nN,North,\nS,South,\nN1,North one,N\nN2,North two,N\nS1,South one,S\n"


@dataclass(frozen=True)
class Workspace:
    owner: User  # business owner of the goal
    other_owner: User  # a business owner who owns none of it
    admin: User
    viewer: User
    scientist: User
    goal: goals.Goal
    hierarchy: hierarchies.Hierarchy


def workspace(db: Database) -> Workspace:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    other = add_user(db, "bruno", Role.BUSINESS_OWNER)
    admin = add_user(db, "ada", Role.ADMIN)
    viewer = add_user(db, "victor", Role.VIEWER)
    scientist = add_user(db, "dana", Role.DATA_SCIENTIST)
    goal = goals.create_goal(db, owner, goals.GoalDraft(title="Reduce churn"))
    hierarchy = hierarchies.create_hierarchy(
        db, owner, hierarchies.HierarchyDraft("region_store", "Region → Store", ("Region", "Store"))
    )
    hierarchies.import_nodes(db, owner, hierarchy.id, hierarchy.version, NODES_CSV, "nodes.csv")
    return Workspace(
        owner, other, admin, viewer, scientist, goal, hierarchies.get_hierarchy(db, hierarchy.id)
    )


def make_kpi(db: Database, ws: Workspace, key: str = "churn", **fields: object) -> entities.Kpi:
    values: dict[str, object] = {
        "name": key.replace("_", " ").capitalize(),
        "unit": "%",
        "direction": "down",
        "aggregation": "mean",
        "hierarchy_id": ws.hierarchy.id,
        **fields,
    }
    return definitions.create_kpi(db, ws.owner, ws.goal.id, entities.KpiDraft(key=key, **values))  # type: ignore[arg-type]


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def csv_file(
    rows: list[tuple[date | str, str, float | str]],
    fmt: SourceFormat = COMMA,
    header: tuple[str, str, str] = ("period", "segment", "value"),
) -> bytes:
    """A file as a source in `fmt` writes it; strings are written as they are (for bad rows)."""
    delimiter = fmt.delimiter if fmt.delimiter in (",", ";", "\t") else ","
    lines = [delimiter.join(header)]
    for period, segment, value in rows:
        p = period if isinstance(period, str) else format_period(period, fmt)
        v = value if isinstance(value, str) else format_number(value, fmt)
        lines.append(delimiter.join([p, segment, v]))
    return ("\n".join(lines) + "\n").encode("utf-8")


MAPPING = validation.ColumnMapping("period", "value", "segment")


def load(
    db: Database,
    actor: User | None,
    kpi: entities.Kpi,
    data: bytes,
    name: str = "file.csv",
    **options: object,
) -> ingest.LoadResult:
    fmt = options.pop("fmt", COMMA)
    mapping = options.pop("mapping", MAPPING)
    return ingest.load_file(db, actor, kpi.id, data, name, fmt, mapping, **options)  # type: ignore[arg-type]
