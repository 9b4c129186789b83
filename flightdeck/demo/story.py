"""The world of the demo workspace: Greenway Grocers, a mid-size grocery chain, its people, goals,
regions and stores, and the calendar every part of the story is dated by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flightdeck.business import goals
from flightdeck.core.roles import Role
from flightdeck.orm import GoalStatus

COMPANY = "Greenway Grocers"
DEMO_PASSWORD = "greenway-demo"  # noqa: S105 - published on the sign-in page on purpose


# Region → stores. Store codes follow the chain's ERP convention: region letter + three digits.
REGIONS: dict[str, tuple[str, list[str]]] = {
    "N": ("North", ["N101", "N102", "N103", "N104", "N105", "N106"]),
    "S": ("South", ["S201", "S202", "S203", "S204", "S205", "S206", "S207"]),
    "E": ("East", ["E301", "E302", "E303", "E304", "E305"]),
    "W": ("West", ["W401", "W402", "W403", "W404", "W405", "W406"]),
}


PILOT_REGION = "N"  # the demand forecast runs in North first; the other regions are its comparison


@dataclass(frozen=True)
class Story:
    """The demo's calendar. Dates are relative to the day the demo is built, so a fresh demo is
    always "live"; everything else is fixed, so two demos built on the same day are identical."""

    today: date

    @property
    def history_start(self) -> date:
        """Two years of daily history end yesterday."""
        return self.today - timedelta(days=730)

    @property
    def churn_v1_live(self) -> date:
        """Churn model v1 goes to production; retention offers go to its `treatment` arm."""
        return self.today - timedelta(days=182)

    @property
    def forecast_live(self) -> date:
        """The demand forecast goes live in the pilot region."""
        return self.today - timedelta(days=120)


def story(today: date | None = None) -> Story:
    return Story(today or datetime.now(UTC).date())


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    title: str
    roles: tuple[Role, ...]

    @property
    def email(self) -> str:
        return f"{self.username}@greenway.example"


DEMO_USERS = (
    DemoUser("ada", "Ada Lindqvist", "Platform administrator", (Role.ADMIN,)),
    DemoUser("bianca", "Bianca Romero", "Head of Loyalty & CRM", (Role.BUSINESS_OWNER,)),
    DemoUser("bruno", "Bruno Fischer", "Head of Fresh Produce", (Role.BUSINESS_OWNER,)),
    DemoUser("fatima", "Fatima Haddad", "Finance Operations Lead", (Role.BUSINESS_OWNER,)),
    DemoUser("dana", "Dana Okafor", "Senior data scientist", (Role.DATA_SCIENTIST,)),
    DemoUser("kenji", "Kenji Sato", "Data scientist and peer reviewer", (Role.DATA_SCIENTIST, Role.REVIEWER)),
    DemoUser("rita", "Rita Novak", "Model risk reviewer", (Role.REVIEWER,)),
    DemoUser("victor", "Victor Chen", "Regional director (read only)", (Role.VIEWER,)),
)


@dataclass(frozen=True)
class DemoGoal:
    owner: str
    draft: goals.GoalDraft


DEMO_GOALS = (
    DemoGoal(
        "bianca",
        goals.GoalDraft(
            title="Reduce loyalty-member churn",
            description=(
                "Keep more Greenway Card members shopping with us. Members who stop shopping for "
                "eight weeks count as churned; the retention team can reach about 20,000 members a "
                "month with a personalised offer."
            ),
            value_statement=(
                "A retained member is worth about €310 gross margin a year. One point less monthly "
                "churn across 420,000 active members is roughly €1.3 M a year."
            ),
            business_unit="Marketing · Loyalty & CRM",
            target_date=date(2027, 6, 30),
            status=GoalStatus.ACTIVE,
        ),
    ),
    DemoGoal(
        "bruno",
        goals.GoalDraft(
            title="Cut fresh-produce waste",
            description=(
                "Order fresh produce closer to what each store sells, so less is written off. "
                "Waste is measured as written-off value over fresh sales, per store and week."
            ),
            value_statement=(
                "Fresh waste is 4.8% of fresh sales, about €11 M a year. Every 0.1 point saved is "
                "worth about €230 k."
            ),
            business_unit="Fresh · Supply chain",
            target_date=date(2027, 3, 31),
            status=GoalStatus.ACTIVE,
        ),
    ),
    DemoGoal(
        "fatima",
        goals.GoalDraft(
            title="Automate supplier invoice processing",
            description=(
                "Let invoices that match an order and a goods receipt flow straight through to "
                "payment, and route only the doubtful ones to the accounts-payable team."
            ),
            value_statement=(
                "Manual handling costs €4.20 per invoice on 600,000 invoices a year; processing 60% "
                "straight through saves about €1.5 M a year and earns more early-payment discounts."
            ),
            business_unit="Finance · Accounts payable",
            target_date=date(2027, 12, 31),
            status=GoalStatus.DRAFT,
        ),
    ),
)


STORE_NAMES = (
    "Aldhaven", "Brookmere", "Corrin Bay", "Dunmore", "Elmstead", "Fairholt",
    "Gallowfield", "Hartwell", "Ivybridge", "Juniper Cross", "Kestrel Vale", "Larkspur",
    "Millbrook", "Northwick", "Oakhurst", "Pennfold", "Quarry Hill", "Redwater",
    "Saltmarsh", "Thornbury", "Underhill", "Valewood", "Westerleigh", "Yarrowdale",
)  # fmt: skip


def stores() -> list[tuple[str, str, str]]:
    """(store code, region code, store label) in REGIONS order."""
    codes = [(code, region) for region, (_, members) in REGIONS.items() for code in members]
    return [
        (code, region, f"{code} {STORE_NAMES[i % len(STORE_NAMES)]}")
        for i, (code, region) in enumerate(codes)
    ]
