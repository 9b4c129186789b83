"""Coded hierarchies of the business (Region → Store, Category → Product group): the nodes KPI
segments are checked against and roll up along.

Nodes are added, renamed or moved one at a time or imported from CSV (`code,label,parent_code`,
parents may come later in the file); every edit is checked against the hierarchy as it would be
(no loops, no node deeper than the named levels) and applied all-or-nothing. `treatment` and
`control` are reserved: they are experiment arms, segments outside every hierarchy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from flightdeck.business.csv_import import ImportResult, cell_text, read_import_table
from flightdeck.business.ownership import hand_over, owner_for
from flightdeck.core import audit
from flightdeck.core.actors import COMMAND_LINE, actor_id
from flightdeck.core.db import Database, get_or_raise
from flightdeck.core.editing import check_version, flush_or_stale, save_edit, save_new, touch
from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.core.keys import KEY_PATTERN
from flightdeck.core.permissions import User, authorize
from flightdeck.orm import HierarchyNodeRow, HierarchyRow
from flightdeck.tabular.exports import csv_bytes

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


# Segments of a KPI that are experiment arms, not places in a hierarchy.
EXPERIMENT_ARMS = ("treatment", "control")
NODE_COLUMNS = ("code", "label", "parent_code")


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
    row = get_or_raise(session, HierarchyRow, hierarchy_id, "Hierarchy")
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
            owner_id=owner_for(session, actor, clean.owner_id),
            updated_by_id=actor_id(actor),
        )
        save_new(session, actor, row, "hierarchy.create", "hierarchy", lambda: _hierarchy_values(row))
        return _hierarchy_view(row)


def _editable_hierarchy(
    session: Session, actor: User | None, hierarchy_id: int, expected_version: int
) -> HierarchyRow:
    row = get_or_raise(session, HierarchyRow, hierarchy_id, "Hierarchy")
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
    table = read_import_table(data, file_name, ("code", "label"))
    edits = [
        _NodeEdit(
            number,
            cell_text(record.get("code")),
            cell_text(record.get("label")),
            cell_text(record.get("parent_code")),
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
