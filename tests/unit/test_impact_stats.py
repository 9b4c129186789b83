"""Simulation tests of the impact estimators (issue 6).

The synthetic KPIs look like real ones: daily values with a trend, weekly and annual seasonality
and AR(1) noise, arms that share shocks and differ before go-live. A known effect is injected, and
over 200 seeded simulations per estimator the estimate must recover it and the 95% intervals must
cover it in 90–99% of runs (the binomial spread of a true 95% rate over 200 runs is about ±3
points). Everything is seeded, so the figures are the same on every run.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import signal, stats

from flightdeck.core.errors import InvalidInput
from flightdeck.impact.counterfactual import impact_without_control
from flightdeck.impact.estimates import ControlImpact, CounterfactualImpact, Interval, NotEnoughData, Verdict
from flightdeck.impact.valuation import money_impact, total_money
from flightdeck.impact.with_control import impact_with_control, impact_with_units, sample_ratio_check

RUNS = 200
NOMINAL = (0.90, 0.99)
START = pd.Timestamp("2024-01-01")


def ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise with marginal standard deviation `sd`."""
    shocks = rng.normal(0.0, sd * np.sqrt(1 - rho**2), n)
    shocks[0] = rng.normal(0.0, sd)
    return signal.lfilter([1.0], [1.0, -rho], shocks)


def churn_arms(
    seed: int, *, effect: float, gap: float, pre: int = 90, post: int = 60
) -> tuple[pd.Series, pd.Series, pd.Timestamp]:
    """Daily churn % for both arms: a shared trend, annual and weekly cycle and shared shocks; each arm
    its own AR(1) noise (different persistence, so their difference is not exactly AR(1)); treatment
    `gap` above control throughout and `effect` added from go-live."""
    rng = np.random.default_rng(seed)
    n = pre + post
    t = np.arange(n)
    days = pd.date_range(START, periods=n, freq="D")
    shared = (
        2.4
        - 0.17 * t / 365.25
        + 0.10 * np.sin(2 * np.pi * t / 365.25)
        + np.array([0.03, 0.01, 0, 0, -0.01, -0.03, 0])[t % 7]
        + ar1(rng, n, 0.8, 0.05)
    )
    control = shared + ar1(rng, n, 0.5, 0.04)
    treatment = shared + gap + effect * (t >= pre) + ar1(rng, n, 0.7, 0.04)
    return pd.Series(treatment, days), pd.Series(control, days), days[pre]


def waste_rate(
    seed: int, *, effect: float, pre: int = 548, post: int = 60, shared_market: bool = False
) -> tuple[pd.Series, pd.Timestamp, pd.DataFrame]:
    """Daily waste % for the pilot region: trend, weekly and annual cycle, AR(1) noise (ρ = 0.6).
    With `shared_market` the annual cycle comes with persistent market-wide shocks that the other
    regions (returned as a covariate, untouched by the model) share."""
    rng = np.random.default_rng(seed)
    n = pre + post
    t = np.arange(n)
    days = pd.date_range(START, periods=n, freq="D")
    market = 0.12 * np.sin(2 * np.pi * t / 365.25 + 1.0)
    if shared_market:
        market = market + ar1(rng, n, 0.9, 0.15)
    rate = (
        4.8
        - 0.2 * t / 365.25
        + np.array([0.10, 0.0, 0.0, 0.0, 0.0, -0.06, -0.04])[t % 7]
        + market
        + ar1(rng, n, 0.6, 0.2)
        + effect * (t >= pre)
    )
    others = 4.6 + market + ar1(rng, n, 0.3, 0.03)
    return pd.Series(rate, days), days[pre], pd.DataFrame({"other regions": others}, index=days)


def members(seed: int, *, effect: float, n: int = 2000, pre_weight: float = 1.0) -> dict[str, np.ndarray]:
    """One row per member: a persistent spending level (skewed), seen with noise before and after
    go-live; `pre_weight` 0 makes the pre-period value unrelated to the post-period one."""
    rng = np.random.default_rng(seed)
    level = rng.gamma(4.0, 10.0, 2 * n)
    treated = np.arange(2 * n) < n
    pre = pre_weight * level + (1 - pre_weight) * rng.gamma(4.0, 10.0, 2 * n) + rng.normal(0, 10, 2 * n)
    post = level + effect * treated + rng.normal(0, 10, 2 * n)
    return {"treatment": treated, "pre": pre, "post": post}


def share(flags: list[bool]) -> float:
    return float(np.mean(flags))


# -- with a control group: period-level arms ---------------------------------------------------


