"""Business context of the data: the data dictionary and coded hierarchies.

This is the knowledge that usually gets lost between the business and its data scientists: what a
field means, its unit and format, which codes it may hold, whether it is personal data and on what
lawful basis, and how codes roll up (Store → Region). Business owners keep their own entries,
admins any; everything is importable from CSV with a row-level report, all-or-nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck import audit, formats
from flightdeck.auth import User, authorize, can
from flightdeck.db import Database
from flightdeck.editing import check_version, flush_or_stale, save_edit, touch
from flightdeck.errors import InvalidInput, NotFound, Problem
from flightdeck.exports import csv_bytes
from flightdeck.goals import check_business_owner, hand_over
from flightdeck.orm import DataFieldRow, HierarchyNodeRow, HierarchyRow
from flightdeck.orm.context import DATA_TYPES, LAWFUL_BASES
from flightdeck.roles import Role
from flightdeck.users import COMMAND_LINE

__all__ = [
    "DATA_TYPES",
    "EXPERIMENT_ARMS",
    "LAWFUL_BASES",
    "AllowedCode",
    "DataField",
    "FieldDraft",
    "Hierarchy",
    "HierarchyDraft",
    "HierarchyNode",
    "ImportResult",
    "create_field",
    "create_hierarchy",
    "get_field_by_key",
    "get_hierarchy",
    "import_fields",
    "import_nodes",
    "list_fields",
    "list_hierarchies",
    "update_field",
    "update_hierarchy",
    "upsert_node",
]

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
# Segments of a KPI that are experiment arms, not places in a hierarchy.
EXPERIMENT_ARMS = ("treatment", "control")
FIELD_LIMITS = {"label": 120, "meaning": 4000, "unit": 32, "format": 64}
LAWFUL_BASIS_LABELS = {
    "consent": "Consent (Art. 6(1)(a))",
    "contract": "Contract (Art. 6(1)(b))",
    "legal_obligation": "Legal obligation (Art. 6(1)(c))",
    "vital_interests": "Vital interests (Art. 6(1)(d))",
    "public_task": "Public task (Art. 6(1)(e))",
    "legitimate_interests": "Legitimate interests (Art. 6(1)(f))",
}
FIELD_COLUMNS = ("key", "label", "meaning", "data_type", "unit", "format", "allowed_codes", "personal_data")
NODE_COLUMNS = ("code", "label", "parent_code")
_TRUE = {"yes", "y", "true", "1", "ja", "x"}
_FALSE = {"no", "n", "false", "0", "nein", ""}


def actor_id(actor: User | None) -> int | None:
    return actor.id if actor else None


def actor_name(actor: User | None) -> str:
    return actor.display_name if actor else COMMAND_LINE


# -- the data dictionary -----------------------------------------------------------------------


@dataclass(frozen=True)
class AllowedCode:
    code: str
    label: str


@dataclass(frozen=True)
class DataField:
    """A field of the source data as the business defines it."""

    id: int
    key: str
    label: str
    meaning: str
    data_type: str
    unit: str
    format: str
    allowed_codes: tuple[AllowedCode, ...]
    personal_data: bool
    lawful_basis: str
    owner_id: int
    version: int
    owner_name: str = ""
    updated_at: datetime | None = None

    @property
    def owner_ids(self) -> frozenset[int]:
        return frozenset({self.owner_id})


@dataclass(frozen=True)
class FieldDraft:
    key: str
    label: str
    data_type: str = "text"
    meaning: str = ""
    unit: str = ""
    format: str = ""
    allowed_codes: tuple[AllowedCode, ...] = ()
    personal_data: bool = False
    lawful_basis: str = ""
    owner_id: int | None = None


def _field_view(row: DataFieldRow) -> DataField:
    return DataField(
        id=row.id,
        key=row.key,
        label=row.label,
        meaning=row.meaning,
        data_type=row.data_type,
        unit=row.unit,
        format=row.format,
        allowed_codes=tuple(AllowedCode(c["code"], c["label"]) for c in row.allowed_codes),
        personal_data=row.personal_data,
        lawful_basis=row.lawful_basis,
        owner_id=row.owner_id,
        version=row.version,
        owner_name=row.owner.display_name,
        updated_at=row.updated_at,
    )


def _field_values(row: DataFieldRow) -> dict[str, object]:
    return {
        "key": row.key,
        "label": row.label,
        "meaning": row.meaning,
        "data_type": row.data_type,
        "unit": row.unit,
        "format": row.format,
        "allowed_codes": row.allowed_codes,
        "personal_data": row.personal_data,
        "lawful_basis": row.lawful_basis,
        "owner_id": row.owner_id,
    }


def list_fields(db: Database) -> list[DataField]:
    with db.read() as session:
        return [_field_view(r) for r in session.scalars(select(DataFieldRow).order_by(DataFieldRow.key))]


def get_field_by_key(db: Database, key: str) -> DataField:
    """The field with this key; `NotFound` when the dictionary has none."""
    with db.read() as session:
        row = session.scalar(select(DataFieldRow).where(DataFieldRow.key == key.strip()))
        if row is None:
            raise NotFound("Data field", key)
        return _field_view(row)


def _clean_field(draft: FieldDraft, row: int | None = None) -> FieldDraft:
    """Every problem with a field at once; `row` places them in an imported file."""
    problems: list[Problem] = []
    key = draft.key.strip()
    text = {name: str(getattr(draft, name) or "").strip() for name in FIELD_LIMITS}
    if not KEY_PATTERN.match(key):
        problems.append(
            Problem(
                "key",
                f"Key '{key[:70]}' must be the field's snake_case name as in the source data: "
                "a lower-case letter, then letters, digits or '_' (at most 64).",
                row,
                key[:70],
            )
        )
    if not text["label"]:
        problems.append(Problem("label", "Label is required.", row))
    for name, limit in FIELD_LIMITS.items():
        if len(text[name]) > limit:
            problems.append(Problem(name, f"{name.capitalize()} must be at most {limit} characters.", row))
    if draft.data_type not in DATA_TYPES:
        problems.append(
            Problem(
                "data_type",
                f"Type '{draft.data_type}' is not one of: {', '.join(DATA_TYPES)}.",
                row,
                str(draft.data_type),
            )
        )
    codes = [AllowedCode(c.code.strip(), c.label.strip()) for c in draft.allowed_codes]
    seen: set[str] = set()
    for code in codes:
        if not code.code or len(code.code) > 64:
            problems.append(
                Problem("allowed_codes", "Each allowed code needs 1–64 characters.", row, code.code)
            )
        elif code.code in seen:
            problems.append(Problem("allowed_codes", f"Code '{code.code}' is listed twice.", row, code.code))
        seen.add(code.code)
    if draft.data_type == "code" and not codes:
        problems.append(Problem("allowed_codes", "A field of type 'code' needs its allowed codes.", row))
    basis = draft.lawful_basis.strip()
    if basis and basis not in LAWFUL_BASES:
        problems.append(
            Problem(
                "lawful_basis",
                f"Lawful basis '{basis}' is not one of: {', '.join(LAWFUL_BASES)}.",
                row,
                basis,
            )
        )
    if draft.personal_data and not basis:
        problems.append(
            Problem("lawful_basis", "Personal data needs its lawful basis (GDPR Art. 6).", row, key)
        )
    if problems:
        raise InvalidInput(problems)
    return FieldDraft(
        key=key,
        label=text["label"],
        data_type=draft.data_type,
        meaning=text["meaning"],
        unit=text["unit"],
        format=text["format"],
        allowed_codes=tuple(codes),
        personal_data=bool(draft.personal_data),
        lawful_basis=basis if draft.personal_data else "",
        owner_id=draft.owner_id,
    )


def _owner_for(session: Session, actor: User | None, requested: int | None) -> int:
    """A business owner owns what they create; an admin or the command line names the owner."""
    if actor is not None and not actor.has(Role.ADMIN):
        return actor.id
    return check_business_owner(session, requested)


def _apply_field(row: DataFieldRow, clean: FieldDraft) -> None:
    row.key = clean.key
    row.label = clean.label
    row.meaning = clean.meaning
    row.data_type = clean.data_type
    row.unit = clean.unit
    row.format = clean.format
    row.allowed_codes = [{"code": c.code, "label": c.label} for c in clean.allowed_codes]
    row.personal_data = clean.personal_data
    row.lawful_basis = clean.lawful_basis


def _key_taken(session: Session, key: str, field_id: int | None) -> bool:
    found = session.scalar(select(DataFieldRow.id).where(DataFieldRow.key == key))
    return found is not None and found != field_id


def create_field(db: Database, actor: User | None, draft: FieldDraft) -> DataField:
    with db.transaction() as session:
        if actor is not None:
            authorize(actor, "context.create", entity="data field")
        clean = _clean_field(draft)
        if _key_taken(session, clean.key, None):
            raise InvalidInput(Problem("key", f"The dictionary already has a field '{clean.key}'."))
        row = DataFieldRow(owner_id=_owner_for(session, actor, clean.owner_id), updated_by_id=actor_id(actor))
        _apply_field(row, clean)
        session.add(row)
        session.flush()
        audit.record(
            session,
            by=actor,
            actor_name=COMMAND_LINE,
            action="data_field.create",
            entity_type="data_field",
            entity_id=row.id,
            after=_field_values(row),
        )
        session.refresh(row)
        return _field_view(row)


def update_field(
    db: Database, actor: User, field_id: int, expected_version: int, draft: FieldDraft
) -> DataField:
    """Owners edit their own fields, admins any; only an admin hands a field to another owner."""
    with db.transaction() as session:
        row = session.get(DataFieldRow, field_id)
        if row is None:
            raise NotFound("Data field", field_id)
        authorize(actor, "context.edit", _field_view(row), entity=f"data field {row.key}")
        check_version(session, row, expected_version, "data field")
        clean = _clean_field(draft)
        if _key_taken(session, clean.key, field_id):
            raise InvalidInput(Problem("key", f"The dictionary already has a field '{clean.key}'."))
        before = _field_values(row)
        _apply_field(row, clean)
        hand_over(session, actor, row, clean.owner_id)
        save_edit(
            session,
            actor,
            row,
            "data field",
            "data_field.update",
            "data_field",
            before,
            lambda: _field_values(row),
        )
        session.refresh(row)
        return _field_view(row)


# -- CSV imports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    def summary(self, noun: str) -> str:
        return f"{self.created} {noun}s created, {self.updated} updated, {self.unchanged} unchanged."


def _import_table(data: bytes, file_name: str, required: Iterable[str]) -> formats.Table:
    table = formats.read_table(data, file_name, formats.SourceFormat())
    table.frame.columns = [c.strip().lower() for c in table.columns]
    missing = [c for c in required if c not in table.frame.columns]
    if missing:
        raise InvalidInput(
            Problem("file", f"The file lacks the column(s) {', '.join(missing)} in its header row.")
        )
    return table


def _cell(value: object) -> str:
    return "" if formats.is_blank(value) else str(value).strip()


def parse_codes(text: str) -> tuple[AllowedCode, ...]:
    """`N=North|S=South` (or `N:North;S:South`) → allowed codes; a bare code is its own label."""
    codes = []
    for part in re.split(r"[|;]", text):
        if part.strip():
            code, *label = re.split(r"[=:]", part, maxsplit=1)
            codes.append(AllowedCode(code.strip(), (label[0] if label else code).strip() or code.strip()))
    return tuple(codes)


def format_codes(codes: Iterable[AllowedCode]) -> str:
    return "|".join(f"{c.code}={c.label}" for c in codes)


def _parse_flag(text: str, row: int, problems: list[Problem]) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered not in _FALSE:
        problems.append(Problem("personal_data", "Write yes or no.", row, text))
    return False


def import_fields(db: Database, actor: User | None, data: bytes, file_name: str) -> ImportResult:
    """Create or update dictionary fields by key from a CSV file; any bad row rejects the file."""
    table = _import_table(data, file_name, ("key", "label", "data_type"))
    with db.transaction() as session:
        if actor is not None:
            authorize(actor, "context.create", entity="data dictionary")
        existing = {r.key: r for r in session.scalars(select(DataFieldRow))}
        problems: list[Problem] = []
        drafts: list[tuple[int, FieldDraft]] = []
        seen: dict[str, int] = {}
        for number, record in zip(table.rows.tolist(), table.frame.to_dict("records"), strict=True):
            values = {c: _cell(record.get(c)) for c in (*FIELD_COLUMNS, "lawful_basis")}
            personal = _parse_flag(values["personal_data"], number, problems)
            draft = FieldDraft(
                key=values["key"],
                label=values["label"],
                data_type=values["data_type"].lower(),
                meaning=values["meaning"],
                unit=values["unit"],
                format=values["format"],
                allowed_codes=parse_codes(values["allowed_codes"]),
                personal_data=personal,
                lawful_basis=values["lawful_basis"].lower(),
            )
            try:
                clean = _clean_field(draft, number)
            except InvalidInput as invalid:
                problems.extend(invalid.problems)
                continue
            if clean.key in seen:
                problems.append(
                    Problem(
                        "key", f"Key '{clean.key}' is already on row {seen[clean.key]}.", number, clean.key
                    )
                )
                continue
            seen[clean.key] = number
            current = existing.get(clean.key)
            if (
                current is not None
                and actor is not None
                and not can(actor, "context.edit", _field_view(current))
            ):
                problems.append(
                    Problem(
                        "key",
                        f"Field '{clean.key}' belongs to {current.owner.display_name}; only they or an "
                        "admin may change it.",
                        number,
                        clean.key,
                    )
                )
                continue
            drafts.append((number, clean))
        if problems:
            raise InvalidInput(problems)
        owner = _owner_for(session, actor, None) if any(d.key not in existing for _, d in drafts) else None
        created = updated = 0
        for _, clean in drafts:
            row = existing.get(clean.key)
            if row is None:
                row = DataFieldRow(owner_id=owner, updated_by_id=actor_id(actor))
                _apply_field(row, clean)
                session.add(row)
                created += 1
                continue
            before = _field_values(row)
            _apply_field(row, clean)
            if _field_values(row) != before:
                touch(row, actor_id(actor))
                updated += 1
        session.flush()
        result = ImportResult(created, updated, len(drafts) - created - updated)
        audit.record(
            session,
            by=actor,
            actor_name=COMMAND_LINE,
            action="data_field.import",
            entity_type="data_dictionary",
            after={"file": file_name, "created": created, "updated": updated, "keys": sorted(seen)},
        )
        return result


def fields_csv(db: Database) -> bytes:
    """The dictionary in the import format, so it can be edited in a spreadsheet and re-imported."""
    rows = [
        [
            f.key,
            f.label,
            f.meaning,
            f.data_type,
            f.unit,
            f.format,
            format_codes(f.allowed_codes),
            "yes" if f.personal_data else "no",
            f.lawful_basis,
        ]
        for f in list_fields(db)
    ]
    return csv_bytes([*FIELD_COLUMNS, "lawful_basis"], rows)


# -- hierarchies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HierarchyNode:
    id: int
    code: str
    label: str
    parent_code: str | None
    depth: int


@dataclass(frozen=True)
class Hierarchy:
    id: int
    key: str
    name: str
    description: str
    levels: tuple[str, ...]
    owner_id: int
    owner_name: str
    version: int
    nodes: tuple[HierarchyNode, ...]

    @property
    def owner_ids(self) -> frozenset[int]:
        return frozenset({self.owner_id})

    @property
    def path(self) -> str:
        return " → ".join(self.levels)

    @cached_property
    def _by_code(self) -> dict[str, HierarchyNode]:
        return {n.code: n for n in self.nodes}

    @cached_property
    def _children(self) -> dict[str | None, list[HierarchyNode]]:
        """Each node's children, built once: pages walk hierarchies of thousands of stores."""
        found: dict[str | None, list[HierarchyNode]] = {}
        for n in self.nodes:
            found.setdefault(n.parent_code, []).append(n)
        return found

    def node(self, code: str) -> HierarchyNode | None:
        return self._by_code.get(code)

    def children(self, code: str | None) -> list[HierarchyNode]:
        """Direct children of `code`; of the top when `code` is None or ''."""
        return list(self._children.get(code or None, []))

    def descendants_by_depth(self, code: str | None) -> list[list[str]]:
        """Codes below `code` (the whole hierarchy for None), nearest level first."""
        levels: list[list[str]] = []
        frontier = [n.code for n in self.children(code)]
        while frontier:
            levels.append(frontier)
            frontier = [c.code for parent in frontier for c in self.children(parent)]
        return levels

    def ancestors(self, code: str) -> list[HierarchyNode]:
        """From the top down to the parent of `code`."""
        chain: list[HierarchyNode] = []
        node = self.node(code)
        while node is not None and node.parent_code is not None:
            node = self.node(node.parent_code)
            if node is not None:
                chain.insert(0, node)
        return chain

    def level_name(self, depth: int) -> str:
        return self.levels[depth] if depth < len(self.levels) else f"Level {depth + 1}"


