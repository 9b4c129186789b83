"""Model cards (Mitchell et al. 2019) built from the registry, never typed separately: details,
intended use, limitations, metrics against the baseline, segment results, features with their
business fields, personal data, and the stage and production history.

One structure, three renderings: the page shows the sections with Streamlit, and the downloads
are Markdown and a self-contained HTML file. Every value that people wrote is escaped in both, so
a card shows text literally wherever it is opened.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from flightdeck.core.clock import utcnow
from flightdeck.core.db import Database
from flightdeck.models import evaluation, lifecycle, records, registry
from flightdeck.models.records import STAGE_LABELS, TASK_LABELS

# Special anywhere in CommonMark/GFM; list and heading markers only at the start of a line.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>#|~&!])")
_LINE_START = re.compile(r"^(\s*)([-+]|\d+[.)])", re.MULTILINE)


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    table: Table | None = None


@dataclass(frozen=True)
class ModelCard:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    file_stem: str


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _when(moment: object) -> str:
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _metrics_table(version: records.ModelVersion) -> Table:
    result = version.evaluation
    rows = []
    for key, (label, higher) in evaluation.metric_names(version.task).items():
        model, base = result["metrics"].get(key), result["baseline"].get(key)
        better = "—" if model is None or base is None else ("yes" if (model > base) == higher else "no")
        rows.append((label, _number(model), _number(base), better))
    return Table(("Metric", "Model", "Baseline", "Beats the baseline"), tuple(rows))


def _segments_table(version: records.ModelVersion) -> Table | None:
    segments = version.evaluation.get("segments") or []
    if not segments:
        return None
    names = evaluation.metric_names(version.task)
    keys = list(names)[:3]
    return Table(
        (version.evaluation.get("segment_column", "Segment"), "Rows", *(names[k][0] for k in keys)),
        tuple((s["segment"], f"{s['n']:,}", *(_number(s["metrics"].get(k)) for k in keys)) for s in segments),
    )


def _value_section(model: records.Model, version: records.ModelVersion) -> Section | None:
    table = version.evaluation.get("thresholds")
    if model.error_values is None or not table:
        return None
    values = model.error_values
    curve = evaluation.value_curve(table, values)
    money = f"{values.currency} {{:,.0f}}"
    return Section(
        "Business value of errors",
        (
            f"Stated by the goal's business owner per decision: true positive {values.tp:,.2f}, false "
            f"positive {values.fp:,.2f}, false negative {values.fn:,.2f}, true negative {values.tn:,.2f} "
            f"({values.currency}).",
            f"Best threshold {curve.best_threshold:.2f}: {money.format(curve.best_value)} "
            "per 1,000 decisions, "
            f"against {money.format(curve.baseline_value)} for the baseline ({curve.baseline_policy}); "
            f"a difference of {money.format(curve.gain_over_baseline)} per 1,000 decisions.",
        ),
    )


def profile_source(version: records.ModelVersion) -> str:
    if version.profile_source == "reference":
        return "training-data sample the data scientist uploaded"
    return "holdout's features (no training-data sample was uploaded)"


def build(db: Database, model_id: int, number: int) -> ModelCard:
    """The card of one version, as the registry holds it now."""
    model = registry.get_model(db, model_id)
    version = registry.version_by_number(db, model_id, number)
    result = version.evaluation
    latency = result.get("latency") or {}
    sections = [
        Section(
            "Model details",
            (model.description,) if model.description else (),
            (
                ("Model", f"{model.name} ({model.key})"),
                ("Version", f"v{version.number}, {STAGE_LABELS[version.stage].lower()}"),
                ("Task", TASK_LABELS[version.task]),
                ("Goal", model.goal_title),
                ("KPIs it should move", ", ".join(model.kpi_names) or "none named"),
                ("Estimator", version.estimator),
                ("Framework", version.framework),
                ("Artifact sha256", version.artifact_sha256),
                (
                    "Target",
                    version.target
                    + (f" (positive class {version.positive_label})" if version.positive_label else ""),
                ),
                ("Training date", str(version.training_date or "not stated")),
                ("Training code and data", version.training_reference or "not stated"),
                (
                    "Refresh cadence",
                    f"every {version.refresh_days} days" if version.refresh_days else "not stated",
                ),
                ("Authors", ", ".join(model.author_names)),
                ("Version created", f"{_when(version.created_at)} by {version.created_by_name}"),
            ),
        ),
        Section("Intended use", (version.intended_use or "Not written yet.",)),
        Section("Limitations", (version.limitations or "Not written yet.",)),
        Section(
            "Metrics",
            (
                f"Computed by Flightdeck on the holdout '{version.holdout_file}' "
                f"({result.get('rows', 0):,} rows) "
                f"on {_when(version.evaluated_at)}; baseline: {result.get('baseline_name', '—')}.",
                "Latency on the Flightdeck server: single row p50 "
                f"{_number(latency.get('single_p50_ms'), 2)} ms, "
                f"p95 {_number(latency.get('single_p95_ms'), 2)} ms; "
                f"batch of 1,000 p50 {_number(latency.get('batch_1000_p50_ms'), 1)} ms, "
                f"p95 {_number(latency.get('batch_1000_p95_ms'), 1)} ms.",
            ),
            table=_metrics_table(version),
        ),
    ]
    segments = _segments_table(version)
    sections.append(
        Section(
            "Segment results",
            () if segments else ("No segment column was chosen for this evaluation.",),
            table=segments,
        )
    )
    if value := _value_section(model, version):
        sections.append(value)
    sections.append(
        Section(
            "Features and their business fields",
            (
                f"Training-data profile from the {profile_source(version)}.",
                f"Unmapped or unconfirmed: {', '.join(version.unmapped)}."
                if version.unmapped
                else "Every feature is mapped and confirmed.",
            ),
            table=Table(
                ("Feature", "Kind", "Business field", "Personal data", "Mapping"),
                tuple(
                    (
                        m.feature,
                        m.kind,
                        f"{m.field_label} ({m.field_key})" if m.field_id else "unmapped",
                        ("yes, " + (m.lawful_basis or "no lawful basis")) if m.personal_data else "no",
                        f"confirmed by {m.confirmed_by_name}"
                        if m.confirmed
                        else ("suggested" if m.field_id else "—"),
                    )
                    for m in version.feature_maps
                ),
            ),
        )
    )
    personal = version.personal
    sections.append(
        Section(
            "Personal data",
            (
                "Features that are personal data: "
                + "; ".join(
                    f"{m.feature} ({m.field_label}, lawful basis: {m.lawful_basis or 'none'})"
                    for m in personal
                )
                + ". Subject keys in prediction logs are pseudonymised before storage."
                if personal
                else "No feature is mapped to a field flagged as personal data. Subject keys in prediction "
                "logs are pseudonymised before storage.",
            ),
        )
    )
    history = lifecycle.stage_history(db, model_id)
    sections.append(
        Section(
            "Stage history",
            table=Table(
                ("When", "Version", "Change", "By", "Rationale"),
                tuple(
                    (
                        _when(e.at),
                        f"v{e.version_number}",
                        f"{STAGE_LABELS.get(e.from_stage, 'Uploaded')} → {STAGE_LABELS[e.to_stage]}",
                        e.actor_name,
                        e.rationale,
                    )
                    for e in history
                ),
            ),
        )
    )
    deployments = lifecycle.production_history(db, model_id)
    sections.append(
        Section(
            "Production history",
            () if deployments else ("No version of this model has been in production yet.",),
            table=Table(
                ("Version", "Scope", "From", "Until", "Promoted by"),
                tuple(
                    (
                        f"v{d.version_number}",
                        d.scope or "—",
                        _when(d.started_at),
                        _when(d.ended_at) if d.ended_at else "still serving",
                        d.started_by_name,
                    )
                    for d in deployments
                ),
            )
            if deployments
            else None,
        )
    )
    return ModelCard(
        title=f"Model card: {model.name} v{version.number}",
        subtitle=f"Generated by Flightdeck on {_when(utcnow())} from the model registry.",
        sections=tuple(sections),
        file_stem=f"model-card-{model.key}-v{version.number}",
    )


# -- renderings ------------------------------------------------------------------------------------


def escape_markdown(text: str) -> str:
    """Backslash-escape what Markdown would read as markup, so text shows as it was written and the
    file stays readable as plain text."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", text)
    escaped = _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], escaped)
    return escaped.replace("\n", "  \n")


