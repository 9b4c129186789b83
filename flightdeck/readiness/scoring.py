"""Scoring: a dimension is the mean credit of its applicable checks (0–100); the headline is the
lowest dimension (the weakest area decides, as in the ML Test Score), shown beside the mean; the
level follows the headline and the blocking checks. Next steps are ordered by the headline points
each would add."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from statistics import fmean

from sqlalchemy.orm import Session

from flightdeck.readiness.checks import CheckResult, evaluate_checks, who_can_fix
from flightdeck.readiness.evidence import Evidence, gather
from flightdeck.readiness.rubric import (
    CHECKS,
    CREDIT,
    DIMENSIONS,
    FAIL,
    LEVEL_LABELS,
    LEVEL_RANK,
    NOT_APPLICABLE,
    NOT_READY,
    PARTIAL,
    PASS,
    PILOT_MIN,
    PILOT_READY,
    PRODUCTION_MIN,
    PRODUCTION_READY,
    Check,
)


@dataclass(frozen=True)
class Score:
    dimensions: dict[str, float | None]  # 0–100, None when no check of it applies
    headline: float
    mean: float
    level: str
    blocking_failed: tuple[str, ...]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


_DIMENSION_CHECKS = {d.key: tuple(c.id for c in CHECKS if c.dimension == d.key) for d in DIMENSIONS}
_BLOCKING = tuple(c.id for c in CHECKS if c.blocking)


def score(statuses: dict[str, str]) -> Score:
    """A dimension is the mean credit of its applicable checks (0–100); the headline
    is the lowest dimension, shown beside the mean; the level follows the headline and blockers."""
    dimensions: dict[str, float | None] = {}
    for key, ids in _DIMENSION_CHECKS.items():
        credits = [CREDIT[statuses[c]] for c in ids if statuses[c] != NOT_APPLICABLE]
        dimensions[key] = 100 * sum(credits) / len(credits) if credits else None
    scored = [s for s in dimensions.values() if s is not None]
    headline = min(scored) if scored else 0.0
    mean = fmean(scored) if scored else 0.0
    blocking = tuple(c for c in _BLOCKING if statuses[c] == FAIL)
    if blocking or headline < PILOT_MIN:
        level = NOT_READY
    elif headline >= PRODUCTION_MIN:
        level = PRODUCTION_READY
    else:
        level = PILOT_READY
    return Score(dimensions, headline, mean, level, blocking)


@dataclass(frozen=True)
class NextStep:
    check: Check
    action: str
    who: str
    gain: float  # headline points gained if this check passed
    level_after: str
    dimension_gain: float  # points its own dimension gains
    raises_level: bool


@dataclass(frozen=True)
class Readiness:
    evidence: Evidence
    results: tuple[CheckResult, ...]
    score: Score
    next_steps: tuple[NextStep, ...]

    @property
    def statuses(self) -> dict[str, str]:
        return {r.check.id: r.status for r in self.results}

    @property
    def top_blocker(self) -> str:
        blocking = [r.check.title for r in self.results if r.check.blocking and r.status == FAIL]
        if blocking:
            return blocking[0]
        return self.next_steps[0].check.title if self.next_steps else ""


def next_steps(statuses: dict[str, str], current: Score | None = None) -> tuple[NextStep, ...]:
    """Each failing or partial check, with what passing it would do to the headline; ordered by
    the headline points gained, then by the level reached, then by the mean gained."""
    now = current or score(statuses)
    steps = []
    for check in CHECKS:
        if statuses[check.id] not in (FAIL, PARTIAL):
            continue
        after = score({**statuses, check.id: PASS})
        own = (after.dimensions[check.dimension] or 0.0) - (now.dimensions[check.dimension] or 0.0)
        step = NextStep(
            check,
            check.action,
            who_can_fix(check),
            after.headline - now.headline,
            after.level,
            own,
            LEVEL_RANK[after.level] > LEVEL_RANK[now.level],
        )
        steps.append(((-step.gain, -LEVEL_RANK[after.level], -(after.mean - now.mean)), step))
    steps.sort(key=lambda pair: pair[0])
    return tuple(step for _, step in steps)


def assess(e: Evidence) -> Readiness:
    results = evaluate_checks(e)
    statuses = {r.check.id: r.status for r in results}
    current = score(statuses)
    return Readiness(e, results, current, next_steps(statuses, current))


def assess_many(
    session: Session, version_ids: Iterable[int], today: date | None = None
) -> dict[int, Readiness]:
    return {vid: assess(e) for vid, e in gather(session, version_ids, today).items()}
