"""Business context: the data dictionary and the coded hierarchies. Business owners add and edit
their own entries (in the app or by CSV import), admins any; everyone reads them."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from components import kpi_data, session
from components.edit_pin import EditPin
from components.feedback import show_problems
from components.guard import guard
from components.problem_report import problem_report
from components.runtime import database
from components.text import md, when
from flightdeck.accounts.users import users_with_role
from flightdeck.business import dictionary as business_dictionary
from flightdeck.business import hierarchies
from flightdeck.business.dictionary import (
    DATA_TYPES,
    LAWFUL_BASES,
    LAWFUL_BASIS_LABELS,
    AllowedCode,
    DataField,
    FieldDraft,
)
from flightdeck.core.errors import InvalidInput, StaleEdit
from flightdeck.core.permissions import can
from flightdeck.core.roles import Role

FIELD_PIN = EditPin("data_field")
IMPORT_RESULT = "context_import_result"  # (which import, kind, message or problems) across the rerun

user = guard("context")
db = database()
st.title("Business context", anchor=False)
st.caption(
    "What the data means, as the business defines it: fields with their meaning, unit, format, allowed "
    "codes and personal-data status, and the hierarchies codes roll up along."
)
session.show_flash()
owners = users_with_role(db, Role.BUSINESS_OWNER) if user.has(Role.ADMIN) else None


def codes_line(codes: tuple[AllowedCode, ...]) -> str:
    return "\n".join(f"{c.code}={c.label}" for c in codes)


def field_form(form_key: str, field: DataField | None) -> FieldDraft | None:
    with st.form(form_key, border=False):
        a, b, c = st.columns([2, 2, 1])
        key = a.text_input(
            "Key", value=field.key if field else "", max_chars=64, help="The field's name in the source data."
        )
        label = b.text_input("Label", value=field.label if field else "", max_chars=120)
        data_type = c.selectbox("Type", DATA_TYPES, index=DATA_TYPES.index(field.data_type) if field else 0)
        meaning = st.text_area("Meaning", value=field.meaning if field else "", max_chars=4000)
        d, e = st.columns(2)
        unit = d.text_input(
            "Unit", value=field.unit if field else "", max_chars=32, placeholder="EUR, units, %"
        )
        fmt = e.text_input(
            "Format",
            value=field.format if field else "",
            max_chars=64,
            placeholder="DD.MM.YYYY, decimal comma",
        )
        codes = st.text_area(
            "Allowed codes",
            value=codes_line(field.allowed_codes) if field else "",
            help="One per line as CODE=Label (required for type 'code').",
        )
        f, g, h = st.columns([1, 2, 2])
        personal = f.checkbox("Personal data", value=field.personal_data if field else False)
        bases = ["", *LAWFUL_BASES]
        basis = g.selectbox(
            "Lawful basis",
            bases,
            index=bases.index(field.lawful_basis) if field else 0,
            format_func=lambda b: LAWFUL_BASIS_LABELS.get(b, "— (not personal data)"),
            help="GDPR Art. 6: required when the field is personal data.",
        )
        owner_id = None
        if owners:
            ids = [o.id for o in owners]
            names = {o.id: o.display_name for o in owners}
            owner_id = h.selectbox(
                "Owner",
                ids,
                index=ids.index(field.owner_id) if field and field.owner_id in ids else 0,
                format_func=names.__getitem__,
            )
        if not st.form_submit_button(
            "Save field" if field else "Add field", type="primary", icon=":material/save:"
        ):
            return None
    return FieldDraft(
        key=key,
        label=label,
        data_type=data_type,
        meaning=meaning,
        unit=unit,
        format=fmt,
        allowed_codes=business_dictionary.parse_codes(codes.replace("\n", "|")),
        personal_data=personal,
        lawful_basis=basis,
        owner_id=owner_id,
    )


def import_box(kind: str, label: str, help_text: str, run: Callable[[bytes, str], str]) -> None:
    """Upload a CSV, import it all or nothing, and keep the outcome on screen after the rerun."""
    upload = st.file_uploader(label, type=["csv"], key=f"upload_{kind}", help=help_text)
    if upload is not None and st.button("Import", icon=":material/upload:", key=f"import_{kind}"):
        try:
            result = run(upload.getvalue(), upload.name)
        except InvalidInput as invalid:
            st.session_state[IMPORT_RESULT] = (kind, upload.name, invalid)
        else:
            st.session_state.pop(IMPORT_RESULT, None)
            kpi_data.clear()
            session.flash("success", f"{upload.name}: {result}")
            st.rerun()
    outcome = st.session_state.get(IMPORT_RESULT)
    if outcome and outcome[0] == kind:
        problem_report(outcome[2], outcome[1], kind)


dictionary, hierarchies_tab = st.tabs(["Data dictionary", "Hierarchies"])

with dictionary:
    fields = business_dictionary.list_fields(db)
    a, b, c = st.columns([3, 1, 1], vertical_alignment="bottom")
    search = a.text_input("Search", placeholder="Key, label, meaning or owner")
    personal_only = b.toggle("Personal data only")
    c.download_button(
        "Download as CSV",
        data=lambda: business_dictionary.fields_csv(db),
        file_name="data-dictionary.csv",
        mime="text/csv",
        icon=":material/download:",
        help="In the import format: edit it in a spreadsheet and import it again.",
    )
    needle = search.strip().lower()
    shown = [
        f
        for f in fields
        if (not personal_only or f.personal_data)
        and (not needle or needle in f"{f.key} {f.label} {f.meaning} {f.owner_name}".lower())
    ]
    st.caption(
        f"{len(fields)} fields, {sum(f.personal_data for f in fields)} of them personal data"
        + (f"; {len(shown)} shown." if len(shown) != len(fields) else ".")
    )
    table = pd.DataFrame(
        {
            "Key": [f.key for f in shown],
            "Label": [f.label for f in shown],
            "Type": [f.data_type for f in shown],
            "Unit": [f.unit for f in shown],
            "Format": [f.format for f in shown],
            "Allowed codes": [
                ", ".join(c.code for c in f.allowed_codes[:6]) + ("…" if len(f.allowed_codes) > 6 else "")
                for f in shown
            ],
            "Personal data": [
                LAWFUL_BASIS_LABELS[f.lawful_basis] if f.personal_data else "No" for f in shown
            ],
            "Owner": [f.owner_name for f in shown],
        }
    )
    picked = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="fields_table",
    )
    if picked.selection.rows:
        field = shown[picked.selection.rows[0]]
        with st.container(border=True):
            st.subheader(f"{md(field.label)} · `{field.key}`", anchor=False)
            st.markdown(md(field.meaning) if field.meaning else "_No meaning stated yet._")
            facts = [
                f"**Type** {field.data_type}",
                f"**Unit** {md(field.unit or '—')}",
                f"**Format** {md(field.format or '—')}",
            ]
            if field.personal_data:
                facts.append(f"**Personal data**, lawful basis: {LAWFUL_BASIS_LABELS[field.lawful_basis]}")
            st.markdown(" · ".join(facts))
            if field.allowed_codes:
                st.dataframe(
                    pd.DataFrame(
                        {
                            "Code": [c.code for c in field.allowed_codes],
                            "Meaning": [c.label for c in field.allowed_codes],
                        }
                    ),
                    hide_index=True,
                    height=min(35 * len(field.allowed_codes) + 38, 260),
                )
            st.caption(
                f"Owner {md(field.owner_name)} · last changed {when(field.updated_at)} · "
                f"version {field.version}"
            )
            if can(user, "context.edit", field):
                base = FIELD_PIN.base(field)
                with st.expander(
                    "Edit this field", icon=":material/edit:", expanded=FIELD_PIN.is_stale(field.id)
                ):
                    draft = field_form(FIELD_PIN.form_key(field), base)
                    if draft is not None:
                        try:
                            business_dictionary.update_field(db, user, field.id, base.version, draft)
                        except StaleEdit as refusal:
                            FIELD_PIN.refused(field.id, refusal)
                        except InvalidInput as invalid:
                            show_problems(invalid)
                        else:
                            FIELD_PIN.done(field.id)
                            session.flash("success", f"Field {draft.key.strip()} saved.")
                            st.rerun()
                    FIELD_PIN.show_refusal(field.id)
    else:
        st.caption("Select a field to see its allowed codes and to edit it.")

    if can(user, "context.create"):
        with st.expander("Add a field", icon=":material/add:"):
            draft = field_form("new_field", None)
            if draft is not None:
                try:
                    created = business_dictionary.create_field(db, user, draft)
                except InvalidInput as invalid:
                    show_problems(invalid)
                else:
                    session.flash("success", f"Field {created.key} added.")
                    st.rerun()
        with st.expander("Import fields from CSV", icon=":material/upload_file:"):
            st.caption(
                "Columns: key, label, data_type, meaning, unit, format, allowed_codes "
                "(CODE=Label|CODE=Label), personal_data (yes/no), lawful_basis. Existing keys are "
                "updated; any bad row rejects the file."
            )
            import_box(
                "fields",
                "Dictionary CSV",
                "UTF-8 or Latin-1, comma- or semicolon-separated.",
                lambda data, name: business_dictionary.import_fields(db, user, data, name).summary("field"),
            )

with hierarchies_tab:
    stamp = kpi_data.stamp()
    known = kpi_data.hierarchies(stamp)
    if known:
        ids = [h.id for h in known]
        by_id = {h.id: h for h in known}
        hierarchy_id = st.selectbox("Hierarchy", ids, format_func=lambda i: by_id[i].name, key="hierarchy")
        hierarchy = by_id[hierarchy_id]
        st.caption(
            f"Levels: {md(hierarchy.path)} · {len(hierarchy.nodes)} nodes · owner {md(hierarchy.owner_name)}"
            + (f" · {md(hierarchy.description)}" if hierarchy.description else "")
        )
        ordered = []

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
        if can(user, "context.edit", hierarchy):
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
                    try:
                        hierarchies.upsert_node(
                            db, user, hierarchy.id, hierarchy.version, code, label, parent
                        )
                    except InvalidInput as invalid:
                        show_problems(invalid)
                    except StaleEdit as refusal:
                        st.error(md(str(refusal)), icon=":material/sync_problem:")
                    else:
                        kpi_data.clear()
                        session.flash("success", f"Node {code.strip()} saved.")
                        st.rerun()
            with st.expander("Import nodes from CSV", icon=":material/upload_file:"):
                st.caption("Columns: code, label, parent_code. Parents may come later in the file.")
                import_box(
                    f"nodes_{hierarchy.id}",
                    "Nodes CSV",
                    "Existing codes are renamed or moved; any bad row rejects the file.",
                    lambda data, name: hierarchies.import_nodes(
                        db, user, hierarchy.id, hierarchy.version, data, name
                    ).summary("node"),
                )
    else:
        st.info("No hierarchies yet.", icon=":material/account_tree:")
    if can(user, "context.create"):
        with st.expander("New hierarchy", icon=":material/add:"), st.form("new_hierarchy", border=False):
            a, b = st.columns(2)
            name = a.text_input("Name", max_chars=120, placeholder="Region → Store")
            key = b.text_input("Key", max_chars=64, placeholder="region_store")
            levels = st.text_input("Levels, top first", placeholder="Region, Store")
            description = st.text_area("Description", max_chars=4000)
            if st.form_submit_button("Create hierarchy", type="primary", icon=":material/save:"):
                draft = hierarchies.HierarchyDraft(key, name, tuple(levels.split(",")), description)
                try:
                    hierarchies.create_hierarchy(db, user, draft)
                except InvalidInput as invalid:
                    show_problems(invalid)
                else:
                    kpi_data.clear()
                    session.flash("success", f"Hierarchy {name.strip()} created.")
                    st.rerun()