def _cell(text: str) -> str:
    return escape_markdown(text).replace("  \n", " ")


def to_markdown(card: ModelCard) -> str:
    lines = [f"# {escape_markdown(card.title)}", "", f"_{escape_markdown(card.subtitle)}_", ""]
    for section in card.sections:
        lines += [f"## {escape_markdown(section.title)}", ""]
        for paragraph in section.paragraphs:
            lines += [escape_markdown(paragraph), ""]
        for name, value in section.facts:
            lines.append(f"- **{escape_markdown(name)}:** {_cell(value)}")
        if section.facts:
            lines.append("")
        if section.table is not None:
            lines.append("| " + " | ".join(_cell(c) for c in section.table.columns) + " |")
            lines.append("|" + "---|" * len(section.table.columns))
            lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in section.table.rows]
            lines.append("")
    return "\n".join(lines)


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2a37}"
    "h1{color:#1f5f8b}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#f3f6f9}dt{font-weight:600}dd{margin:0 0 .4rem 0}"
    ".sub{color:#57606a}"
)


def to_html(card: ModelCard) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(card.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(card.title)}</h1>",
        f'<p class="sub">{e(card.subtitle)}</p>',
    ]
    for section in card.sections:
        parts.append(f"<h2>{e(section.title)}</h2>")
        parts += [f"<p>{e(p).replace(chr(10), '<br>')}</p>" for p in section.paragraphs]
        if section.facts:
            parts.append(
                "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in section.facts) + "</dl>"
            )
        if section.table is not None:
            head = "".join(f"<th>{e(c)}</th>" for c in section.table.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in section.table.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
