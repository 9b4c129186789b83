"""What the dictionary and hierarchy imports share: a CSV file read with its header checked, cells
as stripped text, and the created/updated/unchanged summary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flightdeck.core.errors import InvalidInput, Problem
from flightdeck.tabular import files, formats


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    def summary(self, noun: str) -> str:
        return f"{self.created} {noun}s created, {self.updated} updated, {self.unchanged} unchanged."


def read_import_table(data: bytes, file_name: str, required: Iterable[str]) -> files.Table:
    table = files.read_table(data, file_name, formats.SourceFormat())
    table.frame.columns = [c.strip().lower() for c in table.columns]
    missing = [c for c in required if c not in table.frame.columns]
    if missing:
        raise InvalidInput(
            Problem("file", f"The file lacks the column(s) {', '.join(missing)} in its header row.")
        )
    return table


def cell_text(value: object) -> str:
    return "" if formats.is_blank(value) else str(value).strip()