@dataclass(frozen=True)
class HierarchyDraft:
    key: str
    name: str
    levels: tuple[str, ...]
    description: str = ""
    owner_id: int | None = None


def _hierarchy_view(row: HierarchyRow) -> Hierarchy:
    by_id = {n.id: n for n in row.nodes}
    depth: dict[int, int] = {}

    def depth_of(node: HierarchyNodeRow) -> int:
        if node.id not in depth:
            parent = by_id.get(node.parent_id) if node.parent_id else None
            depth[node.id] = 0 if parent is None else depth_of(parent) + 1
        return depth[node.id]

    nodes = tuple(
        HierarchyNode(
            n.id,
            n.code,
            n.label,
            by_id[n.parent_id].code if n.parent_id in by_id else None,
            depth_of(n),
        )
        for n in sorted(row.nodes, key=lambda n: n.code)
    )
    return Hierarchy(
        id=row.id,
        key=row.key,
        name=row.name,
        description=row.description,
        levels=tuple(row.levels),
        owner_id=row.owner_id,
        owner_name=row.owner.display_name,
        version=row.version,
        nodes=tuple(sorted(nodes, key=lambda n: (n.depth, n.code))),
    )


def hierarchy_of(session: Session, hierarchy_id: int) -> Hierarchy:
    """The hierarchy inside a caller's session (for the monitor and the ingest validation)."""
    row = session.get(HierarchyRow, hierarchy_id)
    if row is None:
        raise NotFound("Hierarchy", hierarchy_id)
    return _hierarchy_view(row)


