"""Drift bookkeeping: how many logged values fell in each reference bin, per version, day and feature."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.orm.base import Base


class PredictionBinRow(Base):
    """Counts maintained at prediction ingest, so drift over any window is a SQL sum over a few
    thousand rows instead of a scan of the logged predictions. Keyed for window reads: a version's
    days come first. No foreign keys, like the prediction log itself: only the ingest writes here."""

    __tablename__ = "prediction_bins"

    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    feature: Mapped[str] = mapped_column(String(120), primary_key=True)
    bin: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
