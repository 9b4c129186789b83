"""Business impact estimators: how much a model moved its KPI, with honest 95% intervals.

Pure functions on numbers (numpy, pandas, scipy): no database, no Streamlit. DESIGN.md §5.

With a control group, period-level arms (`impact_with_control`), e.g. a KPI observed daily for
`treatment` and `control`: everything is computed on the per-period difference
d_t = treatment_t − control_t, which removes what the arms share (seasonality, trend, common shocks).
With a pre-go-live period in both arms the effect is the difference-in-differences
mean(d after) − mean(d before), so a constant gap between arms that were never randomised (a pilot
region against the rest) gives no spurious effect. Without a pre-period it is mean(d after), which
assumes comparable (randomised) arms. Period series are autocorrelated: a Welch test on 60 daily
values treats them as 60 independent observations and its interval is too narrow. So the noise of
d_t is modelled as AR(1) (lag-1 autocorrelation from the residuals, corrected for its small-sample
bias, never below 0) and the variance of the contrast is computed exactly under that model; the
relative lift uses the delta method on the same model.

With a control group, unit-level arms (`impact_with_units`), e.g. one row per member: Welch's t
for the difference of means (independent units, unequal variances) and the delta method for the
relative lift. Where pre-period values exist, CUPED (Deng et al. 2013): post − θ·(pre − mean pre)
with θ the pooled within-arm regression slope, which removes the variance the pre-period explains
and, for arms that differ before go-live, their linear pre-period difference (ANCOVA).

Without a control group (`impact_without_control`): a counterfactual in the spirit of CausalImpact
(Brodersen et al. 2015), here a regression on a linear trend, weekly and annual seasonality as
Fourier terms and optional covariate series, with AR(1) errors fitted by Prais–Winsten on the
pre-period, projected over the post-period. Prediction intervals carry the AR(1) propagation of
the errors (so the cumulative interval widens at the right rate) and the parameter uncertainty.
It is frequentist and closed-form, not CausalImpact's Bayesian structural time series: milliseconds
for five years of days, and right for KPIs whose pre-period a trend and seasonality describe.
Assumptions: the pre-period pattern would have continued, nothing else changed at go-live, the
covariates are not affected by the model.

Money (`money_impact`): a KPI's money value per unit is what a one-unit improvement sustained for a
year is worth (the KPI's `value_per_unit`), so the annual run rate is the average effect × value
and the cumulative value to date is that × the years since go-live, each with its interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import linalg, optimize, signal, stats

from flightdeck.errors import InvalidInput, Problem

__all__ = [
    "ControlImpact",
    "CounterfactualImpact",
    "Interval",
    "MoneyImpact",
    "NotEnoughData",
    "SampleRatioCheck",
    "Verdict",
    "impact_with_control",
    "impact_with_units",
    "impact_without_control",
    "money_impact",
    "sample_ratio_check",
    "total_money",
]

LEVEL = 0.95
DIRECTIONS = ("up", "down")
PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
# Periods needed before / after go-live. Without a control group the pre-period must show the
# KPI's pattern (8 weeks of days: eight weekly cycles; two years of months: two annual cycles).
MIN_PRE_COUNTERFACTUAL = {"day": 56, "week": 26, "month": 24}
MIN_POST = {"day": 14, "week": 4, "month": 3}
MIN_PRE_CONTROL = {"day": 14, "week": 4, "month": 3}
MAX_AUTOCORRELATION = 0.98
SRM_THRESHOLD = 0.001  # p-value below which arm sizes are called a mismatch (a common SRM alarm level)
WEEKLY_HARMONICS, ANNUAL_HARMONICS = 3, 3
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


# -- helpers -----------------------------------------------------------------------------------


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise InvalidInput(Problem("direction", f"Direction must be 'up' or 'down', not {direction!r}."))


def _verdict(interval: Interval, direction: str) -> Verdict:
    if not interval.excludes_zero:
        return Verdict.INCONCLUSIVE
    good = interval.estimate > 0 if direction == "up" else interval.estimate < 0
    return Verdict.POSITIVE if good else Verdict.NEGATIVE


def _t_interval(estimate: float, se: float, df: float) -> Interval:
    half = float(stats.t.ppf(0.5 + LEVEL / 2, df)) * se
    return Interval(float(estimate), float(estimate - half), float(estimate + half))


def _p_value(estimate: float, se: float, df: float) -> float:
    return float(2 * stats.t.sf(abs(estimate / se), df)) if se > 0 else float(estimate == 0)


def _digits(spread: float) -> int:
    """Rounding (as for round()) that shows an interval's half-width to two significant digits:
    0.2 → 2 decimals, 371,644 → to the nearest 10,000."""
    if not np.isfinite(spread) or spread <= 0:
        return 2
    return int(min(6, 1 - np.floor(np.log10(spread))))


def _number(value: float, digits: int) -> str:
    """Rounded, with thousands separators and a typographic minus."""
    return f"{round(value, digits) + 0.0:,.{max(digits, 0)}f}".replace("-", "−")


def _magnitude(interval: Interval, unit: str) -> tuple[str, str]:
    """('0.60 points', '95% CI 0.40 to 0.80'), oriented so that a fall reads as a positive size."""
    sign = 1.0 if interval.estimate >= 0 else -1.0
    low, high = sorted((sign * interval.low, sign * interval.high))
    digits = _digits((high - low) / 2)
    number = _number(abs(interval.estimate), digits)
    size = f"{number} points" if unit == "%" else f"{number} {unit}".strip()
    return size, f"95% CI {_number(low, digits)} to {_number(high, digits)}"


def _verdict_phrase(verdict: Verdict) -> str:
    if verdict is Verdict.INCONCLUSIVE:
        return "inconclusive, as the interval includes no change"
    return f"a {verdict.value} effect"


def _as_timestamp(value: DateLike, name: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).normalize()
    except (TypeError, ValueError) as error:
        raise InvalidInput(Problem(name, f"{name} is not a date: {value!r}.")) from error


def _series(values: pd.Series, name: str) -> pd.Series:
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


def _frequency(index: pd.DatetimeIndex, frequency: str | None) -> str:
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


def _span(periods: int, frequency: str) -> str:
    """A number of periods in words: '8 weeks', '23 days', '3 months'."""
    if frequency == "day" and periods >= 14 and periods % 7 == 0:
        periods, frequency = periods // 7, "week"
    return f"{periods} {frequency}{'' if periods == 1 else 's'}"


def _ar1_times(values: np.ndarray, rho: float) -> np.ndarray:
    """R·v for the AR(1) correlation matrix R_ij = ρ^|i−j| (columns of a matrix at once), in O(n) by
    a forward and a backward recursive filter instead of an n×n matrix."""
    forward = signal.lfilter([1.0], [1.0, -rho], values, axis=0)
    backward = signal.lfilter([1.0], [1.0, -rho], values[::-1], axis=0)[::-1]
    return forward + backward - values


def _ar1_noise(residuals: np.ndarray, X: np.ndarray) -> tuple[float, float]:
    """(ρ, σ²) of AR(1) noise u from the residuals e = Mu of a least-squares fit on X.

    The lag-1 autocorrelation of residuals is biased towards zero in short series, by an amount that
    depends on what was fitted (a mean, a trend, seasonal terms). So ρ is the value at which the
    expected lag-1 ratio E[e'Ae]/E[e'e] of such residuals equals the observed one, computed exactly
    for this design, and σ² = e'e / E[e'e/σ²]. ρ is kept in [0, 0.98]: the interval is never
    narrower than for independent periods."""
    n = len(residuals)
    denominator = float(residuals @ residuals)
    if n < 4 or denominator == 0:
        return 0.0, denominator / max(n - X.shape[1], 1)
    observed = float(residuals[1:] @ residuals[:-1]) / denominator
    q = linalg.qr(X, mode="economic")[0]
    aq = np.zeros_like(q)  # A = (shift + shift')/2
    aq[1:] += q[:-1] / 2
    aq[:-1] += q[1:] / 2
    qaq = q.T @ aq

    def expected(rho: float) -> tuple[float, float]:
        rq = _ar1_times(q, rho)
        lag = (n - 1) * rho - 2 * float(np.sum(aq * rq)) + float(np.sum(qaq * (q.T @ rq)))
        return lag, n - float(np.sum(q * rq))

    def gap(rho: float) -> float:
        lag, total = expected(rho)
        return lag / total - observed

    if gap(0.0) >= 0:
        rho = 0.0
    elif gap(MAX_AUTOCORRELATION) <= 0:
        rho = MAX_AUTOCORRELATION
    else:
        rho = float(optimize.brentq(gap, 0.0, MAX_AUTOCORRELATION, xtol=1e-4))
    return rho, denominator / expected(rho)[1]


# -- with a control group: period-level arms ---------------------------------------------------


def impact_with_control(
    treatment: pd.Series,
    control: pd.Series,
    go_live: DateLike,
    *,
    direction: str = "up",
    name: str = "The KPI",
    unit: str = "",
    frequency: str | None = None,
    arm_sizes: tuple[int, int] | None = None,
    planned_treatment_share: float | None = None,
) -> ControlImpact | NotEnoughData:
    """Effect of the model on a KPI observed per period for both arms (series indexed by period).

    Periods on or after `go_live` are the post-period; only periods observed in both arms count, and
    they are taken as consecutive (a missing day shortens the series, it does not break it).
    `arm_sizes` (units in treatment, control) are reported as n per arm and, with a planned split,
    checked for a sample-ratio mismatch."""
    _check_direction(direction)
    start = _as_timestamp(go_live, "go_live")
    both = pd.concat([_series(treatment, "treatment"), _series(control, "control")], axis=1, join="inner")
    freq = _frequency(both.index, frequency)
    after = both.index >= start
    pre_periods, post_periods = int((~after).sum()), int(after.sum())
    missing = []
    if post_periods < MIN_POST[freq]:
        missing.append(
            f"needs at least {_span(MIN_POST[freq], freq)} after go-live in both arms; "
            f"has {_span(post_periods, freq)}"
        )
    if 0 < pre_periods < MIN_PRE_CONTROL[freq]:
        missing.append(
            f"needs at least {_span(MIN_PRE_CONTROL[freq], freq)} before go-live in both arms to remove "
            f"their difference; has {_span(pre_periods, freq)}"
        )
    if missing:
        return NotEnoughData("Comparison with the control group", tuple(missing), pre_periods, post_periods)

    values_t, values_c = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
    d = values_t - values_c
    did = pre_periods > 0
    d_post, d_pre = d[after].mean(), d[~after].mean() if did else 0.0
    segments = np.column_stack([after, ~after] if did else [after]).astype(float)
    residuals = d - np.where(after, d_post, d_pre)
    rho, sigma2 = _ar1_noise(residuals, segments)
    weights = np.where(after, 1.0 / post_periods, -1.0 / pre_periods if did else 0.0)
    effect = float(d_post - d_pre)
    se = float(np.sqrt(sigma2 * weights @ _ar1_times(weights, rho)))
    df = max(len(d) * (1 - rho) / (1 + rho) - segments.shape[1], 1.0)
    interval = _t_interval(effect, se, df)

    # Lift over the treatment's level without the model: control after go-live + the pre-period gap.
    # The realised control path is conditioned on; its uncertainty enters through the gap estimate.
    baseline = float(values_c[after].mean() + d_pre)
    lift = _lift_interval_periods(effect, baseline, after, pre_periods, post_periods, sigma2, rho, df)
    verdict = _verdict(interval, direction)
    sample_ratio = None
    if arm_sizes is not None and planned_treatment_share is not None:
        sample_ratio = sample_ratio_check(*arm_sizes, planned_treatment_share=planned_treatment_share)
    size, ci = _magnitude(interval, unit)
    adjusted = ", after removing the arms' difference before go-live" if did else ""
    summary = (
        f"{name} {'rose' if effect >= 0 else 'fell'} by {size} ({ci}) in the treatment group compared "
        f"with control{adjusted}: {_verdict_phrase(verdict)}."
    )
    if sample_ratio is not None and sample_ratio.mismatch:
        summary += " " + sample_ratio.summary
    variance_method = (
        f"AR(1)-corrected standard error on the per-period differences "
        f"(lag-1 autocorrelation {rho:.2f}, about {len(d) * (1 - rho) / (1 + rho):.0f} effective periods)"
    )
    last = both.index[after][-1]
    return ControlImpact(
        method=("Difference-in-differences" if did else "Difference of means")
        + " on the per-period treatment − control series, AR(1)-corrected",
        adjustment="difference-in-differences" if did else "none",
        effect=interval,
        relative_lift=lift,
        verdict=verdict,
        direction=direction,
        p_value=_p_value(effect, se, df),
        standard_error=se,
        degrees_of_freedom=df,
        treatment_mean=float(values_t[after].mean()),
        control_mean=float(values_c[after].mean()),
        n_treatment=int(arm_sizes[0]) if arm_sizes else None,
        n_control=int(arm_sizes[1]) if arm_sizes else None,
        pre_periods=pre_periods,
        post_periods=post_periods,
        years_since_go_live=_years(start, last, freq),
        pre_difference=float(d_pre) if did else None,
        autocorrelation=rho,
        variance_method=variance_method,
        sample_ratio=sample_ratio,
        summary=summary,
        assumptions=_period_assumptions(did, sample_ratio),
    )


def _lift_interval_periods(
    effect: float,
    baseline: float,
    after: np.ndarray,
    pre_periods: int,
    post_periods: int,
    sigma2: float,
    rho: float,
    df: float,
) -> Interval:
    """Delta method for effect / baseline with effect = mean(d after) − gap, baseline = mean(control
    after) + gap, gap = mean(d before): a linear contrast of the same AR(1) series d."""
    if baseline <= 0:
        return UNDEFINED
    on_gap = -(1.0 / baseline + effect / baseline**2) / pre_periods if pre_periods else 0.0
    weights = np.where(after, 1.0 / (baseline * post_periods), on_gap)
    se = float(np.sqrt(sigma2 * weights @ _ar1_times(weights, rho)))
    return _t_interval(effect / baseline, se, df)


def _years(start: pd.Timestamp, last: pd.Timestamp, frequency: str) -> float:
    """Years from go-live to the end of the last observed period."""
    return ((last - start).days + PERIOD_DAYS[frequency]) / DAYS_PER_YEAR


def _period_assumptions(did: bool, sample_ratio: SampleRatioCheck | None) -> tuple[str, ...]:
    items = [
        "The control group shows what the treatment group would have done without the model: "
        "anything that affects one arm and not the other at go-live (a local promotion, a price "
        "change) would be counted as the model's effect."
    ]
    if did:
        items.append(
            "The arms may differ, but by a constant: the average treatment − control gap before "
            "go-live is removed (difference-in-differences), assuming it would have stayed the same."
        )
    else:
        items.append(
            "There is no period before go-live with both arms, so the arms are assumed comparable, "
            "as in a randomised split; a pilot region compared with the rest may differ anyway."
        )
    items.append(
        "Periods are not independent (a good week tends to follow a good week): the interval allows "
        "for that by modelling the treatment − control difference as an AR(1) series."
    )
    items.append(
        "The effect is the average over the periods since go-live; one that builds up or fades is averaged."
    )
    if sample_ratio is not None:
        items.append(sample_ratio.summary)
    return tuple(items)


# -- with a control group: unit-level arms -----------------------------------------------------


def impact_with_units(
    treatment: np.ndarray | Sequence[bool] | pd.Series,
    post: np.ndarray | Sequence[float] | pd.Series,
    pre: np.ndarray | Sequence[float] | pd.Series | None = None,
    *,
    direction: str = "up",
    name: str = "The KPI",
    unit: str = "",
    planned_treatment_share: float | None = None,
) -> ControlImpact | NotEnoughData:
    """Effect of the model from one row per unit (member, store): `treatment` is True for treated
    units, `post` their KPI value after go-live and `pre` (optional) before it. With `pre` the
    estimate is CUPED-adjusted; without it, Welch's t-test."""
    _check_direction(direction)
    arm = np.asarray(treatment, dtype=bool)
    y = np.asarray(post, dtype=float)
    x = None if pre is None else np.asarray(pre, dtype=float)
    if len(arm) != len(y) or (x is not None and len(x) != len(y)):
        raise InvalidInput(Problem("units", "Arm, post and pre values must have one entry per unit."))
    keep = np.isfinite(y)
    arm, y = arm[keep], y[keep]
    n_t, n_c = int(arm.sum()), int((~arm).sum())
    if min(n_t, n_c) < 2:
        return NotEnoughData(
            "Comparison with the control group",
            (f"needs at least 2 units with a value in each arm; has {n_t} treated and {n_c} in control",),
            0,
            min(n_t, n_c),
        )
    theta = 0.0
    if x is not None:
        x = x[keep]
        known = np.isfinite(x)
        # Units without a pre value get the mean: no adjustment for them, and θ is unaffected.
        x = np.where(known, x, x[known].mean() if known.any() else 0.0)
        theta = _cuped_theta(x, y, arm)
        y = y - theta * (x - x.mean())
    yt, yc = y[arm], y[~arm]
    mean_t, mean_c = float(yt.mean()), float(yc.mean())
    var_t, var_c = float(yt.var(ddof=1)) / n_t, float(yc.var(ddof=1)) / n_c
    se = float(np.sqrt(var_t + var_c))
    df = (
        (var_t + var_c) ** 2 / (var_t**2 / (n_t - 1) + var_c**2 / (n_c - 1))
        if se > 0
        else float(n_t + n_c - 2)
    )
    effect = mean_t - mean_c
    interval = _t_interval(effect, se, df)
    if mean_c > 0:
        lift_se = float(np.sqrt(var_t / mean_c**2 + mean_t**2 * var_c / mean_c**4))
        lift = _t_interval(mean_t / mean_c - 1.0, lift_se, df)
    else:
        lift = UNDEFINED
    verdict = _verdict(interval, direction)
    sample_ratio = (
        sample_ratio_check(n_t, n_c, planned_treatment_share=planned_treatment_share)
        if planned_treatment_share is not None
        else None
    )
    cuped = x is not None
    size, ci = _magnitude(interval, unit)
    summary = (
        f"{name} {'rose' if effect >= 0 else 'fell'} by {size} ({ci}) per unit in the treatment group "
        f"compared with control{', adjusted for pre-period values (CUPED)' if cuped else ''}: "
        f"{_verdict_phrase(verdict)}."
    )
    if sample_ratio is not None and sample_ratio.mismatch:
        summary += " " + sample_ratio.summary
    assumptions = [
        "Units are independent of each other, and the arms are comparable (randomised), apart from "
        + ("what their pre-period values explain." if cuped else "chance."),
        "Welch's t-test does not assume the arms have equal variances; the relative lift's interval "
        "uses the delta method.",
    ]
    if cuped:
        assumptions.append(
            f"CUPED (Deng et al. 2013) subtracts {theta:.3g} × (pre-period value − its mean) from each "
            "unit's value: the part of the KPI the pre-period predicts is not noise in the comparison, "
            "which narrows the interval without moving the expected effect."
        )
    if sample_ratio is not None:
        assumptions.append(sample_ratio.summary)
    return ControlImpact(
        method="CUPED-adjusted Welch's t-test" if cuped else "Welch's t-test",
        adjustment="CUPED" if cuped else "none",
        effect=interval,
        relative_lift=lift,
        verdict=verdict,
        direction=direction,
        p_value=_p_value(effect, se, df),
        standard_error=se,
        degrees_of_freedom=float(df),
        treatment_mean=mean_t,
        control_mean=mean_c,
        n_treatment=n_t,
        n_control=n_c,
        pre_periods=0,
        post_periods=0,
        years_since_go_live=None,
        pre_difference=None,
        autocorrelation=None,
        variance_method="Welch (unequal variances, Welch–Satterthwaite degrees of freedom)",
        sample_ratio=sample_ratio,
        summary=summary,
        assumptions=tuple(assumptions),
    )