def list_hierarchies(db: Database) -> list[Hierarchy]:
    with db.read() as session:
        rows = session.scalars(select(HierarchyRow).order_by(HierarchyRow.name))
        return [_hierarchy_view(r) for r in rows]


def get_hierarchy(db: Database, hierarchy_id: int) -> Hierarchy:
    with db.read() as session:
        return hierarchy_of(session, hierarchy_id)


def _clean_hierarchy(draft: HierarchyDraft) -> HierarchyDraft:
    problems = []
    key, name = draft.key.strip(), draft.name.strip()
    levels = tuple(level.strip() for level in draft.levels if level.strip())
    if not KEY_PATTERN.match(key):
        problems.append(
            Problem("key", "Key must be snake_case: a lower-case letter, then letters, digits or '_'.")
        )
    if not name or len(name) > 120:
        problems.append(Problem("name", "Name is required (at most 120 characters)."))
    if not levels or any(len(level) > 60 for level in levels) or len(levels) > 8:
        problems.append(Problem("levels", "Name each level, top first (e.g. Region, Store): 1–8 levels."))
    if len(set(levels)) != len(levels):
        problems.append(Problem("levels", "Each level needs a different name."))
    if len(draft.description) > 4000:
        problems.append(Problem("description", "Description must be at most 4000 characters."))
    if problems:
        raise InvalidInput(problems)
    return HierarchyDraft(key, name, levels, draft.description.strip(), draft.owner_id)


