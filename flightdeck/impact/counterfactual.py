"""Impact without a control group (`impact_without_control`): a counterfactual in the spirit of
CausalImpact (Brodersen et al. 2015), here a regression on a linear trend, weekly and annual
seasonality as Fourier terms and optional covariate series, with AR(1) errors fitted by
Prais–Winsten on the pre-period, projected over the post-period. Prediction intervals carry the
AR(1) propagation of the errors (so the cumulative interval widens at the right rate) and the
parameter uncertainty.

It is frequentist and closed-form, not CausalImpact's Bayesian structural time series: milliseconds
for five years of days, and right for KPIs whose pre-period a trend and seasonality describe.
Assumptions: the pre-period pattern would have continued, nothing else changed at go-live, the
covariates are not affected by the model. Pure functions on numbers: no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.impact.ar1 import ar1_noise
from flightdeck.impact.estimates import (
    DAYS_PER_YEAR,
    LEVEL,
    MIN_POST,
    PERIOD_DAYS,
    UNDEFINED,
    CounterfactualImpact,
    DateLike,
    Interval,
    NotEnoughData,
    as_timestamp,
    check_direction,
    clean_series,
    frequency_of,
    magnitude,
    span_text,
    verdict_of,
    verdict_phrase,
    years_between,
)

# Periods needed before / after go-live. Without a control group the pre-period must show the
# KPI's pattern (8 weeks of days: eight weekly cycles; two years of months: two annual cycles).
MIN_PRE_COUNTERFACTUAL = {"day": 56, "week": 26, "month": 24}
WEEKLY_HARMONICS, ANNUAL_HARMONICS = 3, 3


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
    check_direction(direction)
    start = as_timestamp(go_live, "go_live")
    y_series = clean_series(actual, "actual")
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
    freq = frequency_of(frame.index, frequency)
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
            f"needs at least {span_text(needed_pre, freq)} before go-live; has {span_text(pre_periods, freq)}"
        )
    if post_periods < MIN_POST[freq]:
        missing.append(
            f"needs at least {span_text(MIN_POST[freq], freq)} after go-live; "
            f"has {span_text(post_periods, freq)}"
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
    verdict = verdict_of(cumulative, direction)
    size, ci = magnitude(effect, unit)
    comparison = "higher" if effect.estimate >= 0 else "lower"
    days = span_text(post_periods, freq)
    summary = (
        f"{name} was {size} {comparison} ({ci}) than projected without the model, on average over the "
        f"{days} since go-live: {verdict_phrase(verdict)}."
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
        years_since_go_live=years_between(start, last, freq),
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
    rho = ar1_noise(y - X @ beta, X)[0]
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