def _cuped_theta(x: np.ndarray, y: np.ndarray, arm: np.ndarray) -> float:
    """Pooled within-arm slope of post on pre: equal to the pooled slope when arms are randomised,
    and not inflated by a pre-period gap between arms when they are not."""
    xc = x - np.where(arm, x[arm].mean(), x[~arm].mean())
    yc = y - np.where(arm, y[arm].mean(), y[~arm].mean())
    sxx = float(xc @ xc)
    return float(xc @ yc) / sxx if sxx > 0 else 0.0


def sample_ratio_check(
    n_treatment: int, n_control: int, *, planned_treatment_share: float = 0.5
) -> SampleRatioCheck:
    """Chi-square goodness-of-fit of the arm sizes against the planned split (p < 0.001 flags)."""
    if not 0 < planned_treatment_share < 1:
        raise InvalidInput(Problem("planned_treatment_share", "The planned share must be between 0 and 1."))
    if n_treatment < 0 or n_control < 0 or n_treatment + n_control == 0:
        raise InvalidInput(Problem("arm_sizes", "Arm sizes must be non-negative and not both zero."))
    total = n_treatment + n_control
    expected = [total * planned_treatment_share, total * (1 - planned_treatment_share)]
    chi2, p = stats.chisquare([n_treatment, n_control], f_exp=expected)
    observed = n_treatment / total
    mismatch = bool(p < SRM_THRESHOLD)
    planned = f"{planned_treatment_share:.0%}/{1 - planned_treatment_share:.0%}"
    sizes = f"{n_treatment:,} in treatment, {n_control:,} in control"
    summary = (
        f"Sample-ratio mismatch: {sizes} ({observed:.1%} treatment) is unlikely under the planned "
        f"{planned} split (p = {p:.2g}); check how units are assigned and logged before trusting the effect."
        if mismatch
        else f"Arm sizes fit the planned {planned} split ({sizes}; p = {p:.2g})."
    )
    return SampleRatioCheck(
        n_treatment=int(n_treatment),
        n_control=int(n_control),
        planned_treatment_share=float(planned_treatment_share),
        observed_treatment_share=float(observed),
        chi_square=float(chi2),
        p_value=float(p),
        mismatch=mismatch,
        summary=summary,
    )