def _hierarchy_values(row: HierarchyRow) -> dict[str, object]:
    return {
        "key": row.key,
        "name": row.name,
        "description": row.description,
        "levels": list(row.levels),
        "owner_id": row.owner_id,
    }


def create_hierarchy(db: Database, actor: User | None, draft: HierarchyDraft) -> Hierarchy:
    with db.transaction() as session:
        if actor is not None:
            authorize(actor, "context.create", entity="hierarchy")
        clean = _clean_hierarchy(draft)
        if session.scalar(select(HierarchyRow.id).where(HierarchyRow.key == clean.key)):
            raise InvalidInput(Problem("key", f"A hierarchy with key '{clean.key}' exists already."))
        row = HierarchyRow(
            key=clean.key,
            name=clean.name,
            description=clean.description,
            levels=list(clean.levels),
            owner_id=_owner_for(session, actor, clean.owner_id),
            updated_by_id=actor_id(actor),
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            by=actor,
            actor_name=COMMAND_LINE,
            action="hierarchy.create",
            entity_type="hierarchy",
            entity_id=row.id,
            after=_hierarchy_values(row),
        )
        session.refresh(row)
        return _hierarchy_view(row)


def _editable_hierarchy(
    session: Session, actor: User | None, hierarchy_id: int, expected_version: int
) -> HierarchyRow:
    row = session.get(HierarchyRow, hierarchy_id)
    if row is None:
        raise NotFound("Hierarchy", hierarchy_id)
    if actor is not None:
        authorize(actor, "context.edit", _hierarchy_view(row), entity=f"hierarchy {row.key}")
    check_version(session, row, expected_version, "hierarchy")
    return row


