"""Seconds Flightdeck takes to evaluate a model on a 200,000-row holdout, against the bare
computation a data scientist would run in a notebook (`predict_proba` plus `roc_auc_score`).

The model is a pipeline of a StandardScaler and a HistGradientBoostingClassifier. Flightdeck's
evaluation computes every metric against a baseline, the calibration and confusion matrix, the
confusion counts at 101 thresholds for the value of errors, latency for single rows and batches of
1,000, and the training-data profile of every feature. Target (issue 4): within 3× of the bare
computation, measured in the same run. The full upload (CSV parsing and storage) is printed too.
Run: python -m benchmarks.evaluate
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from flightdeck import wiring
from flightdeck.business import goals
from flightdeck.core.config import Settings
from flightdeck.core.db import Database
from flightdeck.core.roles import Role
from flightdeck.models import artifacts, evaluation, records, registry, versioning
from flightdeck.tabular import files, formats
from tests.factories import add_user

ROWS = 200_000
FEATURES = [f"x{i}" for i in range(8)]
GOAL = 3.0


def data(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)
    logit = frame["x0"] - 0.7 * frame["x1"] + 0.4 * frame["x2"] * frame["x3"]
    frame["label"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def best_of(runs: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    train, holdout = data(50_000, 1), data(ROWS, 2)
    model = make_pipeline(StandardScaler(), HistGradientBoostingClassifier(max_iter=100, random_state=0))
    model.fit(train[FEATURES], train["label"])
    csv = holdout.to_csv(index=False, float_format="%.5f").encode()  # about 13 MB, under the upload cap
    table = files.read_table(csv, "holdout.csv", formats.SourceFormat())
    parsed = evaluation.read_holdout(
        table, formats.SourceFormat(), "classification", FEATURES, "label", "", [0, 1]
    )

    inputs, target = parsed.holdout.inputs, parsed.holdout.target  # the same data for both

    def bare() -> None:
        roc_auc_score(target, model.predict_proba(inputs[FEATURES])[:, 1])

    def flightdeck() -> None:
        evaluation.evaluate(model, "classification", FEATURES, parsed.holdout)
        evaluation.profile(parsed.features)

    bare()  # warm up the thread pools
    baseline = best_of(3, bare)
    ours = best_of(3, flightdeck)
    ratio = ours / baseline

    with tempfile.TemporaryDirectory() as folder:
        wiring.wire()
        db = Database(Settings(database_url=f"sqlite:///{Path(folder) / 'bench.db'}", data_dir=Path(folder)))
        db.upgrade()
        owner = add_user(db, "owner", Role.BUSINESS_OWNER)
        scientist = add_user(db, "scientist", Role.DATA_SCIENTIST)
        goal = goals.create_goal(db, owner, goals.GoalDraft(title="Benchmark"))
        registered = registry.create_model(
            db, scientist, records.ModelDraft("bench", "Benchmark", goal.id, "classification")
        )
        admin = add_user(db, "admin", Role.ADMIN)
        artifacts.add_trusted_type(
            db, admin, "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor", "benchmark model"
        )
        upload = versioning.VersionUpload(
            versioning.Upload("model.skops", sio.dumps(model)), versioning.Upload("holdout.csv", csv), "label"
        )
        started = time.perf_counter()
        versioning.create_version(db, scientist, registered.id, upload)
        full = time.perf_counter() - started
        db.dispose()

    print(f"holdout: {ROWS:,} rows, {len(FEATURES)} features")
    print("model: StandardScaler + HistGradientBoostingClassifier")
    print(f"bare predict_proba + roc_auc_score: {baseline:.3f} s (best of 3)")
    print(
        f"Flightdeck evaluation (metrics, baseline, calibration, thresholds, latency, profile): {ours:.3f} s"
    )
    print(f"full upload (read and check the CSV, load the skops file, evaluate, store): {full:.3f} s")
    verdict = "met" if ratio <= GOAL else "missed"
    print(f"target evaluation_ratio: {ratio:.2f}x (goal <= {GOAL:.0f}x) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
