"""What the business package announces. Readiness reads a goal's owner and value statement."""

from __future__ import annotations

from dataclasses import dataclass

from flightdeck.core.events import Event


@dataclass(frozen=True)
class GoalChanged(Event):
    """A goal was edited: its value statement, owner or status may have moved."""

    goal_id: int
