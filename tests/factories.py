"""Small builders for test data, going through the real services."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from flightdeck.accounts import users
from flightdeck.business import goals
from flightdeck.core.db import Database
from flightdeck.core.permissions import User, user_view
from flightdeck.core.roles import Role
from flightdeck.models import lifecycle, records, registry, versioning
from flightdeck.models.records import Model, ModelVersion
from flightdeck.orm import UserRow
from flightdeck.readiness import gate

PASSWORD = "correct horse battery"


def add_user(db: Database, username: str, *roles: Role, email: str | None = None) -> User:
    draft = users.AccountDraft(username, username.capitalize(), email, frozenset(roles or {Role.VIEWER}))
    account, _ = users.create_user(db, None, draft, password=PASSWORD)
    with db.read() as session:
        return user_view(session.get_one(UserRow, account.id))


def one_per_role(db: Database) -> dict[Role, User]:
    return {role: add_user(db, role.value.replace("_", "-"), role) for role in Role}


# -- models ----------------------------------------------------------------------------------------

FEATURES = ["tenure_months", "visits_last_30d", "basket_value_eur"]


def churn_frame(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """Members with a churn label that depends on tenure and visits, and a region segment."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.integers(1, 120, rows).astype(float),
            "visits_last_30d": rng.poisson(6, rows).astype(float),
            "basket_value_eur": np.round(rng.gamma(4, 9, rows), 2),
        }
    )
    logit = 1.2 - 0.03 * frame["tenure_months"] - 0.25 * frame["visits_last_30d"]
    frame["churned"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["region"] = rng.choice(["N", "S", "E"], rows)
    return frame


def fitted_classifier(frame: pd.DataFrame) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(frame[FEATURES], frame["churned"])


def skops_bytes(model: object) -> bytes:
    return sio.dumps(model)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def add_model(
    db: Database, author: User, owner: User, key: str = "churn", task: str = "classification"
) -> Model:
    goal = goals.create_goal(db, owner, goals.GoalDraft(title=f"Goal for {key}"))
    return registry.create_model(
        db, author, records.ModelDraft(key, key.replace("_", " ").title(), goal.id, task)
    )


def add_version(
    db: Database, author: User, model_id: int, frame: pd.DataFrame | None = None, **docs: object
) -> ModelVersion:
    """A version of a logistic-regression churn model, evaluated on its own holdout."""
    data = churn_frame() if frame is None else frame
    upload = versioning.VersionUpload(
        artifact=versioning.Upload("churn.skops", skops_bytes(fitted_classifier(data))),
        holdout=versioning.Upload("holdout.csv", csv_bytes(data)),
        target="churned",
        segment_column="region",
        docs=records.VersionDocs(**docs),  # type: ignore[arg-type]
    )
    return versioning.create_version(db, author, model_id, upload, latency=False)


def go_live(
    db: Database, author: User, reviewer: User, version_id: int, when: datetime, scope: str = ""
) -> ModelVersion:
    """Review, approve and promote a version at `when`, through the readiness gate by the reviewer's
    override: for tests whose subject is what happens after go-live, not readiness."""
    lifecycle.request_review(db, author, version_id, now=when - timedelta(days=3))
    lifecycle.approve(db, reviewer, version_id, "Approved.", now=when - timedelta(days=2))
    gate.record_override(db, reviewer, version_id, "Readiness is not this test's subject.", now=when)
    return lifecycle.promote(db, author, version_id, scope=scope, now=when)
