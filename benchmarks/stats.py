"""Compute time of the impact and drift statistics alone, without database or page.

Impact: 50 KPIs of five years of daily values (go-live a year before the end), each estimated
without a control group (the counterfactual, the heavier method) and with one (DiD). Drift: 20
numeric features, a 100,000-row reference profile each, and 1,000,000 logged rows binned per day
as ingest would, then PSI for all 20 features over a 30-day window from the summed counts.
Targets: one KPI well under 50 ms (the impact page's budget is 300 ms for everything); PSI for 20
features from counts under 5 ms (the drift page's budget is 300 ms, including SQL).
Run: python -m benchmarks.stats
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import signal

from flightdeck.impact.counterfactual import impact_without_control
from flightdeck.impact.with_control import impact_with_control
from flightdeck.models.drift_stats import bin_counts, numeric_profile, psi

KPIS, YEARS, FEATURES, ROWS, REFERENCE_ROWS, DAYS = 50, 5, 20, 1_000_000, 100_000, 90


def kpi(rng: np.random.Generator, days: pd.DatetimeIndex) -> pd.Series:
    t = np.arange(len(days))
    noise = signal.lfilter([1.0], [1.0, -0.6], rng.normal(0, 0.16, len(days)))
    season = 0.3 * np.sin(2 * np.pi * t / 365.25) + np.array([0.1, 0, 0, 0, 0, -0.1, -0.05])[t % 7]
    return pd.Series(10 + 0.2 * t / 365.25 + season + noise, days)


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> int:
    rng = np.random.default_rng(6)
    days = pd.date_range("2021-01-01", periods=int(YEARS * 365.25), freq="D")
    go_live = days[-365]
    series = [kpi(rng, days) for _ in range(KPIS)]
    controls = [s - 0.5 + rng.normal(0, 0.1, len(s)) for s in series]
    impact_without_control(series[0], go_live)  # imports and first-call set-up, not part of a page run
    without = [timed(lambda s=s: impact_without_control(s, go_live)) for s in series]
    with_control = [
        timed(lambda s=s, c=c: impact_with_control(s, c, go_live))
        for s, c in zip(series, controls, strict=True)
    ]
    print(
        f"impact without control, {KPIS} KPIs × {len(days)} days: total {sum(without) * 1000:.0f} ms, "
        f"per KPI median {np.median(without) * 1000:.1f} ms, max {max(without) * 1000:.1f} ms"
    )
    print(
        f"impact with control (DiD), {KPIS} KPIs: total {sum(with_control) * 1000:.0f} ms, "
        f"per KPI median {np.median(with_control) * 1000:.1f} ms"
    )

    profiles = [numeric_profile(rng.normal(f, 1 + f / 10, REFERENCE_ROWS)) for f in range(FEATURES)]
    logged = rng.normal(np.arange(FEATURES) + 0.1, 1 + np.arange(FEATURES) / 10, (ROWS, FEATURES))
    day = rng.integers(0, DAYS, ROWS)
    start = time.perf_counter()
    per_day = [
        bin_counts(logged[:, f], profiles[f]["edges"], groups=day, n_groups=DAYS) for f in range(FEATURES)
    ]
    binning = time.perf_counter() - start
    start = time.perf_counter()
    results = [
        psi(p["proportions"], counts[-30:].sum(axis=0)) for p, counts in zip(profiles, per_day, strict=True)
    ]
    scoring = time.perf_counter() - start
    print(f"drift binning at ingest, {FEATURES} features × {ROWS:,} rows, per day: {binning * 1000:.0f} ms")
    print(
        f"PSI for {FEATURES} features over 30 days from summed counts: {scoring * 1000:.2f} ms "
        f"(max PSI {max(r.value for r in results):.3f})"
    )

    targets = [
        ("impact_per_kpi_median", np.median(without) * 1000, 50.0, "ms"),
        ("impact_per_kpi_max", max(without) * 1000, 50.0, "ms"),
        ("psi_20_features_from_counts", scoring * 1000, 5.0, "ms"),
    ]
    for name, value, goal, unit in targets:
        verdict = "met" if value < goal else "missed"
        print(f"target {name}: {value:.2f} {unit} (goal < {goal:g} {unit}) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
