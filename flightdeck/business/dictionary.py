"""The data dictionary: what each field of the source data means, its type, unit and format, which
codes it may hold, and whether it is personal data and on what lawful basis (GDPR Art. 6).

This is the knowledge that usually gets lost between the business and its data scientists.
Business owners keep their own fields, admins any; the dictionary imports from and exports to CSV
with a row-level report, all-or-nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.business.csv_import import ImportResult, cell_text, read_import_table
from flightdeck.business.ownership import hand_over, owner_for
from flightdeck.core import audit
from flightdeck.core.actors import COMMAND_LINE, actor_id
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.editing import check_version, save_edit, save_new, touch
from flightdeck.core.errors import InvalidInput, NotFound, Problem
from flightdeck.core.keys import KEY_PATTERN
from flightdeck.core.permissions import User, authorize, can
from flightdeck.orm import DataFieldRow
from flightdeck.orm.context import DATA_TYPES, LAWFUL_BASES
from flightdeck.tabular.exports import csv_bytes

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
_TRUE = {"yes", "y", "true", "1", "ja", "x"}
_FALSE = {"no", "n", "false", "0", "nein", ""}


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
        row = DataFieldRow(owner_id=owner_for(session, actor, clean.owner_id), updated_by_id=actor_id(actor))
        _apply_field(row, clean)
        save_new(session, actor, row, "data_field.create", "data_field", lambda: _field_values(row))
        return _field_view(row)


def update_field(
    db: Database, actor: User, field_id: int, expected_version: int, draft: FieldDraft
) -> DataField:
    """Owners edit their own fields, admins any; only an admin hands a field to another owner."""
    with db.transaction() as session:
        row = get_or_raise(session, DataFieldRow, field_id, "Data field")
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
    table = read_import_table(data, file_name, ("key", "label", "data_type"))
    with db.transaction() as session:
        if actor is not None:
            authorize(actor, "context.create", entity="data dictionary")
        existing = {r.key: r for r in session.scalars(select(DataFieldRow))}
        problems: list[Problem] = []
        drafts: list[tuple[int, FieldDraft]] = []
        seen: dict[str, int] = {}
        for number, record in zip(table.rows.tolist(), table.frame.to_dict("records"), strict=True):
            values = {c: cell_text(record.get(c)) for c in (*FIELD_COLUMNS, "lawful_basis")}
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
        owner = owner_for(session, actor, None) if any(d.key not in existing for _, d in drafts) else None
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
