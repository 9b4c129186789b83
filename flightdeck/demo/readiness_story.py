"""The readiness story of the Greenway Grocers demo: attestations by the right people, with notes.

Levels are never set: they follow from the evidence the demo holds. The churn model v1 is attested
in full before its promotion, so it passes the production gate and, with its logs, stays
Production-ready (its retraining is overdue, which the page says). The fresh-demand forecast goes to
its pilot region through Rita's audited override: no rollback target, no code review yet; with the
heatwave drifting its temperature input it is Pilot-ready with clear next steps. The invoice
auto-match draft gets no attestation and stays Not ready, its unmapped features blocking.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flightdeck.core.db import Database
from flightdeck.core.permissions import User
from flightdeck.models.records import ModelVersion
from flightdeck.readiness import attestations, gate

# check → (who, note)
CHURN = {
    "success_criterion": ("bianca", "Success is monthly churn in the treatment arm at least 0.5 points below "
                          "control after three months, at no more than €15 per offer."),
    "pilot_moves_kpi": ("bianca", "Four-week pilot in South: treatment churn 0.6 points below control while "
                        "the holdout ROC AUC was 0.8; the ranking moves the KPI."),
    "owner_signoff": ("bianca", "Signed off for the treatment arm of the retention experiment."),
    "serving_owner": ("dana", "Nightly batch job crm-churn-scoring on the CRM Airflow; owner Dana Okafor, "
                      "on call: CRM data team."),
    "rollback_target": ("dana", "Fallback is the RFM segmentation used before; one switch in the offer tool, "
                        "tested on the pilot."),
    "pilot_plan": ("dana", "Offers to the treatment arm only; the control arm keeps business as usual."),
    "owners": ("dana", "Owner Dana Okafor, backup Kenji Sato."),
    "inclusion": ("rita", "Score distributions checked by region and tenure band; no group is systematically "
                  "excluded from offers."),
    "code_reviewed": ("rita", "Reviewed greenway/churn-model@4f2a9c1 with Kenji: feature code, training "
                      "script and tests."),
    "retention": ("ada", "Prediction logs are kept 13 months, then purged by the nightly job."),
}  # fmt: skip


FORECAST = {
    "success_criterion": ("bruno", "Fresh waste in North at least 0.3 points below the other regions after "
                          "eight weeks, with no more out-of-stocks."),
    "owner_signoff": ("bruno", "Signed off for a pilot in North; the store managers keep the final order."),
    "serving_owner": ("kenji", "Service fresh-forecast on the supply-chain cluster; owner Kenji Sato."),
    "pilot_plan": ("kenji", "North only (6 stores) for three months; the other regions are the comparison."),
    "owners": ("kenji", "Owner Kenji Sato, backup Dana Okafor."),
    "retention": ("ada", "Forecast logs are kept 13 months, then purged by the nightly job."),
}  # fmt: skip


OVERRIDE = (
    "Pilot in North only: store managers keep the final order, so a bad forecast costs little, and "
    "ordering falls back to the managers' own numbers at once. Code review and a rollback test are "
    "due before any wider rollout."
)


def _at(day: datetime, hours: int) -> datetime:
    return day + timedelta(hours=hours)


def before_promotion(db: Database, people: dict[str, User], version: ModelVersion, live: datetime) -> None:
    """Attest what the people responsible for this version assert before it goes live; the
    forecast pilot also gets the reviewer's override, since it is not Production-ready."""
    notes = CHURN if version.model_name.startswith("Member churn") else FORECAST
    day = datetime.combine(live.date() - timedelta(days=3), time(9), tzinfo=UTC)
    for hour, (check_id, (who, note)) in enumerate(notes.items()):
        attestations.attest(db, people[who], version.id, check_id, note, now=_at(day, hour))
    if notes is FORECAST:
        gate.record_override(db, people["rita"], version.id, OVERRIDE, now=_at(day, 24))
