"""How a file declares its format: production systems write dates and numbers their own way (SAP's
YYYYMMDD and trailing minus, German Excel's decimal comma), so every upload names its format
rather than letting it be guessed."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from flightdeck.tabular import formats


def preset_choice(label: str, key: str | None = None, help: str | None = None) -> str:
    """One of the formats Flightdeck knows by name; `formats.PRESETS[name][1]` is its SourceFormat."""
    return st.selectbox(
        label, list(formats.PRESETS), format_func=lambda p: formats.PRESETS[p][0], key=key, help=help
    )


def option_choice(label: str, options: Mapping[str, str], current: str, key: str | None = None) -> str:
    """One detail of a format (`options` maps each value to its label), starting at `current`."""
    values = list(options)
    return st.selectbox(label, values, index=values.index(current), format_func=options.get, key=key)


def declared_format(key: str) -> formats.SourceFormat:
    """A preset, with every detail of it adjustable; widgets are keyed by the preset, so choosing
    another one starts its details afresh."""
    preset = preset_choice(
        "Source format",
        key=f"{key}_preset",
        help="How the source writes dates and numbers. Adjust the details below if it differs.",
    )
    base = formats.PRESETS[preset][1]
    with st.expander("Declared format", icon=":material/tune:"):
        a, b, c = st.columns(3)
        with a:
            date_format = option_choice("Dates", formats.DATE_FORMATS, base.date_format, f"{key}_d_{preset}")
        with b:
            decimal = option_choice(
                "Decimal separator", formats.DECIMALS, base.decimal, f"{key}_dec_{preset}"
            )
        with c:
            thousands = option_choice(
                "Thousands separator",
                {**formats.THOUSANDS, "": "none"},
                base.thousands,
                f"{key}_th_{preset}",
            )
        d, e, f = st.columns(3)
        with d:
            delimiter = option_choice("Delimiter", formats.DELIMITERS, base.delimiter, f"{key}_del_{preset}")
        with e:
            encoding = option_choice("Encoding", formats.ENCODINGS, base.encoding, f"{key}_enc_{preset}")
        fiscal = f.number_input(
            "Fiscal year starts in month", 1, 12, value=base.fiscal_year_start, key=f"{key}_fy_{preset}"
        )
        st.caption("Negative numbers may carry a leading minus or SAP's trailing minus (1.234,50-).")
    return formats.SourceFormat(date_format, decimal, thousands, encoding, delimiter, int(fiscal))