def test_difference_in_differences_recovers_the_effect_and_covers_it_at_the_nominal_rate() -> None:
    effect = -0.10  # churn points; down is good
    results = []
    for seed in range(RUNS):
        treatment, control, go_live = churn_arms(seed, effect=effect, gap=0.05)
        result = impact_with_control(treatment, control, go_live, direction="down")
        assert isinstance(result, ControlImpact)
        true_lift = effect / (control[go_live:].mean() + 0.05)
        results.append((result, true_lift))
    estimates = [r.effect.estimate for r, _ in results]
    assert np.mean(estimates) == pytest.approx(effect, abs=0.005)
    coverage = share([r.effect.covers(effect) for r, _ in results])
    lift_coverage = share([r.relative_lift.covers(lift) for r, lift in results])
    assert NOMINAL[0] <= coverage <= NOMINAL[1]
    assert NOMINAL[0] <= lift_coverage <= NOMINAL[1]
    assert share([r.verdict is Verdict.POSITIVE for r, _ in results]) > 0.95
    first = results[0][0]
    assert first.adjustment == "difference-in-differences"
    assert (first.pre_periods, first.post_periods) == (90, 60)
    assert "AR(1)" in first.variance_method
    assert "AR(1)" in first.method


def test_period_series_need_the_autocorrelation_correction() -> None:
    """Why the AR(1) correction exists: on the same arms, compared after go-live only, a textbook Welch
    test on the period values (periods as independent observations) covers less often than it
    claims, and our interval does not."""
    welch_covers, ours_covers = [], []
    for seed in range(RUNS):
        treatment, control, go_live = churn_arms(seed, effect=-0.10, gap=0.0, pre=0)
        welch = stats.ttest_ind(treatment, control, equal_var=False).confidence_interval(0.95)
        welch_covers.append(welch.low <= -0.10 <= welch.high)
        ours = impact_with_control(treatment, control, go_live)
        assert isinstance(ours, ControlImpact)
        assert ours.adjustment == "none"
        ours_covers.append(ours.effect.covers(-0.10))
    assert NOMINAL[0] <= share(ours_covers) <= NOMINAL[1]
    assert share(welch_covers) < NOMINAL[0]


def test_without_an_effect_the_verdict_is_inconclusive_at_close_to_the_nominal_rate() -> None:
    verdicts = []
    for seed in range(RUNS):
        treatment, control, go_live = churn_arms(1000 + seed, effect=0.0, gap=0.05)
        result = impact_with_control(treatment, control, go_live, direction="down")
        assert isinstance(result, ControlImpact)
        verdicts.append(result)
    assert NOMINAL[0] <= share([r.verdict is Verdict.INCONCLUSIVE for r in verdicts]) <= NOMINAL[1]
    inconclusive = next(r for r in verdicts if r.verdict is Verdict.INCONCLUSIVE)
    assert re.fullmatch(
        r"The KPI (rose|fell) by 0\.0\d+ \(95% CI −0\.0\d+ to 0\.0\d+\) .*: inconclusive, as the "
        r"interval includes no change\.",
        inconclusive.summary,
    )


def test_arms_that_differ_by_a_constant_before_go_live_give_no_spurious_effect() -> None:
    gap = 0.30  # a pilot region whose churn runs 0.3 points above the rest, model or not
    adjusted, unadjusted = [], []
    for seed in range(RUNS):
        treatment, control, go_live = churn_arms(2000 + seed, effect=0.0, gap=gap)
        result = impact_with_control(treatment, control, go_live, direction="down")
        assert isinstance(result, ControlImpact)
        assert result.pre_difference == pytest.approx(gap, abs=0.05)
        adjusted.append(result)
        post_only = impact_with_control(treatment[go_live:], control[go_live:], go_live, direction="down")
        assert isinstance(post_only, ControlImpact)
        unadjusted.append(post_only)
    assert np.mean([r.effect.estimate for r in adjusted]) == pytest.approx(0.0, abs=0.005)
    assert share([r.verdict is Verdict.INCONCLUSIVE for r in adjusted]) >= NOMINAL[0]
    # The same data compared after go-live only would blame the model for the old gap.
    assert all(r.verdict is Verdict.NEGATIVE for r in unadjusted)


