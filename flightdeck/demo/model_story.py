"""The model story of the Greenway Grocers demo, trained at seed time.

- Member churn (Dana): v1, a logistic regression, in production since `story.churn_v1_live`
  (retention offers go to the experiment's treatment arm); v2, a gradient-boosted model with one
  more feature, waits in review. Bianca states what each kind of decision is worth.
- Fresh demand forecast (Kenji): a gradient-boosted regressor of units sold per store, category
  and day, in production in PILOT_REGION since `story.forecast_live`. A heatwave in the last
  DRIFT_DAYS days pushes its `temperature_c` input beyond the training range's 95th percentile.
- Invoice auto-match (Kenji): a draft whose engineered features are not in the data dictionary.

Every model is trained with scikit-learn on deterministic synthetic data (numpy seed SEED), saved
with skops, uploaded and evaluated through the registry's own services; prediction logs and
outcomes go through the same ingestion as an upload. Ada allow-lists the one extra type the
gradient-boosted models need, with her reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from flightdeck.business import dictionary
from flightdeck.business.goals import list_goals
from flightdeck.core.db import Database
from flightdeck.core.permissions import User
from flightdeck.demo import readiness_story
from flightdeck.demo.story import PILOT_REGION, REGIONS, Story, story
from flightdeck.kpis import definitions
from flightdeck.models import (
    artifacts,
    lifecycle,
    outcome_logs,
    prediction_logs,
    records,
    registry,
    versioning,
)
from flightdeck.models.evaluation import ErrorValues

SEED = 20240917
TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
CHURN, FORECAST, INVOICE = "member_churn", "fresh_demand_forecast", "invoice_auto_match"
CHURN_FEATURES = ["tenure_months", "visits_last_30d", "basket_value_eur"]
CHURN_V2_FEATURES = [*CHURN_FEATURES, "days_since_last_visit"]
FORECAST_FEATURES = ["store_code", "sku_category", "day_of_week", "units_sold_last_7d", "temperature_c"]
INVOICE_FEATURES = ["invoice_amount", "po_match", "line_count", "days_to_due", "vendor_history_score"]
CATEGORIES = ("FV", "DA", "BA", "MF", "AM", "FR")
MEMBERS_SCORED_PER_DAY = 240
DRIFT_DAYS = 21
OUTCOME_LAG_DAYS = 56  # churn is known eight weeks after scoring


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


# -- synthetic data ------------------------------------------------------------------------------


def members(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Loyalty members and whether they churned within eight weeks (about one in six)."""
    tenure = rng.integers(1, 121, n).astype(float)
    visits = rng.poisson(np.clip(7.5 - 0.02 * tenure + rng.normal(0, 1.5, n), 0.5, None)).astype(float)
    basket = np.round(rng.gamma(4.0, 9.5, n), 2)
    since = np.round(rng.exponential(9.0, n), 0)
    region = rng.choice(list(REGIONS), n, p=[0.25, 0.3, 0.2, 0.25])
    logit = 1.6 - 0.03 * tenure - 0.45 * visits + 0.09 * since - 0.006 * basket
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "member_id": [f"GC-{10_000_000 + i:08d}" for i in rng.permutation(n)],
            "tenure_months": tenure,
            "visits_last_30d": visits,
            "basket_value_eur": basket,
            "days_since_last_visit": since,
            "region": region,
            "churned_8w": churned,
        }
    )


