"""Numbers as people read them, the same on every page: KPI values with their unit, compact money,
differences in points for rates."""

from __future__ import annotations

import numpy as np


def format_value(value: float | None, unit: str) -> str:
    """A KPI value as people read it: 2.26%, 593 offers, 12,480 EUR."""
    if value is None or not np.isfinite(value):
        return "—"
    digits = 2 if abs(value) < 100 else 0
    number = f"{value:,.{digits}f}"
    return f"{number}%" if unit == "%" else f"{number} {unit}".strip()


def format_money(value: float | None, currency: str, signed: bool = False) -> str:
    """Compact money: +51 k EUR, 1.3 M EUR."""
    if value is None or not np.isfinite(value):
        return "—"
    sign = ("+" if value >= 0 else "−") if signed else ("−" if value < 0 else "")
    size = abs(value)
    number = (
        f"{size / 1e6:,.1f} M" if size >= 1e6 else f"{size / 1e3:,.0f} k" if size >= 1e4 else f"{size:,.0f}"
    )
    return f"{sign}{number} {currency}".strip()


def format_delta(value: float, unit: str) -> str:
    """A difference: percentage points for a rate in %, otherwise the unit."""
    return f"{format_value(value, '')} points" if unit == "%" else format_value(value, unit)