def update_hierarchy(
    db: Database, actor: User, hierarchy_id: int, expected_version: int, draft: HierarchyDraft
) -> Hierarchy:
    with db.transaction() as session:
        row = _editable_hierarchy(session, actor, hierarchy_id, expected_version)
        clean = _clean_hierarchy(draft)
        taken = session.scalar(select(HierarchyRow.id).where(HierarchyRow.key == clean.key))
        if taken is not None and taken != hierarchy_id:
            raise InvalidInput(Problem("key", f"A hierarchy with key '{clean.key}' exists already."))
        deepest = max((n.depth for n in _hierarchy_view(row).nodes), default=-1)
        if deepest >= len(clean.levels):
            raise InvalidInput(
                Problem(
                    "levels", f"The hierarchy has nodes {deepest + 1} levels deep; name that many levels."
                )
            )
        before = _hierarchy_values(row)
        row.key, row.name, row.description, row.levels = (
            clean.key,
            clean.name,
            clean.description,
            list(clean.levels),
        )
        hand_over(session, actor, row, clean.owner_id)
        save_edit(
            session,
            actor,
            row,
            "hierarchy",
            "hierarchy.update",
            "hierarchy",
            before,
            lambda: _hierarchy_values(row),
        )
        session.refresh(row)
        return _hierarchy_view(row)