def demand(
    rng: np.random.Generator, days: np.ndarray, stores: list[str], heat: np.ndarray | None = None
) -> pd.DataFrame:
    """Units sold per store, category and day, driven by the weekday, last week and the weather."""
    grid = pd.MultiIndex.from_product([days, stores, CATEGORIES], names=["day", "store_code", "sku_category"])
    frame = grid.to_frame(index=False)
    day = frame["day"].to_numpy(dtype="datetime64[D]")
    weekday = ((day.astype("int64") + 3) % 7).astype(int)
    # A mild coastal climate: day-to-day weather, no season (so the story holds on any build date).
    weather_by_day = rng.normal(14, 3.5, len(days))
    temperature = weather_by_day[np.searchsorted(days, day)] + rng.normal(0, 0.8, len(frame))
    if heat is not None:
        temperature += np.isin(day, heat) * 10.0
    base = frame["sku_category"].map({"FV": 180, "DA": 150, "BA": 120, "MF": 90, "AM": 110, "FR": 60})
    store = frame["store_code"].map(lambda code: 0.8 + (int(code[1:]) % 7) * 0.07)
    weather = np.where(frame["sku_category"].isin(["FV", "FR"]), 0.025, 0.004) * (temperature - 12)
    weekly = np.select([weekday == 4, weekday == 5, weekday == 6], [1.2, 1.35, 0.55], 1.0)
    expected = base * store * weekly * (1 + weather)
    last_week = expected / weekly * rng.normal(1, 0.06, len(frame))
    frame["day_of_week"] = weekday
    frame["units_sold_last_7d"] = np.round(last_week, 1)
    frame["temperature_c"] = np.round(temperature, 1)
    frame["units_sold"] = np.round(np.maximum(expected * rng.normal(1, 0.08, len(frame)), 0), 0)
    return frame


