"""The operational-readiness rubric as data (docs/methods.md, "Readiness"), after Google's ML Test Score.

Each check says why it matters in one sentence a business owner understands, which ML Test Score
item it follows (where there is one), whether Flightdeck computes it (`automatic`) or a person
asserts it (`attested`), whether failing it blocks a pilot (`blocking`), who may attest it and who
can fix it. `missing` says what a check is worth while its evidence does not exist yet: "fail" or
"not_applicable" — never pass. Changing a check's meaning means a new RUBRIC_VERSION, which every
snapshot records.
"""

from __future__ import annotations

from dataclasses import dataclass

from flightdeck.core.roles import Role

RUBRIC_VERSION = "2026.1"
PASS, PARTIAL, FAIL, NOT_APPLICABLE = "pass", "partial", "fail", "not_applicable"
CREDIT = {PASS: 1.0, PARTIAL: 0.5, FAIL: 0.0}
STATUS_LABELS = {PASS: "Pass", PARTIAL: "Partial", FAIL: "Fail", NOT_APPLICABLE: "Not applicable"}
NOT_READY, PILOT_READY, PRODUCTION_READY = "not_ready", "pilot_ready", "production_ready"
LEVEL_LABELS = {NOT_READY: "Not ready", PILOT_READY: "Pilot-ready", PRODUCTION_READY: "Production-ready"}
LEVEL_RANK = {NOT_READY: 0, PILOT_READY: 1, PRODUCTION_READY: 2}
PILOT_MIN = 50.0
PRODUCTION_MIN = 80.0
LATENCY_BUDGET_MS = 100.0  # p95 for one row on Flightdeck's server: the stated serving budget
LATENCY_MIN_SAMPLES = 20  # below this many timed calls the median stands in for the p95
LOGS_RECENT_DAYS = 7
SEGMENT_MIN_ROWS = 30  # an "important" segment has at least this many holdout rows
SEGMENT_AUC_SLACK = 0.05  # a segment's ROC AUC may trail the overall one by this much
SEGMENT_ERROR_RATIO = 1.25  # a segment's MAE may exceed the overall one by this factor
BO, DS, R, A = Role.BUSINESS_OWNER, Role.DATA_SCIENTIST, Role.REVIEWER, Role.ADMIN


@dataclass(frozen=True)
class Dimension:
    key: str
    title: str
    question: str


@dataclass(frozen=True)
class Check:
    id: str
    dimension: str
    title: str
    why: str
    ml_test_score: str
    mode: str  # "automatic" | "attested"
    blocking: bool
    fixers: tuple[Role, ...]  # who can fix it; for attested checks, who may attest
    missing: str = FAIL  # status while there is no evidence: FAIL or NOT_APPLICABLE
    action: str = ""  # the next step in plain words

    @property
    def attested(self) -> bool:
        return self.mode == "attested"


DIMENSIONS = (
    Dimension("business", "Business alignment", "Is it clear what the model must move, and by how much?"),
    Dimension("data", "Data and context", "Do we know what every input means, and does live data match?"),
    Dimension("quality", "Model quality", "Is it measurably better than a simple rule, for everyone?"),
    Dimension("operations", "Operations", "Can it be served, watched and rolled back?"),
    Dimension("compliance", "Compliance and security", "Is it safe, lawful and independently approved?"),
    Dimension("maintainability", "Maintainability", "Can someone keep it healthy next year?"),
)


DIMENSION_TITLES = {d.key: d.title for d in DIMENSIONS}


def _c(*args: object, **kwargs: object) -> Check:
    return Check(*args, **kwargs)  # type: ignore[arg-type]