def test_the_summary_says_what_happened_in_plain_words() -> None:
    treatment, control, go_live = churn_arms(7, effect=-0.60, gap=0.05)
    result = impact_with_control(
        treatment,
        control,
        go_live,
        direction="down",
        name="Monthly member churn",
        unit="%",
        arm_sizes=(20_060, 19_940),
        planned_treatment_share=0.5,
    )
    assert isinstance(result, ControlImpact)
    assert re.fullmatch(
        r"Monthly member churn fell by 0\.6\d+ points \(95% CI 0\.[56]\d+ to 0\.6\d+\) in the "
        r"treatment group compared with control, after removing the arms' difference before go-live: "
        r"a positive effect\.",
        result.summary,
    )
    assert (result.n_treatment, result.n_control) == (20_060, 19_940)
    assert result.sample_ratio is not None
    assert not result.sample_ratio.mismatch
    assert result.relative_lift.estimate == pytest.approx(-0.6 / 2.4, rel=0.15)
    assert any("difference-in-differences" in a for a in result.assumptions)
    assert result.years_since_go_live == pytest.approx(60 / 365.25)


def test_the_kpi_direction_decides_what_positive_means() -> None:
    treatment, control, go_live = churn_arms(3, effect=-0.30, gap=0.0)
    down = impact_with_control(treatment, control, go_live, direction="down")
    up = impact_with_control(treatment, control, go_live, direction="up")
    assert isinstance(down, ControlImpact)
    assert isinstance(up, ControlImpact)
    assert (down.verdict, up.verdict) == (Verdict.POSITIVE, Verdict.NEGATIVE)
    assert down.effect == up.effect


def test_a_short_pre_period_is_not_enough_to_remove_the_arms_difference() -> None:
    treatment, control, go_live = churn_arms(4, effect=-0.1, gap=0.1, pre=5, post=9)
    result = impact_with_control(treatment, control, go_live)
    assert isinstance(result, NotEnoughData)
    assert result.missing == (
        "needs at least 2 weeks after go-live in both arms; has 9 days",
        "needs at least 2 weeks before go-live in both arms to remove their difference; has 5 days",
    )
    assert result.summary.startswith("Not enough data yet: needs at least 2 weeks after go-live")


# -- with a control group: unit-level arms -----------------------------------------------------


