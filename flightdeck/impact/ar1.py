"""AR(1) noise, which period-level KPI series have: a Welch test on 60 daily values treats them as
60 independent observations and its interval is too narrow. Both impact estimators model the noise
as AR(1) with the autocorrelation corrected for its small-sample bias, and compute variances exactly
under that model."""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize, signal

MAX_AUTOCORRELATION = 0.98


def ar1_times(values: np.ndarray, rho: float) -> np.ndarray:
    """R·v for the AR(1) correlation matrix R_ij = ρ^|i−j| (columns of a matrix at once), in O(n) by
    a forward and a backward recursive filter instead of an n×n matrix."""
    forward = signal.lfilter([1.0], [1.0, -rho], values, axis=0)
    backward = signal.lfilter([1.0], [1.0, -rho], values[::-1], axis=0)[::-1]
    return forward + backward - values


def ar1_noise(residuals: np.ndarray, X: np.ndarray) -> tuple[float, float]:
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
        rq = ar1_times(q, rho)
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
