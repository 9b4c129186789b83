"""What the impact estimators return, and what they share: an estimate with its 95% interval, the
verdict (positive, negative, inconclusive), "not enough data yet" as an answer, and the rounding of
figures to what their interval supports. Pure values: no database, no Streamlit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import stats

from flightdeck.core.errors import InvalidInput, Problem

LEVEL = 0.95
DIRECTIONS = ("up", "down")
PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
MIN_POST = {"day": 14, "week": 4, "month": 3}
DAYS_PER_YEAR = 365.25
DateLike = date | datetime | str | pd.Timestamp


class Verdict(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% interval."""

    estimate: float
    low: float
    high: float

    def covers(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)

    @property
    def excludes_zero(self) -> bool:
        return bool(self.low > 0 or self.high < 0)

    def scaled(self, factor: float) -> Interval:
        low, high = sorted((self.low * factor, self.high * factor))
        return Interval(self.estimate * factor, low, high)


UNDEFINED = Interval(float("nan"), float("nan"), float("nan"))  # e.g. a lift over a baseline of zero


@dataclass(frozen=True)
class SampleRatioCheck:
    """Chi-square test of the arm sizes against the planned split: a mismatch means the assignment or
    the logging is broken, and no effect estimate can be trusted until it is explained."""

    n_treatment: int
    n_control: int
    planned_treatment_share: float
    observed_treatment_share: float
    chi_square: float
    p_value: float
    mismatch: bool
    summary: str


@dataclass(frozen=True)
class NotEnoughData:
    """'Not enough data yet' is an answer: what is missing, in the KPI's periods."""

    method: str
    missing: tuple[str, ...]
    pre_periods: int
    post_periods: int

    @property
    def summary(self) -> str:
        return "Not enough data yet: " + "; ".join(self.missing) + "."


@dataclass(frozen=True)
class ControlImpact:
    """Treatment against control. `effect` is in KPI units (per period for period-level arms, per
    unit for unit-level arms); `relative_lift` is a fraction of the treatment's expected level
    without the model (−0.2 = 20% lower)."""

    method: str
    adjustment: str  # "difference-in-differences", "CUPED" or "none"
    effect: Interval
    relative_lift: Interval
    verdict: Verdict
    direction: str
    p_value: float
    standard_error: float
    degrees_of_freedom: float
    treatment_mean: float  # after go-live (CUPED: adjusted)
    control_mean: float
    n_treatment: int | None  # units per arm where known
    n_control: int | None
    pre_periods: int  # periods with both arms before go-live (0 for unit-level data)
    post_periods: int
    years_since_go_live: float | None  # span of the post-period; None for unit-level data
    pre_difference: float | None  # mean treatment − control before go-live, removed by DiD
    autocorrelation: float | None  # AR(1) coefficient of the period differences
    variance_method: str
    sample_ratio: SampleRatioCheck | None
    summary: str
    assumptions: tuple[str, ...]


@dataclass(frozen=True)
class CounterfactualImpact:
    """Actual against a counterfactual projected from before go-live. `effect` is the average
    effect per period, `cumulative` the sum over the post-period (KPI units × periods), `relative`
    the cumulative effect as a fraction of the cumulative counterfactual. `points` has one row per
    period: period, actual, expected, expected_low, expected_high (prediction interval), and after
    go-live effect, effect_low, effect_high, cumulative, cumulative_low, cumulative_high."""

    method: str
    effect: Interval
    cumulative: Interval
    relative: Interval
    verdict: Verdict
    direction: str
    frequency: str
    pre_periods: int
    post_periods: int
    years_since_go_live: float
    terms: tuple[str, ...]
    autocorrelation: float
    residual_sd: float
    summary: str
    assumptions: tuple[str, ...]
    points: pd.DataFrame = field(repr=False, compare=False)


@dataclass(frozen=True)
class MoneyImpact:
    """Money in the business's currency: positive is a benefit, whatever the KPI's direction."""

    currency: str
    annual_run_rate: Interval
    to_date: Interval
    years: float
    expected_per_year: float | None
    share_of_expected: Interval | None  # run rate as a fraction of the expected value
    summary: str


def check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise InvalidInput(Problem("direction", f"Direction must be 'up' or 'down', not {direction!r}."))