@dataclass(frozen=True)
class _NodeEdit:
    row: int | None
    code: str
    label: str
    parent_code: str


def _node_problems(edit: _NodeEdit, seen: dict[str, int | None]) -> list[Problem]:
    if not CODE_PATTERN.match(edit.code):
        message = "Code must be 1–64 letters, digits, '.', '_', '/' or '-', starting with a letter or digit."
        return [Problem("code", message, edit.row, edit.code[:70])]
    if edit.code.lower() in EXPERIMENT_ARMS:
        return [Problem("code", f"'{edit.code}' is reserved for experiment arms.", edit.row, edit.code)]
    if edit.code in seen:
        return [
            Problem("code", f"Code '{edit.code}' is already on row {seen[edit.code]}.", edit.row, edit.code)
        ]
    if not edit.label or len(edit.label) > 120:
        return [Problem("label", "Label is required (at most 120 characters).", edit.row, edit.label[:70])]
    return []


def _depths(parents: dict[str, str]) -> tuple[dict[str, int], set[str]]:
    """Depth of every code under the parent map (top = 0), and the codes caught in a cycle."""
    depth: dict[str, int] = {}
    cyclic: set[str] = set()
    for start in parents:
        chain: list[str] = []
        cursor = start
        while cursor and cursor not in depth and cursor not in chain and cursor not in cyclic:
            chain.append(cursor)
            cursor = parents.get(cursor, "")
        if cursor in chain or cursor in cyclic:
            cyclic.update(chain)
            continue
        base = depth[cursor] if cursor else -1
        for offset, code in enumerate(reversed(chain), start=1):
            depth[code] = base + offset
    return depth, cyclic


