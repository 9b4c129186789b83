"""Progress of long work (a load, an evaluation), reported to whoever started it: a page's progress
bar or nothing at all. Services take an optional `Progress` and call it with a fraction and a line."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


def silent(_fraction: float, _message: str) -> None:
    """The progress of a caller that shows none (the command line, tests, the demo)."""
