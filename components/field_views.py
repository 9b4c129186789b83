"""How a field of the data dictionary looks: its details with the allowed codes, and the form that
adds or edits it. Codes are typed one per line as CODE=Label."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from components.owner_picker import owner_choice
from components.text import md, when
from flightdeck.business.dictionary import (
    DATA_TYPES,
    LAWFUL_BASES,
    LAWFUL_BASIS_LABELS,
    AllowedCode,
    DataField,
    FieldDraft,
    parse_codes,
)
from flightdeck.core.permissions import User


def field_details(field: DataField) -> None:
    """Meaning, type, unit, format, personal-data status and the allowed codes of one field."""
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
        f"Owner {md(field.owner_name)} · last changed {when(field.updated_at)} · version {field.version}"
    )


def codes_line(codes: tuple[AllowedCode, ...]) -> str:
    return "\n".join(f"{c.code}={c.label}" for c in codes)


def field_form(form_key: str, field: DataField | None, owners: Sequence[User] | None) -> FieldDraft | None:
    """The form to add (`field=None`) or edit a field; `owners` is offered to admins only.
    Returns the draft when submitted; the service validates it."""
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
            with h:
                owner_id = owner_choice(owners, field.owner_id if field else None)
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
        allowed_codes=parse_codes(codes.replace("\n", "|")),
        personal_data=personal,
        lawful_basis=basis,
        owner_id=owner_id,
    )
