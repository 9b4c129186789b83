"""Evaluation: Flightdeck's figures equal scikit-learn's, the baseline and segments are computed,
the value-of-errors curve matches a hand calculation, and the training profile has the shape drift
reads."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from flightdeck.core.errors import InvalidInput
from flightdeck.models import drift_stats, evaluation
from flightdeck.tabular import files, formats
from flightdeck.tabular.findings import Findings, Rejected
from tests.factories import FEATURES, churn_frame, csv_bytes, fitted_classifier


def holdout_of(frame: pd.DataFrame, task: str = "classification", classes: list | None = None, **kw: str):
    table = files.read_table(csv_bytes(frame), "h.csv", formats.SourceFormat())
    return evaluation.read_holdout(
        table,
        formats.SourceFormat(),
        task,
        kw.get("features", FEATURES),
        kw.get("target", "churned"),
        kw.get("segment", "region"),
        [0, 1] if classes is None and task == "classification" else classes,
    )


def test_classification_metrics_equal_scikit_learns_and_the_baseline_is_the_prior() -> None:
    frame = churn_frame(800, seed=3)
    model = fitted_classifier(churn_frame(800, seed=4))
    parsed = holdout_of(frame)
    result = evaluation.evaluate(model, "classification", FEATURES, parsed.holdout, latency=False)
    y = frame["churned"].to_numpy()
    p = model.predict_proba(frame[FEATURES])[:, 1]
    assert result["metrics"] == pytest.approx(
        {
            "roc_auc": roc_auc_score(y, p),
            "pr_auc": average_precision_score(y, p),
            "f1": f1_score(y, p >= 0.5),
            "log_loss": log_loss(y, p),
            "brier": brier_score_loss(y, p),
        }
    )
    prior = np.full(len(y), y.mean())
    assert result["baseline"]["roc_auc"] == 0.5
    assert result["baseline"]["brier"] == pytest.approx(brier_score_loss(y, prior))
    assert result["baseline"]["log_loss"] == pytest.approx(log_loss(y, prior))
    assert result["confusion"] == {
        "tp": int(((p >= 0.5) & (y == 1)).sum()),
        "fp": int(((p >= 0.5) & (y == 0)).sum()),
        "fn": int(((p < 0.5) & (y == 1)).sum()),
        "tn": int(((p < 0.5) & (y == 0)).sum()),
    }
    assert len(result["calibration"]["predicted"]) == len(result["calibration"]["observed"]) <= 10


def test_segment_metrics_are_the_metrics_of_each_segments_rows() -> None:
    frame = churn_frame(900, seed=5)
    model = fitted_classifier(frame)
    result = evaluation.evaluate(model, "classification", FEATURES, holdout_of(frame).holdout, latency=False)
    assert [s["segment"] for s in result["segments"]] == ["E", "N", "S"]
    for segment in result["segments"]:
        rows = frame[frame["region"] == segment["segment"]]
        p = model.predict_proba(rows[FEATURES])[:, 1]
        assert segment["n"] == len(rows)
        assert segment["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(rows["churned"], p))


def test_regression_metrics_equal_scikit_learns_with_the_mean_as_baseline() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["units"] = 50 + 8 * frame["a"] - 3 * frame["b"] + rng.normal(size=400)
    frame["store"] = rng.choice(["N101", "N102"], 400)
    model = RandomForestRegressor(n_estimators=10, random_state=0).fit(frame[["a", "b"]], frame["units"])
    parsed = holdout_of(frame, "regression", features=["a", "b"], target="units", segment="store")
    result = evaluation.evaluate(model, "regression", ["a", "b"], parsed.holdout, latency=False)
    y, p = frame["units"].to_numpy(), model.predict(frame[["a", "b"]])
    assert result["metrics"] == pytest.approx(
        {
            "mae": mean_absolute_error(y, p),
            "rmse": mean_squared_error(y, p) ** 0.5,
            "mape": mean_absolute_percentage_error(y, p),
            "r2": r2_score(y, p),
        }
    )
    assert result["baseline"]["r2"] == pytest.approx(0.0)
    assert result["baseline"]["mae"] == pytest.approx(mean_absolute_error(y, np.full(len(y), y.mean())))
    assert len(result["residuals"]["residual"]) == 400
    assert {s["segment"] for s in result["segments"]} == {"N101", "N102"}


def test_latency_is_measured_for_single_rows_and_batches_of_1000() -> None:
    frame = churn_frame(300)
    result = evaluation.evaluate(
        fitted_classifier(frame), "classification", FEATURES, holdout_of(frame).holdout
    )
    latency = result["latency"]
    assert 0 < latency["single_p50_ms"] <= latency["single_p95_ms"]
    assert 0 < latency["batch_1000_p50_ms"] <= latency["batch_1000_p95_ms"]
    assert latency["single_samples"] >= 5


def test_the_value_curve_matches_a_hand_computed_case() -> None:
    # Four subjects scoring 0.1, 0.4, 0.6, 0.9; the two highest are truly positive.
    table = evaluation.threshold_table(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.6, 0.9]))
    values = evaluation.ErrorValues(tp=100, fp=-20, fn=-50, tn=0)
    curve = evaluation.value_curve(table, values)
    at = dict(zip(curve.thresholds, curve.per_1000, strict=True))
    # t ≤ 0.1: act on all: 2 TP, 2 FP → (200 − 40) / 4 × 1000 = 40,000
    assert at[0.0] == pytest.approx(40_000)
    # 0.1 < t ≤ 0.4: 2 TP, 1 FP, 1 TN → 180 / 4 × 1000 = 45,000
    assert at[0.3] == pytest.approx(45_000)
    # 0.4 < t ≤ 0.6: 2 TP, 2 TN → 50,000, the best
    assert at[0.5] == pytest.approx(50_000)
    # 0.6 < t ≤ 0.9: 1 TP, 1 FN → 50 / 4 × 1000 = 12,500; above 0.9 nobody: 2 FN → −25,000
    assert at[0.8] == pytest.approx(12_500)
    assert at[1.0] == pytest.approx(-25_000)
    assert curve.best_value == pytest.approx(50_000)
    assert 0.4 < curve.best_threshold <= 0.6
    # The base-rate baseline can only act on everyone (40,000) or no one (−25,000).
    assert (curve.baseline_policy, curve.baseline_value) == ("act on everyone", pytest.approx(40_000))
    assert curve.gain_over_baseline == pytest.approx(10_000)


def test_the_profile_has_deciles_quantiles_histogram_and_a_sample_for_drift() -> None:
    frame = churn_frame(2000, seed=9)
    frame.loc[:99, "basket_value_eur"] = np.nan
    frame["tier"] = np.where(frame["tenure_months"] > 60, "gold", "silver")
    findings_frame = frame.astype(str).replace("nan", "")
    findings = Findings(findings_frame, np.arange(2, len(frame) + 2), [])
    table = evaluation.read_features(findings_frame, [*FEATURES, "tier"], formats.SourceFormat(), findings)
    findings.reject_if_any()
    profile = evaluation.profile(table)
    basket = profile["basket_value_eur"]
    assert basket["kind"] == "numeric"
    assert len(basket["edges"]) == 11
    assert len(basket["proportions"]) == 10
    assert sum(basket["proportions"]) == pytest.approx(1.0)
    assert basket["proportions"] == pytest.approx([0.1] * 10, abs=0.01)
    assert basket["missing_share"] == pytest.approx(0.05)
    present = frame["basket_value_eur"].dropna()
    assert basket["quantiles"]["p50"] == pytest.approx(present.median())
    assert basket["mean"] == pytest.approx(present.mean())
    assert len(basket["sample"]) == 500
    assert sum(basket["histogram"]["counts"]) == len(present)
    tier = profile["tier"]
    assert tier["kind"] == "categorical"
    assert tier["frequencies"] == pytest.approx(frame["tier"].value_counts(normalize=True).to_dict())
    assert tier["missing_share"] == 0.0
    # Drift counts live data in the profile's own buckets: the reference itself shows no drift.
    for feature in ("basket_value_eur", "tier"):
        counts = drift_stats.profile_counts(profile[feature], table.frame[feature])
        assert drift_stats.psi(profile[feature]["proportions"], counts).value == pytest.approx(0.0, abs=1e-9)


def test_bad_holdout_rows_are_all_reported_with_row_and_column() -> None:
    frame = churn_frame(50).astype(object)
    frame.loc[3, "visits_last_30d"] = "seven"
    frame.loc[10, "churned"] = "maybe"
    with pytest.raises(Rejected) as rejected:
        holdout_of(frame)
    found = {(p.row, p.field, p.value) for p in rejected.value.problems}
    assert found == {(5, "visits_last_30d", "seven"), (12, "churned", "maybe")}
    assert "model's classes (0, 1)" in rejected.value.problems[1].message


def test_a_holdout_without_a_declared_feature_names_it() -> None:
    with pytest.raises(InvalidInput, match="lacks the column\\(s\\) basket_value_eur"):
        holdout_of(churn_frame(20).drop(columns=["basket_value_eur"]))


def test_a_holdout_written_by_pandas_with_scientific_notation_reads_as_numbers() -> None:
    frame = churn_frame(30)
    frame["basket_value_eur"] = frame["basket_value_eur"] * 1e-7  # to_csv writes these as 1.2e-06
    assert "e-0" in csv_bytes(frame).decode()
    parsed = holdout_of(frame)
    assert parsed.features.kinds["basket_value_eur"] == "numeric"
    assert parsed.holdout.inputs["basket_value_eur"].to_numpy() == pytest.approx(frame["basket_value_eur"])
