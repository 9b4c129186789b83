"""Business context: the data dictionary and the coded hierarchies. Business owners add and edit
their own entries (in the app or by CSV import), admins any; everyone reads them."""

import pandas as pd
import streamlit as st

from components import kpi_data, session
from components.csv_import import import_box
from components.edit_pin import EditPin
from components.feedback import show_problems
from components.field_views import field_details, field_form
from components.guard import guard
from components.hierarchy_views import new_hierarchy, node_form, node_tree
from components.row_picker import picked_row
from components.runtime import database
from flightdeck.accounts.users import users_with_role
from flightdeck.business import dictionary, hierarchies
from flightdeck.business.dictionary import LAWFUL_BASIS_LABELS
from flightdeck.core.errors import InvalidInput
from flightdeck.core.permissions import can
from flightdeck.core.roles import Role

FIELD_PIN = EditPin("data_field")

user = guard("context")
db = database()
st.title("Business context", anchor=False)
st.caption(
    "What the data means, as the business defines it: fields with their meaning, unit, format, allowed "
    "codes and personal-data status, and the hierarchies codes roll up along."
)
session.show_flash()
owners = users_with_role(db, Role.BUSINESS_OWNER) if user.has(Role.ADMIN) else None

dictionary_tab, hierarchies_tab = st.tabs(["Data dictionary", "Hierarchies"])

with dictionary_tab:
    fields = dictionary.list_fields(db)
    a, b, c = st.columns([3, 1, 1], vertical_alignment="bottom")
    search = a.text_input("Search", placeholder="Key, label, meaning or owner")
    personal_only = b.toggle("Personal data only")
    c.download_button(
        "Download as CSV",
        data=lambda: dictionary.fields_csv(db),
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
    row = picked_row(table, "fields_table")
    if row is not None:
        field = shown[row]
        with st.container(border=True):
            field_details(field)
            if can(user, "context.edit", field):
                base = FIELD_PIN.base(field)
                with st.expander(
                    "Edit this field", icon=":material/edit:", expanded=FIELD_PIN.is_stale(field.id)
                ):
                    draft = field_form(FIELD_PIN.form_key(field), base, owners)
                    if draft is not None:
                        FIELD_PIN.save(
                            field.id,
                            lambda: dictionary.update_field(db, user, field.id, base.version, draft),
                            f"Field {draft.key.strip()} saved.",
                        )
                    FIELD_PIN.show_refusal(field.id)
    else:
        st.caption("Select a field to see its allowed codes and to edit it.")

    if can(user, "context.create"):
        with st.expander("Add a field", icon=":material/add:"):
            draft = field_form("new_field", None, owners)
            if draft is not None:
                try:
                    created = dictionary.create_field(db, user, draft)
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
                lambda data, name: dictionary.import_fields(db, user, data, name).summary("field"),
            )

with hierarchies_tab:
    known = kpi_data.hierarchies(kpi_data.stamp())
    if known:
        ids = [h.id for h in known]
        by_id = {h.id: h for h in known}
        hierarchy_id = st.selectbox("Hierarchy", ids, format_func=lambda i: by_id[i].name, key="hierarchy")
        hierarchy = by_id[hierarchy_id]
        node_tree(hierarchy)
        if can(user, "context.edit", hierarchy):
            node_form(db, user, hierarchy)
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
        new_hierarchy(db, user)
