"""Artifacts: pickles are never loaded, untrusted types are refused by name, the admin's allow-list
lets a reviewed type through, and stored bytes are checked against their sha256 on every load."""

import io
import pickle
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, ClassifierMixin
from sqlalchemy import update

from flightdeck.accounts import audit_trail
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, PermissionDenied
from flightdeck.core.roles import Role
from flightdeck.models import artifacts, registry, versioning
from flightdeck.orm import ArtifactRow
from flightdeck.tabular import uploads
from tests.factories import add_model, add_user, add_version, churn_frame, csv_bytes, fitted_classifier

CUSTOM = f"{__name__}.AlwaysHalf"


class AlwaysHalf(ClassifierMixin, BaseEstimator):
    """A hand-made classifier: a custom class, as skops sees it."""

    def fit(self, x: object, y: np.ndarray) -> "AlwaysHalf":
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, x: object) -> np.ndarray:
        return np.full((len(x), 2), 0.5)  # type: ignore[arg-type]


class CreatesAFile:
    """Unpickling this opens (and so creates) a file: the harmless stand-in for any payload."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.path), "w")


def upload(data: bytes, name: str = "model.skops") -> versioning.VersionUpload:
    frame = churn_frame(200)
    return versioning.VersionUpload(
        artifact=versioning.Upload(name, data),
        holdout=versioning.Upload("h.csv", csv_bytes(frame)),
        target="churned",
    )


@pytest.fixture
def people(db: Database) -> dict[str, object]:
    return {
        "ds": add_user(db, "dana", Role.DATA_SCIENTIST),
        "bo": add_user(db, "bianca", Role.BUSINESS_OWNER),
        "admin": add_user(db, "ada", Role.ADMIN),
    }


@pytest.mark.parametrize("kind", ["pickle", "joblib", "joblib-compressed"])
def test_a_pickle_that_would_create_a_file_is_refused_and_the_file_never_appears(
    db: Database, people: dict, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "pwned.txt"
    payload = CreatesAFile(target)
    if kind == "pickle":
        data = pickle.dumps(payload)
    else:
        buffer = io.BytesIO()
        joblib.dump(payload, buffer, compress=3 if kind == "joblib-compressed" else 0)
        data = buffer.getvalue()
    model = add_model(db, people["ds"], people["bo"])
    with pytest.raises(InvalidInput) as refused:
        versioning.create_version(db, people["ds"], model.id, upload(data, "model.joblib"), latency=False)
    message = str(refused.value)
    assert "pickle or joblib" in message
    assert "skops.io.dump(model, 'model.skops')" in message
    assert not target.exists()
    assert registry.list_versions(db, model.id) == []


def test_a_file_that_is_neither_zip_nor_pickle_is_refused_as_not_skops(db: Database, people: dict) -> None:
    with pytest.raises(InvalidInput, match="not a skops file"):
        artifacts.inspect(db, b"just some text", "model.skops")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(InvalidInput, match=r"no schema\.json"):
        artifacts.inspect(db, archive.getvalue(), "model.skops")


def test_the_size_cap_refuses_before_reading(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(artifacts.MAX_ARTIFACT_ENV, "0.001")
    with pytest.raises(InvalidInput, match="limited to 0 MB"):
        artifacts.inspect(db, b"PK\x03\x04" + b"x" * 5000, "big.skops")


def test_a_custom_class_is_refused_by_name_until_an_admin_allows_it(db: Database, people: dict) -> None:
    data = sio.dumps(AlwaysHalf().fit(None, np.array([0, 1])))
    model = add_model(db, people["ds"], people["bo"])
    with pytest.raises(InvalidInput) as refused:
        versioning.create_version(db, people["ds"], model.id, upload(data), latency=False)
    assert CUSTOM in str(refused.value)
    assert "not trusted" in str(refused.value)

    with pytest.raises(PermissionDenied):
        artifacts.add_trusted_type(db, people["ds"], CUSTOM, "I wrote it")
    allowed = artifacts.add_trusted_type(
        db, people["admin"], CUSTOM, "Reviewed: returns 0.5, no side effects."
    )
    version = versioning.create_version(db, people["ds"], model.id, upload(data), latency=False)
    assert version.estimator == "AlwaysHalf"
    assert version.evaluation["metrics"]["roc_auc"] == pytest.approx(0.5)
    assert isinstance(artifacts.load_estimator(db, version.id), AlwaysHalf)
    [event] = audit_trail.list_events(db, audit_trail.AuditFilter(actions=("artifact.allow_type",)))[0]
    assert event.after == {"type_name": CUSTOM, "reason": "Reviewed: returns 0.5, no side effects."}

    artifacts.remove_trusted_type(db, people["admin"], allowed.id)
    with pytest.raises(InvalidInput, match="not trusted"):
        artifacts.load_estimator(db, version.id)


def test_the_allow_list_needs_a_type_name_and_a_reason(db: Database, people: dict) -> None:
    with pytest.raises(InvalidInput) as refused:
        artifacts.add_trusted_type(db, people["admin"], "not a type", "")
    assert {p.field for p in refused.value.problems} == {"type_name", "reason"}


def test_a_corrupted_artifact_fails_its_hash_check_and_is_not_loaded(db: Database, people: dict) -> None:
    model = add_model(db, people["ds"], people["bo"])
    version = add_version(db, people["ds"], model.id)
    assert artifacts.verify(db, version.artifact_sha256)
    assert artifacts.load_estimator(db, version.id).predict_proba is not None
    with db.transaction() as session:
        stored = session.get(ArtifactRow, version.artifact_sha256)
        tampered = bytearray(stored.content)
        tampered[len(tampered) // 2] ^= 0xFF
        session.execute(
            update(ArtifactRow)
            .where(ArtifactRow.sha256 == version.artifact_sha256)
            .values(content=bytes(tampered))
        )
    assert not artifacts.verify(db, version.artifact_sha256)
    with pytest.raises(artifacts.ArtifactCorrupted, match="failed its integrity check"):
        artifacts.load_estimator(db, version.id)


def test_the_same_file_uploaded_twice_is_stored_once(db: Database, people: dict) -> None:
    model = add_model(db, people["ds"], people["bo"])
    data = sio.dumps(fitted_classifier(churn_frame()))
    first = versioning.create_version(db, people["ds"], model.id, upload(data), latency=False)
    second = versioning.create_version(db, people["ds"], model.id, upload(data), latency=False)
    assert first.artifact_sha256 == second.artifact_sha256 == uploads.sha256(data)
    [stored] = artifacts.list_artifacts(db)
    assert stored.used_by == ("Churn v1", "Churn v2")
    assert artifacts.total_bytes(db) == stored.size_bytes == len(data)