# -- without a control group: a counterfactual -------------------------------------------------


def impact_without_control(
    actual: pd.Series,
    go_live: DateLike,
    *,
    covariates: pd.DataFrame | None = None,
    direction: str = "up",
    name: str = "The KPI",
    unit: str = "",
    frequency: str | None = None,
) -> CounterfactualImpact | NotEnoughData:
    """Effect of the model against a counterfactual fitted before go-live and projected after it.

    `covariates` (optional, indexed by period like `actual`) are series the model does not affect,
    such as the same KPI in regions without the model; periods missing any value are left out, and
    the remaining periods are treated as consecutive."""
    _check_direction(direction)
    start = _as_timestamp(go_live, "go_live")
    y_series = _series(actual, "actual")
    covariate_names: tuple[str, ...] = ()
    frame = y_series.to_frame("actual")
    if covariates is not None:
        if not isinstance(covariates, pd.DataFrame):
            raise InvalidInput(
                Problem("covariates", "Covariates must be a table with one column per series.")
            )
        covariate_names = tuple(str(c) for c in covariates.columns)
        cov = covariates.set_axis(range(len(covariate_names)), axis=1).apply(pd.to_numeric, errors="coerce")
        cov.index = pd.DatetimeIndex(pd.to_datetime(cov.index))
        frame = frame.join(cov, how="inner").dropna()
    freq = _frequency(frame.index, frequency)
    after = frame.index >= start
    pre_periods, post_periods = int((~after).sum()), int(after.sum())
    pre_span = (frame.index[~after][-1] - frame.index[0]).days + PERIOD_DAYS[freq] if pre_periods else 0.0
    X, terms = _design(frame.index, start, freq, pre_span, frame.iloc[:, 1:].to_numpy(dtype=float))
    if covariate_names:
        terms += ("covariates (" + ", ".join(covariate_names) + ")",)
    needed_pre = max(MIN_PRE_COUNTERFACTUAL[freq], X.shape[1] + 10)
    missing = []
    if pre_periods < needed_pre:
        missing.append(
            f"needs at least {_span(needed_pre, freq)} before go-live; has {_span(pre_periods, freq)}"
        )
    if post_periods < MIN_POST[freq]:
        missing.append(
            f"needs at least {_span(MIN_POST[freq], freq)} after go-live; has {_span(post_periods, freq)}"
        )
    if missing:
        return NotEnoughData("Counterfactual projection", tuple(missing), pre_periods, post_periods)

    y = frame["actual"].to_numpy()
    fit = _fit_ar1_regression(X[~after], y[~after])
    points = _project(fit, X, y, after, frame.index)
    last_row = points.iloc[-1]
    cumulative = Interval(
        float(last_row["cumulative"]), float(last_row["cumulative_low"]), float(last_row["cumulative_high"])
    )
    effect = cumulative.scaled(1.0 / post_periods)
    total_actual = float(y[after].sum())
    relative = _relative_to_counterfactual(cumulative, total_actual)
    verdict = _verdict(cumulative, direction)
    size, ci = _magnitude(effect, unit)
    comparison = "higher" if effect.estimate >= 0 else "lower"
    days = _span(post_periods, freq)
    summary = (
        f"{name} was {size} {comparison} ({ci}) than projected without the model, on average over the "
        f"{days} since go-live: {_verdict_phrase(verdict)}."
    )
    last = frame.index[after][-1]
    return CounterfactualImpact(
        method=(
            "Counterfactual projection: regression on "
            + ", ".join(terms)
            + " with AR(1) errors (Prais–Winsten), fitted before go-live"
        ),
        effect=effect,
        cumulative=cumulative,
        relative=relative,
        verdict=verdict,
        direction=direction,
        frequency=freq,
        pre_periods=pre_periods,
        post_periods=post_periods,
        years_since_go_live=_years(start, last, freq),
        terms=terms,
        autocorrelation=fit.rho,
        residual_sd=float(np.sqrt(fit.sigma2 / (1 - fit.rho**2))),
        summary=summary,
        assumptions=_counterfactual_assumptions(terms, covariate_names, pre_span),
        points=points,
    )