def _apply_nodes(session: Session, hierarchy: HierarchyRow, edits: list[_NodeEdit]) -> ImportResult:
    """Check the edits against the hierarchy as it would be, then apply all of them or none."""
    nodes = {n.code: n for n in hierarchy.nodes}
    current = _parent_codes(hierarchy)
    parents = dict(current)
    problems: list[Problem] = []
    seen: dict[str, int | None] = {}
    valid: list[_NodeEdit] = []
    for edit in edits:
        found = _node_problems(edit, seen)
        seen.setdefault(edit.code, edit.row)
        if found:
            problems.extend(found)
        else:
            valid.append(edit)
            parents[edit.code] = edit.parent_code
    for edit in valid:
        if edit.parent_code and edit.parent_code not in parents:
            message = f"Parent '{edit.parent_code}' is not a node of this hierarchy."
            problems.append(Problem("parent_code", message, edit.row, edit.parent_code))
    depth, cyclic = _depths(parents)
    levels = len(hierarchy.levels)
    for edit in valid:
        if edit.code in cyclic:
            problems.append(
                Problem("parent_code", f"Node '{edit.code}' would be its own ancestor.", edit.row, edit.code)
            )
        elif depth.get(edit.code, 0) >= levels:
            message = (
                f"Node '{edit.code}' would sit {depth[edit.code] + 1} levels deep; the hierarchy has "
                f"{levels} ({' → '.join(hierarchy.levels)})."
            )
            problems.append(Problem("parent_code", message, edit.row, edit.code))
    if problems:
        raise InvalidInput(problems)
    created = updated = 0
    for edit in valid:
        node = nodes.get(edit.code)
        if node is None:
            nodes[edit.code] = HierarchyNodeRow(code=edit.code, label=edit.label)
            hierarchy.nodes.append(nodes[edit.code])
            created += 1
        elif (node.label, current[edit.code]) != (edit.label, edit.parent_code):
            node.label = edit.label
            updated += 1
    session.flush()  # new nodes get their ids before parents point at them
    for edit in valid:
        nodes[edit.code].parent_id = nodes[edit.parent_code].id if edit.parent_code else None
    session.flush()
    return ImportResult(created, updated, len(valid) - created - updated)


def _parent_codes(hierarchy: HierarchyRow) -> dict[str, str]:
    """Each node's parent code ('' at the top)."""
    by_id = {n.id: n.code for n in hierarchy.nodes}
    return {n.code: by_id.get(n.parent_id, "") if n.parent_id else "" for n in hierarchy.nodes}


def _record_nodes(
    session: Session, actor: User | None, row: HierarchyRow, action: str, after: dict[str, object]
) -> None:
    touch(row, actor_id(actor))
    flush_or_stale(session, "hierarchy")
    audit.record(
        session,
        by=actor,
        actor_name=COMMAND_LINE,
        action=action,
        entity_type="hierarchy",
        entity_id=row.id,
        after=after,
    )


def upsert_node(
    db: Database,
    actor: User | None,
    hierarchy_id: int,
    expected_version: int,
    code: str,
    label: str,
    parent_code: str = "",
) -> Hierarchy:
    """Add a node, or rename or move an existing one (by code)."""
    with db.transaction() as session:
        row = _editable_hierarchy(session, actor, hierarchy_id, expected_version)
        edit = _NodeEdit(None, code.strip(), label.strip(), parent_code.strip())
        labels = {n.code: n.label for n in row.nodes}
        parents = _parent_codes(row)
        _apply_nodes(session, row, [edit])
        after = {"code": edit.code, "label": edit.label, "parent": edit.parent_code}
        before = {"label": labels[edit.code], "parent": parents[edit.code]} if edit.code in labels else None
        _record_nodes(session, actor, row, "hierarchy.node_upsert", {**after, "before": before})
        session.refresh(row)
        return _hierarchy_view(row)


def import_nodes(
    db: Database, actor: User | None, hierarchy_id: int, expected_version: int, data: bytes, file_name: str
) -> ImportResult:
    """Create or update nodes from a CSV of `code,label,parent_code`; parents may come later in
    the file. Any bad row rejects the whole file."""
    table = _import_table(data, file_name, ("code", "label"))
    edits = [
        _NodeEdit(
            number, _cell(record.get("code")), _cell(record.get("label")), _cell(record.get("parent_code"))
        )
        for number, record in zip(table.rows.tolist(), table.frame.to_dict("records"), strict=True)
    ]
    with db.transaction() as session:
        row = _editable_hierarchy(session, actor, hierarchy_id, expected_version)
        result = _apply_nodes(session, row, edits)
        _record_nodes(
            session,
            actor,
            row,
            "hierarchy.import",
            {"file": file_name, "created": result.created, "updated": result.updated},
        )
        return result


def nodes_csv(hierarchy: Hierarchy) -> bytes:
    return csv_bytes(list(NODE_COLUMNS), [[n.code, n.label, n.parent_code or ""] for n in hierarchy.nodes])
