"""The page registry: one entry per page, naming the permission that opens it.

Every page is registered on every run, so that its URL always reaches its own script; pages the
user may not open are hidden from the menu, and their guard answers "not permitted".
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from flightdeck.core.permissions import User, can


@dataclass(frozen=True)
class PageSpec:
    key: str
    title: str
    icon: str
    section: str
    help: str
    action: str | None = "workspace.view"  # None: any signed-in user
    in_menu: bool = True  # False: a detail page reached by links with query parameters

    @property
    def path(self) -> str:
        return f"pages/{self.key}.py"


LOGIN = PageSpec(
    "login", "Sign in", ":material/login:", "", "Sign in with your Flightdeck account.", action=None
)
HOME = PageSpec(
    "home",
    "Home",
    ":material/home:",
    "",
    "The workspace at a glance: every goal with its owner and status.",
)
PAGES: tuple[PageSpec, ...] = (
    HOME,
    PageSpec(
        "goals",
        "Goals",
        ":material/flag:",
        "Business",
        "All business goals. Business owners create and edit their own; admins edit any.",
    ),
    PageSpec(
        "kpis",
        "KPIs",
        ":material/account_tree:",
        "Business",
        "What success means for each goal: KPIs with baselines, targets, money value and driver trees.",
    ),
    PageSpec(
        "context",
        "Business context",
        ":material/menu_book:",
        "Business",
        "The data dictionary and the coded hierarchies (Region → Store, Category → Product group).",
    ),
    PageSpec(
        "ingest",
        "Load data",
        ":material/upload_file:",
        "Business",
        "Load KPI values from CSV or Excel files, by hand or from SQL sources; see what was loaded.",
        action="kpi.ingest",
    ),
    PageSpec(
        "monitor",
        "KPI monitoring",
        ":material/monitoring:",
        "Monitoring",
        "Each KPI against its baseline and target trajectory, by region, store and experiment arm.",
    ),
    PageSpec(
        "alerts",
        "Alerts",
        ":material/notifications:",
        "Monitoring",
        "KPIs past a threshold or off their target trajectory, for the goals you own.",
    ),
    PageSpec(
        "impact",
        "Business impact",
        ":material/trending_up:",
        "Monitoring",
        "What each production model does to its KPIs: effect with its interval, the verdict and the money.",
    ),
    PageSpec(
        "model_monitoring",
        "Model monitoring",
        ":material/troubleshoot:",
        "Monitoring",
        "Input and prediction drift of production models against their training data, and live performance.",
    ),
    PageSpec(
        "models",
        "Models",
        ":material/model_training:",
        "Models",
        "The model registry: every model with its goal, versions, stage and who did what.",
    ),
    PageSpec(
        "model",
        "Model",
        ":material/deployed_code:",
        "Models",
        "One model: versions, evaluation, value of errors, features, lifecycle and production history.",
        in_menu=False,
    ),
    PageSpec(
        "portfolio",
        "Readiness portfolio",
        ":material/checklist:",
        "Models",
        "Every model version's readiness, level and top blocker: the review meeting's overview.",
    ),
    PageSpec(
        "readiness",
        "Readiness",
        ":material/fact_check:",
        "Models",
        "One version's readiness: checks with evidence, next steps, attestations, history and the gate.",
        in_menu=False,
    ),
    PageSpec(
        "model_card",
        "Model cards",
        ":material/description:",
        "Models",
        "The model card of any version, built from the registry; download as Markdown or HTML.",
    ),
    PageSpec(
        "predictions",
        "Prediction logs",
        ":material/query_stats:",
        "Models",
        "Upload prediction logs and outcomes; see volumes, inputs and live performance.",
    ),
    PageSpec(
        "admin_users",
        "Users",
        ":material/group:",
        "Admin",
        "Create accounts, assign roles, deactivate users, reset passwords and unlock accounts.",
        action="user.manage",
    ),
    PageSpec(
        "admin_audit",
        "Audit trail",
        ":material/policy:",
        "Admin",
        "Every change and sign-in, hash-chained so tampering shows. Filter and export as CSV.",
        action="audit.view",
    ),
    PageSpec(
        "admin_sources",
        "SQL sources",
        ":material/database:",
        "Admin",
        "Named read-only connections KPIs can pull values from; their URLs stay in the secrets.",
        action="source.manage",
    ),
    PageSpec(
        "admin_artifacts",
        "Artifact allow-list",
        ":material/verified_user:",
        "Admin",
        "Types trusted in model files beyond scikit-learn's own, and every stored artifact with its hash.",
        action="artifact.allowlist",
    ),
    PageSpec(
        "account",
        "My account",
        ":material/account_circle:",
        "Account",
        "Your roles and your password.",
        action=None,
    ),
    PageSpec("logout", "Sign out", ":material/logout:", "Account", "End this session.", action=None),
)
BY_KEY = {spec.key: spec for spec in (LOGIN, *PAGES)}


def allowed(user: User | None, spec: PageSpec) -> bool:
    if user is None or spec is LOGIN:
        return user is None and spec is LOGIN
    if user.must_change_password:
        return spec.key in {"account", "logout"}
    return spec.action is None or can(user, spec.action)


def _page(spec: PageSpec, user: User | None, default: bool) -> StreamlitPage:
    return st.Page(
        spec.path,
        title=spec.title,
        icon=spec.icon,
        url_path=spec.key,
        default=default,
        help=spec.help,
        visibility="visible" if spec.in_menu and allowed(user, spec) else "hidden",
    )


def build(user: User | None) -> StreamlitPage:
    """The menu for this user, rebuilt every run so role changes apply at once. Home is always the
    default page (Streamlit serves the default at `/` and at no other URL, so it must not change
    with the user); anonymous visitors get the sign-in form there, from Home's guard."""
    sections: dict[str, list[StreamlitPage]] = {}
    for spec in (LOGIN, *PAGES):
        sections.setdefault(spec.section, []).append(_page(spec, user, spec is HOME))
    return st.navigation(sections, position="sidebar", expanded=True)  # every page in sight, no "View more"