def test_welch_matches_scipy_on_the_same_data() -> None:
    data = members(11, effect=1.5, n=300)
    arm, post = data["treatment"][:550], data["post"][:550]  # unequal arms: 300 and 250
    result = impact_with_units(arm, post)
    assert isinstance(result, ControlImpact)
    reference = stats.ttest_ind(post[arm], post[~arm], equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert result.method == "Welch's t-test"
    assert result.effect.estimate / result.standard_error == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.degrees_of_freedom == pytest.approx(reference.df, rel=1e-12)
    assert (result.effect.low, result.effect.high) == pytest.approx((interval.low, interval.high), rel=1e-12)
    assert (result.n_treatment, result.n_control) == (300, 250)


def test_welch_and_cuped_recover_the_effect_and_cover_it_and_cuped_is_narrower() -> None:
    effect = 1.5
    welch, cuped = [], []
    for seed in range(RUNS):
        data = members(3000 + seed, effect=effect)
        plain = impact_with_units(data["treatment"], data["post"])
        adjusted = impact_with_units(data["treatment"], data["post"], data["pre"])
        assert isinstance(plain, ControlImpact)
        assert isinstance(adjusted, ControlImpact)
        welch.append(plain)
        cuped.append(adjusted)
    for results in (welch, cuped):
        assert np.mean([r.effect.estimate for r in results]) == pytest.approx(effect, abs=0.1)
        assert NOMINAL[0] <= share([r.effect.covers(effect) for r in results]) <= NOMINAL[1]
        assert NOMINAL[0] <= share([r.relative_lift.covers(effect / 40.0) for r in results]) <= NOMINAL[1]
    widths = [
        (c.effect.high - c.effect.low) / (w.effect.high - w.effect.low)
        for c, w in zip(cuped, welch, strict=True)
    ]
    # Pre and post correlate at about 0.8: CUPED's interval is about √(1 − 0.8²) = 0.6 as wide.
    assert np.median(widths) < 0.7
    assert cuped[0].adjustment == "CUPED"
    assert cuped[0].method == "CUPED-adjusted Welch's t-test"


def test_cuped_does_not_narrow_the_interval_when_the_pre_period_is_unrelated() -> None:
    data = members(5, effect=1.5, pre_weight=0.0)
    plain = impact_with_units(data["treatment"], data["post"])
    adjusted = impact_with_units(data["treatment"], data["post"], data["pre"])
    assert isinstance(plain, ControlImpact)
    assert isinstance(adjusted, ControlImpact)
    ratio = (adjusted.effect.high - adjusted.effect.low) / (plain.effect.high - plain.effect.low)
    assert ratio == pytest.approx(1.0, abs=0.02)


def test_sample_ratio_mismatch_flags_an_unbalanced_split_and_passes_a_balanced_one() -> None:
    balanced = sample_ratio_check(20_060, 19_940, planned_treatment_share=0.5)
    unbalanced = sample_ratio_check(20_600, 19_400, planned_treatment_share=0.5)
    planned_70_30 = sample_ratio_check(7_020, 2_980, planned_treatment_share=0.7)
    assert not balanced.mismatch
    assert not planned_70_30.mismatch
    assert unbalanced.mismatch
    assert unbalanced.p_value == pytest.approx(stats.chisquare([20_600, 19_400]).pvalue)
    assert unbalanced.summary.startswith("Sample-ratio mismatch: 20,600 in treatment, 19,400 in control")
    data = members(6, effect=0.0)
    keep = np.ones(len(data["post"]), dtype=bool)
    keep[:300] = False  # 300 treated members lost from the logs
    result = impact_with_units(data["treatment"][keep], data["post"][keep], planned_treatment_share=0.5)
    assert isinstance(result, ControlImpact)
    assert result.sample_ratio is not None
    assert result.sample_ratio.mismatch
    assert "Sample-ratio mismatch" in result.summary


# -- without a control group: the counterfactual -----------------------------------------------


def test_counterfactual_recovers_the_effect_and_covers_it_pointwise_and_cumulatively() -> None:
    effect, post = -0.40, 60
    pointwise, cumulative, estimates = [], [], []
    for seed in range(RUNS):
        rate, go_live, _ = waste_rate(4000 + seed, effect=effect, post=post)
        result = impact_without_control(rate, go_live, direction="down")
        assert isinstance(result, CounterfactualImpact)
        after = result.points.iloc[-post:]
        pointwise.append(float(((after.effect_low <= effect) & (effect <= after.effect_high)).mean()))
        cumulative.append(result.cumulative.covers(effect * post))
        estimates.append(result.effect.estimate)
    assert np.mean(estimates) == pytest.approx(effect, abs=0.02)
    assert NOMINAL[0] <= np.mean(pointwise) <= NOMINAL[1]
    assert NOMINAL[0] <= share(cumulative) <= NOMINAL[1]
    assert result.terms == ("level", "linear trend", "weekly seasonality", "annual seasonality")
    assert 0.4 < result.autocorrelation < 0.8


def test_without_an_effect_the_counterfactual_verdict_is_inconclusive_at_close_to_the_nominal_rate() -> None:
    verdicts = []
    for seed in range(RUNS):
        rate, go_live, _ = waste_rate(5000 + seed, effect=0.0)
        result = impact_without_control(rate, go_live, direction="down")
        assert isinstance(result, CounterfactualImpact)
        verdicts.append(result.verdict)
    assert NOMINAL[0] <= share([v is Verdict.INCONCLUSIVE for v in verdicts]) <= NOMINAL[1]


def test_a_covariate_series_carries_what_a_short_pre_period_cannot_show() -> None:
    """Four months before go-live cannot show the annual cycle; the same KPI in regions without the
    model shares it (and the market's shocks), and as a covariate it keeps the estimate unbiased."""
    with_others, alone = [], []
    for seed in range(RUNS):
        rate, go_live, others = waste_rate(6000 + seed, effect=-0.40, pre=120, post=28, shared_market=True)
        a = impact_without_control(rate, go_live, covariates=others, direction="down")
        b = impact_without_control(rate, go_live, direction="down")
        assert isinstance(a, CounterfactualImpact)
        assert isinstance(b, CounterfactualImpact)
        with_others.append(a)
        alone.append(b)
    assert np.mean([r.effect.estimate for r in with_others]) == pytest.approx(-0.40, abs=0.01)
    assert NOMINAL[0] <= share([r.cumulative.covers(-0.40 * 28) for r in with_others]) <= NOMINAL[1]
    width = np.median([r.effect.high - r.effect.low for r in with_others])
    assert width < 0.8 * np.median([r.effect.high - r.effect.low for r in alone])
    assert "covariates (other regions)" in with_others[0].terms
    assert any("Annual seasonality is not modelled" in a for a in alone[0].assumptions)


def test_counterfactual_result_reads_plainly_and_has_the_points_to_chart() -> None:
    rate, go_live, _ = waste_rate(8, effect=-0.80, post=90)
    result = impact_without_control(rate, go_live, direction="down", name="Fresh waste rate", unit="%")
    assert isinstance(result, CounterfactualImpact)
    assert re.fullmatch(
        r"Fresh waste rate was \d\.\d\d points lower \(95% CI \d\.\d\d to \d\.\d\d\) than projected without "
        r"the model, on average over the 90 days since go-live: a positive effect\.",
        result.summary,
    )
    points = result.points
    assert len(points) == 548 + 90
    assert points.period.iloc[548] == go_live
    assert points.effect.iloc[:548].isna().all()
    assert points.effect.iloc[548:].notna().all()
    assert (points.expected_low < points.expected).all()
    assert (points.expected < points.expected_high).all()
    assert points.cumulative.iloc[-1] == pytest.approx(result.cumulative.estimate)
    # The interval of the running total widens as the effect accumulates.
    spread = (points.cumulative_high - points.cumulative_low).iloc[548:].to_numpy()
    assert (np.diff(spread) > 0).all()
    counterfactual_total = points.expected.iloc[548:].sum()
    assert result.relative.estimate == pytest.approx(result.cumulative.estimate / counterfactual_total)


def test_too_little_data_is_an_answer_that_says_what_is_missing() -> None:
    rate, go_live, _ = waste_rate(9, effect=0.0, pre=21, post=30)
    early = impact_without_control(rate, go_live)
    assert isinstance(early, NotEnoughData)
    assert early.missing == ("needs at least 8 weeks before go-live; has 3 weeks",)
    rate, go_live, _ = waste_rate(9, effect=0.0, pre=70, post=5)
    just_live = impact_without_control(rate, go_live)
    assert isinstance(just_live, NotEnoughData)
    assert just_live.summary == "Not enough data yet: needs at least 2 weeks after go-live; has 5 days."
    weekly = rate.resample("W-MON", label="left", closed="left").mean()  # labelled by week start
    assert impact_without_control(weekly, go_live).missing == (  # type: ignore[union-attr]
        "needs at least 26 weeks before go-live; has 10 weeks",
        "needs at least 4 weeks after go-live; has 1 week",
    )


def test_bad_input_is_refused_with_a_clear_message() -> None:
    rate, go_live, _ = waste_rate(10, effect=0.0, pre=60, post=20)
    with pytest.raises(InvalidInput, match="Direction must be 'up' or 'down'"):
        impact_without_control(rate, go_live, direction="sideways")
    doubled = pd.concat([rate, rate.iloc[:3]])
    with pytest.raises(InvalidInput, match="more than one value for some periods"):
        impact_with_control(doubled, rate, go_live)
    with pytest.raises(InvalidInput, match="one entry per unit"):
        impact_with_units([True, False, True], [1.0, 2.0])


# -- money -------------------------------------------------------------------------------------


def test_money_turns_an_improvement_into_a_run_rate_and_value_to_date() -> None:
    churn_fell = Interval(-0.6, -0.8, -0.4)  # points of churn; down is good
    money = money_impact(
        churn_fell, years=0.5, value_per_unit=1_300_000, direction="down", expected_per_year=1_000_000
    )
    assert money.annual_run_rate == Interval(780_000, 520_000, 1_040_000)
    assert money.to_date == Interval(390_000, 260_000, 520_000)
    assert money.share_of_expected is not None
    assert (money.share_of_expected.low, money.share_of_expected.high) == pytest.approx((0.52, 1.04))
    assert money.summary.startswith(
        "Value at the current rate: 780,000 EUR (95% CI 520,000 to 1,040,000) a year; "
        "390,000 EUR (95% CI 260,000 to 520,000) to date, in the 6 months since go-live."
    )
    worse = money_impact(Interval(-2.0, -3.0, -1.0), years=1.0, value_per_unit=25_200, direction="up")
    assert worse.annual_run_rate == Interval(-50_400, -75_600, -25_200)
    with pytest.raises(InvalidInput, match="cannot be negative"):
        money_impact(churn_fell, years=1, value_per_unit=-1, direction="down")


def test_money_rolls_up_with_independent_uncertainties() -> None:
    a = money_impact(Interval(1.0, 0.7, 1.3), years=1.0, value_per_unit=300, direction="up")
    b = money_impact(Interval(2.0, 1.6, 2.4), years=1.0, value_per_unit=300, direction="up")
    total = total_money([a, b])
    assert total.annual_run_rate.estimate == pytest.approx(900)
    assert total.annual_run_rate.high - 900 == pytest.approx(np.hypot(90, 120))
    with pytest.raises(InvalidInput, match="Cannot add money in EUR, USD"):
        dollars = money_impact(Interval(1, 0, 2), years=1, value_per_unit=1, direction="up", currency="USD")
        total_money([a, dollars])
