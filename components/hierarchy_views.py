"""A coded hierarchy (Region → Store): its nodes as an indented tree, and the forms that add a
node or a hierarchy. Codes in KPI data roll up along it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import kpi_data
from components.feedback import save
from components.text import md
from flightdeck.business import hierarchies
from flightdeck.business.hierarchies import Hierarchy, HierarchyNode
from flightdeck.core.db import Database
from flightdeck.core.permissions import User


def node_tree(hierarchy: Hierarchy) -> None:
    """Every node under its parent, with its level, and the nodes as CSV."""
    st.caption(
        f"Levels: {md(hierarchy.path)} · {len(hierarchy.nodes)} nodes · owner {md(hierarchy.owner_name)}"
        + (f" · {md(hierarchy.description)}" if hierarchy.description else "")
    )
    ordered: list[tuple[HierarchyNode, int]] = []

    def visit(code: str | None, depth: int) -> None:
        for node in hierarchy.children(code):
            ordered.append((node, depth))
            visit(node.code, depth + 1)

    visit(None, 0)
    st.dataframe(
        pd.DataFrame(
            {
                "Node": ["    " * d + ("└ " if d else "") + n.label for n, d in ordered],
                "Code": [n.code for n, _ in ordered],
                "Level": [hierarchy.level_name(d) for _, d in ordered],
                "Parent": [n.parent_code or "" for n, _ in ordered],
            }
        ),
        hide_index=True,
        width="stretch",
        height=min(35 * len(ordered) + 38, 420),
    )
    st.download_button(
        "Download nodes as CSV",
        data=hierarchies.nodes_csv(hierarchy),
        file_name=f"{hierarchy.key}.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def node_form(db: Database, user: User, hierarchy: Hierarchy) -> None:
    """Add a node, or rename or move one by its code."""
    with (
        st.expander("Add or change a node", icon=":material/edit:"),
        st.form(f"node_{hierarchy.id}_v{hierarchy.version}", border=False),
    ):
        a, b, c = st.columns(3)
        code = a.text_input("Code", max_chars=64, help="An existing code renames or moves that node.")
        label = b.text_input("Label", max_chars=120)
        parents = ["", *(n.code for n in hierarchy.nodes if n.depth < len(hierarchy.levels) - 1)]
        parent = c.selectbox(
            "Parent",
            parents,
            format_func=lambda p: p or f"— (a {hierarchy.levels[0].lower()})",
        )
        if st.form_submit_button("Save node", type="primary", icon=":material/save:"):
            save(
                lambda: hierarchies.upsert_node(
                    db, user, hierarchy.id, hierarchy.version, code, label, parent
                ),
                f"Node {code.strip()} saved.",
                kpi_data.clear,
            )


def new_hierarchy(db: Database, user: User) -> None:
    """Create a hierarchy from its name, key and levels, top first."""
    with st.expander("New hierarchy", icon=":material/add:"), st.form("new_hierarchy", border=False):
        a, b = st.columns(2)
        name = a.text_input("Name", max_chars=120, placeholder="Region → Store")
        key = b.text_input("Key", max_chars=64, placeholder="region_store")
        levels = st.text_input("Levels, top first", placeholder="Region, Store")
        description = st.text_area("Description", max_chars=4000)
        if st.form_submit_button("Create hierarchy", type="primary", icon=":material/save:"):
            draft = hierarchies.HierarchyDraft(key, name, tuple(levels.split(",")), description)
            save(
                lambda: hierarchies.create_hierarchy(db, user, draft),
                f"Hierarchy {name.strip()} created.",
                kpi_data.clear,
            )