CHECKS = (
    # Business alignment
    _c("goal_owner_value", "business", "Goal has an owner and a value statement",
       "Without a named owner and a stated value nobody can say whether the model paid off.",
       "", "automatic", False, (BO,), action="Write the goal's value statement"),
    _c("kpi_plan", "business", "Linked KPIs have a baseline, a target and a money value",
       "A KPI without a baseline and target cannot show the model moved it, nor what that is worth.",
       "", "automatic", False, (BO,), action="Give the linked KPIs a baseline, a target and a money value"),
    _c("success_criterion", "business", "Success criterion (minimum uplift) agreed",
       "Agreeing up front what uplift counts as success stops the goalposts moving after go-live.",
       "", "attested", False, (BO,), action="Agree and record the minimum uplift that counts as success"),
    _c("pilot_moves_kpi", "business", "Offline metric shown to move the KPI in a pilot",
       "A better offline score is only worth something if it moves the business number in practice.",
       "Model 2", "attested", False, (BO, R), action="Record the pilot result linking metric and KPI"),
    _c("owner_signoff", "business", "Business owner signed off",
       "The person accountable for the goal agrees this model is what the business needs.",
       "", "attested", False, (BO,), action="Business owner signs off the model"),
    # Data and context
    _c("features_mapped", "data", "Every feature mapped to a data-dictionary field",
       "If we do not know what an input means, we cannot check it, explain it or protect it.",
       "", "automatic", True, (DS,), action="Map and confirm every feature's business field"),
    _c("context_declared", "data", "Formats and units of the mapped fields declared",
       "Undeclared units and formats are how a price in cents ends up read as euros.",
       "", "automatic", False, (BO,), action="Declare meaning, unit or format of the mapped fields"),
    _c("training_profile", "data", "Training-data profile and schema captured",
       "The training profile is the yardstick that tells us when live data has changed.",
       "Data 1", "automatic", False, (DS,), action="Upload a training-data sample with the next version"),
    _c("serving_schema", "data", "Serving inputs keep the training schema",
       "Live inputs with missing features silently degrade every prediction.",
       "Monitor 2", "automatic", False, (DS,), NOT_APPLICABLE, "Log every feature with the predictions"),
    _c("personal_data", "data", "Personal data identified, with a lawful basis",
       "Using personal data without a lawful basis is a GDPR breach, whatever the model's benefit.",
       "Data 5", "automatic", True, (BO, DS), action="Identify personal data and its lawful basis"),
    # Model quality
    _c("evaluated", "quality", "Evaluated by Flightdeck on a holdout",
       "Numbers measured independently on unseen data are the only ones a reviewer can trust.",
       "", "automatic", True, (DS,), action="Upload a holdout so Flightdeck can evaluate the version"),
    _c("beats_baseline", "quality", "Beats a simple baseline",
       "A model that cannot beat 'always predict the average' adds cost and risk for nothing.",
       "Model 5", "automatic", True, (DS,), action="Improve the model until it beats the baseline"),
    _c("segments_hold", "quality", "Quality holds on every important segment",
       "A model that works on average can still fail a whole region or customer group.",
       "Model 6", "automatic", False, (DS,), action="Evaluate per segment and fix the weak ones"),
    _c("docs_written", "quality", "Intended use and limitations written",
       "Written limits keep the model from being used where it was never meant to work.",
       "", "automatic", False, (DS,), action="Write the intended use and the limitations"),
    _c("inclusion", "quality", "Inclusion considered",
       "Someone independent has looked at whether some groups of people are treated worse.",
       "Model 7", "attested", False, (R,), action="A reviewer records the inclusion review"),
    # Operations
    _c("latency_budget", "operations", "Latency p95 within the budget",
       f"Slow answers break the process the model serves (budget {LATENCY_BUDGET_MS:g} ms per row).",
       "Monitor 6", "automatic", False, (DS,), action="Make single-row predictions faster"),
    _c("serving_owner", "operations", "Serving system and its owner named",
       "When something breaks at night, everyone must know which system it is and whom to call.",
       "", "attested", False, (DS,), action="Name the serving system and its owner"),
    _c("logs_recent", "operations", "Predictions logged recently",
       f"Without predictions logged in the last {LOGS_RECENT_DAYS} days we are flying blind.",
       "", "automatic", False, (DS,), NOT_APPLICABLE, "Load the latest prediction logs"),
    _c("drift_ok", "operations", "Input drift within thresholds",
       "Inputs unlike the training data mean the model is guessing outside what it learned.",
       "Monitor 7", "automatic", False, (DS,), NOT_APPLICABLE, "Investigate the drifting inputs and retrain"),
    _c("rollback_target", "operations", "Rollback target exists",
       "If the model misbehaves we must be able to return to the previous version or process at once.",
       "Infra 7", "attested", False, (DS,), action="Name and test the rollback target"),
    _c("pilot_plan", "operations", "Pilot or canary plan",
       "Starting small limits the damage a surprise can do.",
       "Infra 6", "attested", False, (DS, BO), action="Write the pilot or canary plan"),
    # Compliance and security
    _c("artifact_safe", "compliance", "Artifact in a safe format with a verified hash",
       "An unsafe model file can run arbitrary code on our servers; the hash proves what was approved.",
       "", "automatic", True, (DS,), action="Upload the model as a skops file"),
    _c("dpia", "compliance", "DPIA recorded where personal data is used",
       "A data protection impact assessment is required by law before profiling people at scale.",
       "", "attested", True, (R, A), action="Record the DPIA"),
    _c("human_review", "compliance", "Human review path for decisions about people",
       "People may not be subject to purely automated decisions with significant effects (GDPR Art. 22).",
       "", "attested", False, (BO,), action="Describe how a person can review a decision"),
    _c("retention", "compliance", "Retention set for prediction logs",
       "Logs kept forever become a liability; a retention period keeps us within what we promised.",
       "", "attested", False, (A,), action="Admin sets and records the log retention period"),
    _c("independent_approval", "compliance", "Approved by an independent reviewer",
       "Four eyes: someone who did not build the model has checked it.",
       "", "automatic", True, (R,), action="Ask for review and have an independent reviewer approve"),
    # Maintainability
    _c("owners", "maintainability", "Owner and backup owner named",
       "A model whose only expert is on holiday cannot be fixed.",
       "", "attested", False, (DS,), action="Name the owner and a backup owner"),
    _c("refresh_cadence", "maintainability", "Refresh cadence set and last training within it",
       "The world changes; a model not retrained on schedule slowly goes stale.",
       "Monitor 4", "automatic", False, (DS,), action="Set a refresh cadence and retrain on time"),
    _c("reproducible", "maintainability", "Training reproducible (code and data references)",
       "If we cannot retrain the same model, we cannot fix or audit it.",
       "Infra 1", "automatic", False, (DS,), action="Record the training date, code and data references"),
    _c("code_reviewed", "maintainability", "Model code reviewed",
       "A second pair of eyes on the code catches the bugs tests miss.",
       "Model 1", "attested", False, (R,), action="A reviewer records the code review"),
)  # fmt: skip


CHECKS_BY_ID = {c.id: c for c in CHECKS}


def checks_of(dimension: str) -> tuple[Check, ...]:
    return tuple(c for c in CHECKS if c.dimension == dimension)
