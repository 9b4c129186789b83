"""Impact in money (`money_impact`): a KPI's money value per unit is what a one-unit improvement
sustained for a year is worth (the KPI's `value_per_unit`), so the annual run rate is the average
effect × value and the cumulative value to date is that × the years since go-live, each with its
interval. Totals add estimates and add intervals in quadrature."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.impact.estimates import Interval, MoneyImpact, check_direction, interval_digits, rounded_text


def money_impact(
    effect: Interval,
    *,
    years: float,
    value_per_unit: float,
    direction: str,
    currency: str = "EUR",
    expected_per_year: float | None = None,
) -> MoneyImpact:
    """Money from an average effect in KPI units: `value_per_unit` is what a one-unit improvement,
    sustained for a year, is worth (never negative; the KPI's direction says which way improves).
    Run rate = improvement × value per year; to date = run rate × `years` since go-live."""
    check_direction(direction)
    if value_per_unit < 0:
        raise InvalidInput(Problem("value_per_unit", "The money value of an improvement cannot be negative."))
    if years < 0:
        raise InvalidInput(Problem("years", "Years since go-live cannot be negative."))
    sign = 1.0 if direction == "up" else -1.0
    run_rate = effect.scaled(sign * value_per_unit)
    to_date = run_rate.scaled(years)
    share = run_rate.scaled(1.0 / expected_per_year) if expected_per_year else None
    summary = _money_sentence(run_rate, to_date, currency, years, expected_per_year)
    return MoneyImpact(currency, run_rate, to_date, float(years), expected_per_year, share, summary)


def total_money(items: Sequence[MoneyImpact]) -> MoneyImpact:
    """Roll-up per goal or portfolio: estimates add, and the interval half-widths add in quadrature,
    which assumes the estimates are independent (different KPIs and experiments)."""
    if not items:
        raise InvalidInput(Problem("items", "Nothing to add up."))
    currencies = {m.currency for m in items}
    if len(currencies) > 1:
        raise InvalidInput(Problem("currency", "Cannot add money in " + ", ".join(sorted(currencies)) + "."))

    def combined(intervals: list[Interval]) -> Interval:
        estimate = sum(i.estimate for i in intervals)
        below = float(np.sqrt(sum((i.estimate - i.low) ** 2 for i in intervals)))
        above = float(np.sqrt(sum((i.high - i.estimate) ** 2 for i in intervals)))
        return Interval(estimate, estimate - below, estimate + above)

    run_rate = combined([m.annual_run_rate for m in items])
    to_date = combined([m.to_date for m in items])
    expected = [m.expected_per_year for m in items]
    expected_total = sum(e for e in expected if e) if all(e is not None for e in expected) else None
    share = run_rate.scaled(1.0 / expected_total) if expected_total else None
    years = max(m.years for m in items)
    currency = items[0].currency
    summary = _money_sentence(run_rate, to_date, currency, None, expected_total)
    return MoneyImpact(currency, run_rate, to_date, years, expected_total, share, summary)


def _money_sentence(
    run_rate: Interval, to_date: Interval, currency: str, years: float | None, expected: float | None
) -> str:
    def amount(interval: Interval) -> str:
        digits = min(interval_digits((interval.high - interval.low) / 2), 2)
        return (
            f"{rounded_text(interval.estimate, digits)} {currency} "
            f"(95% CI {rounded_text(interval.low, digits)} to {rounded_text(interval.high, digits)})"
        )

    since = ""
    if years is not None:
        since = f", in the {years * 12:.0f} months since go-live" if years >= 1 / 12 else ""
        since = since.replace("in the 1 months", "in the month")
    sentence = f"Value at the current rate: {amount(run_rate)} a year; {amount(to_date)} to date{since}."
    if expected:
        sentence += (
            f" The goal expects {rounded_text(expected, 0)} {currency} a year; "
            f"the current rate is {run_rate.estimate / expected:.0%} of that."
        )
    return sentence
