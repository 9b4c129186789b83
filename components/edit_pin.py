"""Editing against a pinned base: the form keeps the record as it was when editing began.

A save carries the base's version, so if someone else saved in between the service refuses it;
the draft stays in the form (its widgets keep their keys) until the editor loads the latest version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import streamlit as st

from components import feedback
from components.text import md
from flightdeck.core.errors import StaleEdit


class Record(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def version(self) -> int: ...


R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class EditPin:
    name: str  # distinguishes the kind of record, e.g. "goal"

    def _bases(self) -> dict[int, Any]:
        return st.session_state.setdefault(f"{self.name}_edit_base", {})

    def _refusals(self) -> dict[int, str]:
        return st.session_state.setdefault(f"{self.name}_edit_stale", {})

    def base(self, current: R) -> R:
        """The record as it was when editing began (the current one, the first time)."""
        return self._bases().setdefault(current.id, current)

    def form_key(self, current: Record) -> str:
        return f"edit_{self.name}_{current.id}_v{self.base(current).version}"

    def refused(self, record_id: int, error: StaleEdit) -> None:
        self._refusals()[record_id] = str(error)

    def is_stale(self, record_id: int) -> bool:
        return record_id in self._refusals()

    def done(self, record_id: int) -> None:
        """Saved, or otherwise changed by this editor: the next form starts from the stored record."""
        self._bases().pop(record_id, None)
        self._refusals().pop(record_id, None)

    def save(
        self,
        record_id: int,
        run: Callable[[], object],
        success: str,
        after: Callable[[], object] | None = None,
    ) -> None:
        """Run the service that saves the form against this pin: a stale save keeps the draft and
        the refusal, a saved one starts the next form from the stored record (`feedback.save`)."""

        def saved() -> None:
            self.done(record_id)
            if after is not None:
                after()

        feedback.save(run, success, saved, stale=lambda refusal: self.refused(record_id, refusal))

    def show_refusal(self, record_id: int) -> None:
        if not self.is_stale(record_id):
            return
        st.error(md(self._refusals()[record_id]), icon=":material/sync_problem:")
        if st.button(
            "Load the latest version", icon=":material/refresh:", key=f"reload_{self.name}_{record_id}"
        ):
            self.done(record_id)
            st.rerun()
