"""Every table, imported here so that `Base.metadata` is complete for Alembic and tests."""

from flightdeck.orm.accounts import AuthSessionRow, UserRoleRow, UserRow
from flightdeck.orm.alerts import AlertDeliveryAttemptRow, AlertDeliveryRow, AlertRow
from flightdeck.orm.audit import AuditEventRow, AuditHeadRow
from flightdeck.orm.base import Base
from flightdeck.orm.context import DataFieldRow, HierarchyNodeRow, HierarchyRow
from flightdeck.orm.goals import GoalRow, GoalStatus
from flightdeck.orm.kpis import (
    IngestBatchRow,
    KpiRow,
    KpiSqlQueryRow,
    ObservationRow,
    RollupRow,
    SqlConnectionRow,
)
from flightdeck.orm.monitoring import PredictionBinRow
from flightdeck.orm.readiness import AttestationRow, GateOverrideRow, SnapshotRow
from flightdeck.orm.registry import (
    ArtifactRow,
    DeploymentRow,
    FeatureMapRow,
    LogBatchRow,
    ModelKpiRow,
    ModelRow,
    ModelVersionRow,
    OutcomeRow,
    PredictionRow,
    StageEventRow,
    TrustedTypeRow,
)
from flightdeck.orm.workspace import WorkspaceMetaRow

__all__ = [
    "AlertDeliveryAttemptRow",
    "AlertDeliveryRow",
    "AlertRow",
    "ArtifactRow",
    "AttestationRow",
    "AuditEventRow",
    "AuditHeadRow",
    "AuthSessionRow",
    "Base",
    "DataFieldRow",
    "DeploymentRow",
    "FeatureMapRow",
    "GateOverrideRow",
    "GoalRow",
    "GoalStatus",
    "HierarchyNodeRow",
    "HierarchyRow",
    "IngestBatchRow",
    "KpiRow",
    "KpiSqlQueryRow",
    "LogBatchRow",
    "ModelKpiRow",
    "ModelRow",
    "ModelVersionRow",
    "ObservationRow",
    "OutcomeRow",
    "PredictionBinRow",
    "PredictionRow",
    "RollupRow",
    "SnapshotRow",
    "SqlConnectionRow",
    "StageEventRow",
    "TrustedTypeRow",
    "UserRoleRow",
    "UserRow",
    "WorkspaceMetaRow",
]