def verdict_of(interval: Interval, direction: str) -> Verdict:
    if not interval.excludes_zero:
        return Verdict.INCONCLUSIVE
    good = interval.estimate > 0 if direction == "up" else interval.estimate < 0
    return Verdict.POSITIVE if good else Verdict.NEGATIVE


def t_interval(estimate: float, se: float, df: float) -> Interval:
    half = float(stats.t.ppf(0.5 + LEVEL / 2, df)) * se
    return Interval(float(estimate), float(estimate - half), float(estimate + half))


def two_sided_p(estimate: float, se: float, df: float) -> float:
    return float(2 * stats.t.sf(abs(estimate / se), df)) if se > 0 else float(estimate == 0)


def interval_digits(spread: float) -> int:
    """Rounding (as for round()) that shows an interval's half-width to two significant digits:
    0.2 → 2 decimals, 371,644 → to the nearest 10,000."""
    if not np.isfinite(spread) or spread <= 0:
        return 2
    return int(min(6, 1 - np.floor(np.log10(spread))))


def rounded_text(value: float, digits: int) -> str:
    """Rounded, with thousands separators and a typographic minus."""
    return f"{round(value, digits) + 0.0:,.{max(digits, 0)}f}".replace("-", "−")


def magnitude(interval: Interval, unit: str) -> tuple[str, str]:
    """('0.60 points', '95% CI 0.40 to 0.80'), oriented so that a fall reads as a positive size."""
    sign = 1.0 if interval.estimate >= 0 else -1.0
    low, high = sorted((sign * interval.low, sign * interval.high))
    digits = interval_digits((high - low) / 2)
    number = rounded_text(abs(interval.estimate), digits)
    size = f"{number} points" if unit == "%" else f"{number} {unit}".strip()
    return size, f"95% CI {rounded_text(low, digits)} to {rounded_text(high, digits)}"


def verdict_phrase(verdict: Verdict) -> str:
    if verdict is Verdict.INCONCLUSIVE:
        return "inconclusive, as the interval includes no change"
    return f"a {verdict.value} effect"


def as_timestamp(value: DateLike, name: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).normalize()
    except (TypeError, ValueError) as error:
        raise InvalidInput(Problem(name, f"{name} is not a date: {value!r}.")) from error


def clean_series(values: pd.Series, name: str) -> pd.Series:
    """A float series on a sorted, unique DatetimeIndex, without missing values."""
    if not isinstance(values, pd.Series):
        raise InvalidInput(Problem(name, f"{name} must be a series indexed by period."))
    try:
        index = pd.DatetimeIndex(pd.to_datetime(values.index))
    except (TypeError, ValueError) as error:
        raise InvalidInput(Problem(name, f"The periods of {name} are not dates.")) from error
    series = pd.Series(pd.to_numeric(values.to_numpy(), errors="coerce"), index=index, dtype=float)
    if series.index.has_duplicates:
        raise InvalidInput(Problem(name, f"{name} has more than one value for some periods."))
    return series[np.isfinite(series.to_numpy())].sort_index()


def frequency_of(index: pd.DatetimeIndex, frequency: str | None) -> str:
    if frequency is not None:
        if frequency not in PERIOD_DAYS:
            raise InvalidInput(
                Problem("frequency", f"Frequency must be day, week or month, not {frequency!r}.")
            )
        return frequency
    if len(index) < 2:
        return "day"
    spacing = float(np.median(np.diff(index.to_numpy()).astype("timedelta64[D]").astype(float)))
    for name, (low, high) in {"day": (0.5, 1.5), "week": (5.5, 8.5), "month": (27.0, 32.0)}.items():
        if low <= spacing <= high:
            return name
    raise InvalidInput(
        Problem("frequency", f"Periods are {spacing:g} days apart: give the frequency (day, week or month).")
    )


def span_text(periods: int, frequency: str) -> str:
    """A number of periods in words: '8 weeks', '23 days', '3 months'."""
    if frequency == "day" and periods >= 14 and periods % 7 == 0:
        periods, frequency = periods // 7, "week"
    return f"{periods} {frequency}{'' if periods == 1 else 's'}"


def years_between(start: pd.Timestamp, last: pd.Timestamp, frequency: str) -> float:
    """Years from go-live to the end of the last observed period."""
    return ((last - start).days + PERIOD_DAYS[frequency]) / DAYS_PER_YEAR