@dataclass(frozen=True)
class _Fit:
    beta: np.ndarray
    covariance: np.ndarray
    rho: float
    sigma2: float  # innovation variance of the AR(1) errors
    df: float
    last_x: np.ndarray
    last_y: float


def _design(
    index: pd.DatetimeIndex,
    start: pd.Timestamp,
    frequency: str,
    pre_span_days: float,
    covariates: np.ndarray,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Level, linear trend (per year, centred on go-live), Fourier terms for the weekly cycle (daily
    data) and the annual cycle (when the pre-period covers a year), then the covariate columns."""
    days = ((index - start) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    columns = [np.ones_like(days), days / DAYS_PER_YEAR]
    terms = ["level", "linear trend"]
    cycles = []
    if frequency == "day":
        cycles.append((7.0, WEEKLY_HARMONICS, "weekly seasonality"))
    if pre_span_days >= DAYS_PER_YEAR:
        harmonics = ANNUAL_HARMONICS if frequency != "month" else 2
        cycles.append((DAYS_PER_YEAR, harmonics, "annual seasonality"))
    for period, harmonics, term in cycles:
        angle = 2 * np.pi * np.outer(days / period, np.arange(1, harmonics + 1))
        columns.extend(np.sin(angle).T)
        columns.extend(np.cos(angle).T)
        terms.append(term)
    columns.extend(covariates.T)
    return np.column_stack(columns), tuple(terms)


def _prais_winsten(values: np.ndarray, rho: float) -> np.ndarray:
    """Rows transformed so AR(1) errors become independent: first row × √(1−ρ²), then v_t − ρ v_{t−1}."""
    out = np.empty_like(values)
    out[0] = values[0] * np.sqrt(1 - rho**2)
    out[1:] = values[1:] - rho * values[:-1]
    return out


def _fit_ar1_regression(X: np.ndarray, y: np.ndarray) -> _Fit:
    """Feasible GLS with AR(1) errors: ρ from the OLS residuals, then one Prais–Winsten regression."""
    n, p = X.shape
    beta = linalg.lstsq(X, y, lapack_driver="gelsy")[0]
    rho = _ar1_noise(y - X @ beta, X)[0]
    xs, ys = _prais_winsten(X, rho), _prais_winsten(y, rho)
    beta = linalg.lstsq(xs, ys, lapack_driver="gelsy")[0]
    innovations = ys - xs @ beta
    df = float(n - p - 1)
    sigma2 = float(innovations @ innovations) / df
    covariance = sigma2 * linalg.pinvh(xs.T @ xs)
    return _Fit(beta, covariance, rho, sigma2, df, X[-1], float(y[-1]))


def _project(
    fit: _Fit, X: np.ndarray, y: np.ndarray, after: np.ndarray, index: pd.DatetimeIndex
) -> pd.DataFrame:
    """Counterfactual and effects with 95% intervals. The forecast h periods after the last pre-period
    is (x_h − ρ^h x_T)β + ρ^h y_T; its error is the AR(1) noise accumulated since T plus
    (x_h − ρ^h x_T)(β̂ − β), summed over h for the cumulative effect."""
    rho, sigma2, cov = fit.rho, fit.sigma2, fit.covariance
    q = float(stats.t.ppf(0.5 + LEVEL / 2, fit.df))
    h = np.arange(1, int(after.sum()) + 1, dtype=float)
    decay = rho**h
    g = X[after] - decay[:, None] * fit.last_x
    expected_post = g @ fit.beta + decay * fit.last_y
    var_point = sigma2 * (1 - decay**2) / (1 - rho**2) + np.einsum("ij,jk,ik->i", g, cov, g)
    g_cum = np.cumsum(g, axis=0)
    var_cum = sigma2 / (1 - rho) ** 2 * np.cumsum((1 - decay) ** 2) + np.einsum(
        "ij,jk,ik->i", g_cum, cov, g_cum
    )
    pre_x = X[~after]
    var_fit = sigma2 / (1 - rho**2) + np.einsum("ij,jk,ik->i", pre_x, cov, pre_x)
    expected = np.concatenate([pre_x @ fit.beta, expected_post])
    spread = q * np.sqrt(np.concatenate([var_fit, var_point]))
    effect = y[after] - expected_post
    cumulative = np.cumsum(effect)
    cum_spread = q * np.sqrt(var_cum)
    nan = np.full(int((~after).sum()), np.nan)
    point_spread = q * np.sqrt(var_point)
    return pd.DataFrame(
        {
            "period": index,
            "actual": y,
            "expected": expected,
            "expected_low": expected - spread,
            "expected_high": expected + spread,
            "effect": np.concatenate([nan, effect]),
            "effect_low": np.concatenate([nan, effect - point_spread]),
            "effect_high": np.concatenate([nan, effect + point_spread]),
            "cumulative": np.concatenate([nan, cumulative]),
            "cumulative_low": np.concatenate([nan, cumulative - cum_spread]),
            "cumulative_high": np.concatenate([nan, cumulative + cum_spread]),
        }
    )


def _relative_to_counterfactual(cumulative: Interval, total_actual: float) -> Interval:
    """E / (A − E) with A the actual total: increasing in E, so E's bounds map to exact bounds."""
    if total_actual - cumulative.high <= 0:
        return UNDEFINED
    return Interval(*(e / (total_actual - e) for e in (cumulative.estimate, cumulative.low, cumulative.high)))


def _counterfactual_assumptions(
    terms: tuple[str, ...], covariates: tuple[str, ...], pre_span_days: float
) -> tuple[str, ...]:
    items = [
        "Without the model the KPI would have followed the pattern it showed before go-live ("
        + ", ".join(terms[1:])
        + "); anything else that changed at go-live (a price change, a new competitor) would be "
        "counted as the model's effect.",
        "Deviations from that pattern carry over from one period to the next (AR(1) errors): the "
        "interval of the cumulative effect widens accordingly, and intervals also include the "
        "uncertainty of the fitted pattern, which grows the further it is projected.",
    ]
    if "annual seasonality" not in terms:
        items.append(
            f"Annual seasonality is not modelled: the data before go-live cover only "
            f"{pre_span_days / 7:.0f} weeks, so a seasonal swing after go-live can look like an effect."
        )
    if covariates:
        items.append(
            "The covariates (" + ", ".join(covariates) + ") are assumed not to be affected by the model."
        )
    items.append("This is a CausalImpact-style analysis (Brodersen et al. 2015) without a control group.")
    return tuple(items)


# -- money -------------------------------------------------------------------------------------


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
    _check_direction(direction)
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
        digits = min(_digits((interval.high - interval.low) / 2), 2)
        return (
            f"{_number(interval.estimate, digits)} {currency} (95% CI {_number(interval.low, digits)} to "
            f"{_number(interval.high, digits)})"
        )

    since = ""
    if years is not None:
        since = f", in the {years * 12:.0f} months since go-live" if years >= 1 / 12 else ""
        since = since.replace("in the 1 months", "in the month")
    sentence = f"Value at the current rate: {amount(run_rate)} a year; {amount(to_date)} to date{since}."
    if expected:
        sentence += (
            f" The goal expects {_number(expected, 0)} {currency} a year; "
            f"the current rate is {run_rate.estimate / expected:.0%} of that."
        )
    return sentence