def invoices(rng: np.random.Generator, n: int) -> pd.DataFrame:
    amount = np.round(rng.lognormal(7, 1.1, n), 2)
    match = rng.choice(["Y", "P", "N"], n, p=[0.62, 0.23, 0.15])
    lines = rng.integers(1, 40, n)
    due = rng.integers(5, 60, n)
    history = np.round(rng.beta(5, 2, n), 3)
    logit = 2.2 * (match == "Y") - 1.4 * (match == "N") - 0.03 * lines + 2.0 * history - 0.0001 * amount - 1.2
    return pd.DataFrame(
        {
            "invoice_amount": amount,
            "po_match": match,
            "line_count": lines,
            "days_to_due": due,
            "vendor_history_score": history,
            "auto_postable": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


# -- models --------------------------------------------------------------------------------------


def _codes(columns: list[str], rest: object = "passthrough") -> ColumnTransformer:
    return ColumnTransformer(
        [("codes", OneHotEncoder(handle_unknown="ignore", sparse_output=False), columns)], remainder=rest
    )


def train(rng: np.random.Generator) -> dict[str, tuple[Pipeline, pd.DataFrame, pd.DataFrame]]:
    """(model, training sample, holdout) per demo version."""
    people = members(rng, 6000)
    train_part, holdout = people.iloc[:4000], people.iloc[4000:]
    churn_v1 = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    churn_v1.fit(train_part[CHURN_FEATURES], train_part["churned_8w"])
    churn_v2 = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.08, random_state=0)
    churn_v2.fit(train_part[CHURN_V2_FEATURES], train_part["churned_8w"])

    s = story()
    history = np.arange(
        np.datetime64(s.forecast_live - timedelta(days=100)),
        np.datetime64(s.forecast_live - timedelta(days=40)),
    )
    pilot = REGIONS[PILOT_REGION][1]
    sales = demand(rng, history, pilot).sample(frac=1.0, random_state=1)
    fit_part, check = sales.iloc[:-1200], sales.iloc[-1200:]
    forecast = make_pipeline(
        _codes(["store_code", "sku_category"]),
        HistGradientBoostingRegressor(max_iter=60, learning_rate=0.1, random_state=0),
    )
    forecast.fit(fit_part[FORECAST_FEATURES], fit_part["units_sold"])

    bills = invoices(rng, 2500)
    invoice = make_pipeline(_codes(["po_match"], StandardScaler()), LogisticRegression(max_iter=500))
    invoice.fit(bills.iloc[:1800][INVOICE_FEATURES], bills.iloc[:1800]["auto_postable"])
    return {
        "churn_v1": (churn_v1, train_part[[*CHURN_FEATURES, "churned_8w"]], holdout),
        "churn_v2": (churn_v2, train_part, holdout),
        "forecast": (forecast, fit_part, check),
        "invoice": (invoice, bills.iloc[:1800], bills.iloc[1800:]),
    }


def _upload(
    name: str,
    model: Pipeline,
    features: list[str],
    holdout: pd.DataFrame,
    target: str,
    segment: str,
    docs: records.VersionDocs,
    reference: pd.DataFrame | None = None,
) -> versioning.VersionUpload:
    return versioning.VersionUpload(
        artifact=versioning.Upload(f"{name}.skops", sio.dumps(model)),
        holdout=versioning.Upload(
            f"{name}_holdout.csv", _csv(holdout[list(dict.fromkeys([*features, target, segment]))])
        ),
        target=target,
        segment_column=segment,
        reference=versioning.Upload(f"{name}_training_sample.csv", _csv(reference[features]))
        if reference is not None
        else None,
        docs=docs,
    )


def _release(
    db: Database,
    people: dict[str, User],
    author: User,
    reviewer: User,
    version: records.ModelVersion,
    live: date,
    scope: str,
    note: str,
) -> None:
    lifecycle.request_review(db, author, version.id, note, now=_at(live - timedelta(days=12)))
    lifecycle.approve(db, reviewer, version.id, "Beats its baseline on the holdout and on every segment; "
                     "latency well within budget.", now=_at(live - timedelta(days=6), 15))  # fmt: skip
    readiness_story.before_promotion(db, people, version, _at(live))
    lifecycle.promote(db, author, version.id, scope=scope, now=_at(live, 7))


def _confirm(db: Database, actor: User, version: records.ModelVersion, overrides: dict[str, str]) -> None:
    """Confirm the suggested fields, with some chosen by hand where the names differ."""
    fields = {f.key: f.id for f in dictionary.list_fields(db)}
    mapping = {m.feature: m.field_id for m in version.feature_maps if m.field_id is not None}
    mapping |= {feature: fields[key] for feature, key in overrides.items() if key in fields}
    moment = version.created_at + timedelta(hours=2)
    versioning.confirm_features(db, actor, version.id, version.version, mapping, now=moment)


# -- prediction logs -------------------------------------------------------------------------------


def _daily(days: int, start: date) -> np.ndarray:
    return np.arange(np.datetime64(start), np.datetime64(start) + days)


def churn_logs(rng: np.random.Generator, model: Pipeline, s: Story) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members scored every morning since go-live; churn outcomes known eight weeks later."""
    pool = members(rng, 20_000)
    days = _daily((s.today - s.churn_v1_live).days, s.churn_v1_live)
    picks = rng.integers(0, len(pool), len(days) * MEMBERS_SCORED_PER_DAY)
    scored = pool.iloc[picks].reset_index(drop=True)
    moments = np.repeat(days, MEMBERS_SCORED_PER_DAY).astype("datetime64[s]") + np.timedelta64(6 * 3600, "s")
    moments = moments + rng.integers(0, 3 * 3600, len(moments)).astype("timedelta64[s]")
    log = pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(moments).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subject_key": scored["member_id"],
            **{f: scored[f] for f in CHURN_FEATURES},
            "prediction": np.round(model.predict_proba(scored[CHURN_FEATURES])[:, 1], 4),
            "segment": scored["region"],
        }
    )
    observed = moments + np.timedelta64(OUTCOME_LAG_DAYS * 86400, "s")
    known = observed < np.datetime64(s.today)
    outcomes = pd.DataFrame(
        {
            "observed_at": pd.DatetimeIndex(observed[known]).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subject_key": scored["member_id"][known],
            "outcome": scored["churned_8w"][known],
        }
    ).drop_duplicates("subject_key", keep="last")
    return log, outcomes


def forecast_logs(rng: np.random.Generator, model: Pipeline, s: Story) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Next-day forecasts for the pilot stores since go-live, a heatwave in the last weeks; actual
    units arrive the day after, so the last two days have none yet."""
    days = _daily((s.today - s.forecast_live).days, s.forecast_live)
    heat = days[-DRIFT_DAYS:]
    sales = demand(rng, days, REGIONS[PILOT_REGION][1], heat)
    moments = sales["day"].to_numpy(dtype="datetime64[D]").astype("datetime64[s]") + np.timedelta64(
        5 * 3600, "s"
    )
    stamps = pd.DatetimeIndex(moments).strftime("%Y-%m-%dT%H:%M:%SZ")
    keys = sales["store_code"] + "|" + sales["sku_category"]
    log = pd.DataFrame(
        {
            "timestamp": stamps,
            "subject_key": keys,
            **{f: sales[f] for f in FORECAST_FEATURES},
            "prediction": np.round(model.predict(sales[FORECAST_FEATURES]), 1),
            "segment": sales["sku_category"],
        }
    )
    arrived = sales["day"].to_numpy(dtype="datetime64[D]") < np.datetime64(s.today - timedelta(days=2))
    observed = pd.DatetimeIndex(moments + np.timedelta64(18 * 3600, "s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    outcomes = pd.DataFrame({"observed_at": observed, "subject_key": keys, "outcome": sales["units_sold"]})[
        arrived
    ]
    return log, outcomes


def seed(db: Database, people: dict[str, User]) -> None:
    """Add the models to a demo workspace that has its users, goals, KPIs and data dictionary."""
    s = story()
    rng = np.random.default_rng(SEED)
    dana, kenji, rita = people["dana"], people["kenji"], people["rita"]
    artifacts.add_trusted_type(
        db,
        people["ada"],
        TREE_PREDICTOR,
        "Needed by every HistGradientBoosting model. Reviewed: plain arrays of split nodes. Only load "
        "files from our own training pipeline (skops warns that crafted node indices can crash a process).",
    )
    dictionary.create_field(
        db,
        people["bruno"],
        dictionary.FieldDraft(
            "temperature_c",
            "Forecast temperature",
            "decimal",
            "Next-day maximum temperature at the store from the weather feed.",
            unit="°C",
        ),
    )
    goal = {g.title: g.id for g in list_goals(db)}
    kpi = {k.key: k.id for k in definitions.list_kpis(db)}
    trained = train(rng)

    churn = registry.create_model(
        db,
        dana,
        records.ModelDraft(
            CHURN,
            "Member churn propensity",
            goal["Reduce loyalty-member churn"],
            "classification",
            "Scores every active Greenway Card member each morning for the risk of not shopping for eight "
            "weeks; the retention team sends offers to the highest scores in the treatment arm.",
            tuple(kpi[k] for k in ("member_churn_rate", "retention_offers_sent") if k in kpi),
        ),
    )
    model, sample, holdout = trained["churn_v1"]
    docs = records.VersionDocs(
        intended_use="Rank loyalty members by churn risk to target retention offers (treatment arm only).",
        limitations="Trained on members with at least one month of tenure; not validated for business "
        "customers. Not for any decision with legal effect on a member.",
        refresh_days=90,
        training_date=s.churn_v1_live - timedelta(days=50),
        training_reference="git: greenway/churn-model@4f2a9c1; data: crm.member_features 2024-Q4 snapshot",
    )
    upload = _upload("churn_v1", model, CHURN_FEATURES, holdout, "churned_8w", "region", docs, sample)
    v1 = versioning.create_version(db, dana, churn.id, upload, now=_at(s.churn_v1_live - timedelta(days=40)))
    _confirm(db, dana, v1, {})
    _release(db, people, dana, rita, v1, s.churn_v1_live, "All regions; offers to the treatment arm",
             "Clear gain over the baseline; segment results even across regions.")  # fmt: skip
    model, sample, holdout = trained["churn_v2"]
    v2_docs = records.VersionDocs(
        intended_use=docs.intended_use,
        limitations=docs.limitations
        + " Uses recency of the last visit, which the dictionary does not define yet.",
        refresh_days=90,
        training_date=s.today - timedelta(days=20),
        training_reference="git: greenway/churn-model@9be0d44; data: crm.member_features 2025-Q2 snapshot",
    )
    upload = _upload("churn_v2", model, CHURN_V2_FEATURES, holdout, "churned_8w", "region", v2_docs)
    v2 = versioning.create_version(db, dana, churn.id, upload, now=_at(s.today - timedelta(days=12)))
    _confirm(db, dana, v2, {})
    lifecycle.request_review(db, dana, v2.id, "Adds recency of the last visit; better ranking at the top.",
                            now=_at(s.today - timedelta(days=5)))  # fmt: skip
    current = registry.get_model(db, churn.id)
    registry.set_error_values(
        db, people["bianca"], churn.id, current.version,
        ErrorValues(tp=93.5, fp=-15.0, fn=0.0, tn=0.0),
        "Against sending no offer: a retained member keeps €310 margin a year and 35% of offers to a member "
        "about to leave keep them; every offer costs €15.",
    )  # fmt: skip

    forecast = registry.create_model(
        db,
        kenji,
        records.ModelDraft(
            FORECAST,
            "Fresh demand forecast",
            goal["Cut fresh-produce waste"],
            "regression",
            "Forecasts next-day units sold per store and category, so store managers order closer to demand.",
            tuple(kpi[k] for k in ("fresh_waste_rate",) if k in kpi),
        ),
    )
    model, _, holdout = trained["forecast"]
    fdocs = records.VersionDocs(
        intended_use="Suggest next-day order quantities for fresh categories; the store manager decides.",
        limitations=f"Trained on the pilot region {REGIONS[PILOT_REGION][0]} only, with daily highs of "
        "about 7–21 °C; hotter or colder days are extrapolated.",
        refresh_days=30,
        training_date=s.forecast_live - timedelta(days=38),
        training_reference="git: greenway/fresh-forecast@a17c3e0; data: erp.sales_daily",
    )
    upload = _upload(
        "fresh_forecast_v1", model, FORECAST_FEATURES, holdout, "units_sold", "sku_category", fdocs
    )
    fv1 = versioning.create_version(
        db, kenji, forecast.id, upload, now=_at(s.forecast_live - timedelta(days=30))
    )
    _confirm(db, kenji, fv1, {"day_of_week": "sales_date", "units_sold_last_7d": "units_sold"})
    scope = f"Pilot: region {REGIONS[PILOT_REGION][0]} ({PILOT_REGION})"
    _release(
        db,
        people,
        kenji,
        rita,
        fv1,
        s.forecast_live,
        scope,
        "Pilot in North first; the other regions compare.",
    )

    invoice = registry.create_model(
        db,
        kenji,
        records.ModelDraft(
            INVOICE,
            "Invoice auto-match",
            goal["Automate supplier invoice processing"],
            "classification",
            "Predicts whether a supplier invoice can be posted without a manual check.",
            tuple(kpi[k] for k in ("stp_rate",) if k in kpi),
        ),
    )
    model, _, holdout = trained["invoice"]
    docs = records.VersionDocs(training_date=s.today - timedelta(days=3))
    upload = _upload("invoice_match_v1", model, INVOICE_FEATURES, holdout, "auto_postable", "po_match", docs)
    versioning.create_version(db, kenji, invoice.id, upload, now=_at(s.today - timedelta(days=3)))

    log, outcomes = churn_logs(rng, trained["churn_v1"][0], s)
    prediction_logs.ingest_predictions(
        db, dana, churn.id, v1.number, _csv(log), "churn_scores_daily.csv", source="demo"
    )
    outcome_logs.ingest_outcomes(db, dana, churn.id, _csv(outcomes), "churn_outcomes.csv", source="demo")
    log, outcomes = forecast_logs(rng, trained["forecast"][0], s)
    prediction_logs.ingest_predictions(
        db, kenji, forecast.id, fv1.number, _csv(log), "forecast_log.csv", source="demo"
    )
    outcome_logs.ingest_outcomes(
        db, kenji, forecast.id, _csv(outcomes), "units_sold_actuals.csv", horizon_days=2, source="demo"
    )
