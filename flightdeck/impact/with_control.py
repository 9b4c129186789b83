"""Impact with a control group.

Period-level arms (`impact_with_control`), e.g. a KPI observed daily for `treatment` and
`control`: everything is computed on the per-period difference d_t = treatment_t − control_t, which
removes what the arms share (seasonality, trend, common shocks). With a pre-go-live period in both
arms the effect is the difference-in-differences mean(d after) − mean(d before), so a constant gap
between arms that were never randomised (a pilot region against the rest) gives no spurious effect.
Without a pre-period it is mean(d after), which assumes comparable (randomised) arms. The noise of
d_t is modelled as AR(1) (`ar1`) and the variance of the contrast is computed exactly under that
model; the relative lift uses the delta method on the same model.

Unit-level arms (`impact_with_units`), e.g. one row per member: Welch's t for the difference of
means (independent units, unequal variances) and the delta method for the relative lift. Where
pre-period values exist, CUPED (Deng et al. 2013): post − θ·(pre − mean pre) with θ the pooled
within-arm regression slope, which removes the variance the pre-period explains and, for arms that
differ before go-live, their linear pre-period difference (ANCOVA). A sample-ratio check tests the
arm sizes against the planned split. Pure functions on numbers: no database.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.impact.ar1 import ar1_noise, ar1_times
from flightdeck.impact.estimates import (
    MIN_POST,
    UNDEFINED,
    ControlImpact,
    DateLike,
    Interval,
    NotEnoughData,
    SampleRatioCheck,
    as_timestamp,
    check_direction,
    clean_series,
    frequency_of,
    magnitude,
    span_text,
    t_interval,
    two_sided_p,
    verdict_of,
    verdict_phrase,
    years_between,
)

MIN_PRE_CONTROL = {"day": 14, "week": 4, "month": 3}
SRM_THRESHOLD = 0.001  # p-value below which arm sizes are called a mismatch (a common SRM alarm level)


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
    check_direction(direction)
    start = as_timestamp(go_live, "go_live")
    both = pd.concat(
        [clean_series(treatment, "treatment"), clean_series(control, "control")], axis=1, join="inner"
    )
    freq = frequency_of(both.index, frequency)
    after = both.index >= start
    pre_periods, post_periods = int((~after).sum()), int(after.sum())
    missing = []
    if post_periods < MIN_POST[freq]:
        missing.append(
            f"needs at least {span_text(MIN_POST[freq], freq)} after go-live in both arms; "
            f"has {span_text(post_periods, freq)}"
        )
    if 0 < pre_periods < MIN_PRE_CONTROL[freq]:
        missing.append(
            f"needs at least {span_text(MIN_PRE_CONTROL[freq], freq)} before go-live in both arms to remove "
            f"their difference; has {span_text(pre_periods, freq)}"
        )
    if missing:
        return NotEnoughData("Comparison with the control group", tuple(missing), pre_periods, post_periods)

    values_t, values_c = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
    d = values_t - values_c
    did = pre_periods > 0
    d_post, d_pre = d[after].mean(), d[~after].mean() if did else 0.0
    segments = np.column_stack([after, ~after] if did else [after]).astype(float)
    residuals = d - np.where(after, d_post, d_pre)
    rho, sigma2 = ar1_noise(residuals, segments)
    weights = np.where(after, 1.0 / post_periods, -1.0 / pre_periods if did else 0.0)
    effect = float(d_post - d_pre)
    se = float(np.sqrt(sigma2 * weights @ ar1_times(weights, rho)))
    df = max(len(d) * (1 - rho) / (1 + rho) - segments.shape[1], 1.0)
    interval = t_interval(effect, se, df)

    # Lift over the treatment's level without the model: control after go-live + the pre-period gap.
    # The realised control path is conditioned on; its uncertainty enters through the gap estimate.
    baseline = float(values_c[after].mean() + d_pre)
    lift = _lift_interval_periods(effect, baseline, after, pre_periods, post_periods, sigma2, rho, df)
    verdict = verdict_of(interval, direction)
    sample_ratio = None
    if arm_sizes is not None and planned_treatment_share is not None:
        sample_ratio = sample_ratio_check(*arm_sizes, planned_treatment_share=planned_treatment_share)
    size, ci = magnitude(interval, unit)
    adjusted = ", after removing the arms' difference before go-live" if did else ""
    summary = (
        f"{name} {'rose' if effect >= 0 else 'fell'} by {size} ({ci}) in the treatment group compared "
        f"with control{adjusted}: {verdict_phrase(verdict)}."
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
        p_value=two_sided_p(effect, se, df),
        standard_error=se,
        degrees_of_freedom=df,
        treatment_mean=float(values_t[after].mean()),
        control_mean=float(values_c[after].mean()),
        n_treatment=int(arm_sizes[0]) if arm_sizes else None,
        n_control=int(arm_sizes[1]) if arm_sizes else None,
        pre_periods=pre_periods,
        post_periods=post_periods,
        years_since_go_live=years_between(start, last, freq),
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
    se = float(np.sqrt(sigma2 * weights @ ar1_times(weights, rho)))
    return t_interval(effect / baseline, se, df)


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
    check_direction(direction)
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
    interval = t_interval(effect, se, df)
    if mean_c > 0:
        lift_se = float(np.sqrt(var_t / mean_c**2 + mean_t**2 * var_c / mean_c**4))
        lift = t_interval(mean_t / mean_c - 1.0, lift_se, df)
    else:
        lift = UNDEFINED
    verdict = verdict_of(interval, direction)
    sample_ratio = (
        sample_ratio_check(n_t, n_c, planned_treatment_share=planned_treatment_share)
        if planned_treatment_share is not None
        else None
    )
    cuped = x is not None
    size, ci = magnitude(interval, unit)
    summary = (
        f"{name} {'rose' if effect >= 0 else 'fell'} by {size} ({ci}) per unit in the treatment group "
        f"compared with control{', adjusted for pre-period values (CUPED)' if cuped else ''}: "
        f"{verdict_phrase(verdict)}."
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
        p_value=two_sided_p(effect, se, df),
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
