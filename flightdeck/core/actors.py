"""Who acted: a signed-in user, or (`None`) a trusted operator on the command line, named so in
batch records and the audit trail."""

from __future__ import annotations

from flightdeck.core.permissions import User

COMMAND_LINE = "command line"


def actor_id(actor: User | None) -> int | None:
    return actor.id if actor else None


def actor_name(actor: User | None) -> str:
    return actor.display_name if actor else COMMAND_LINE
