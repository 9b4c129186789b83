"""Facts about the workspace itself, such as whether it is the demo workspace."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.orm.base import Base


class WorkspaceMetaRow(Base):
    __tablename__ = "workspace_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
