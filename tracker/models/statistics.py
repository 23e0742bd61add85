"""Daily figures for the public statistics, rolled up from the request history once a day per
office, service and local day, so that the statistics page never reads the requests table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base


class DailyFigure(Base):
    """What happened at one office for one service on one local day.

    ``durations[d]`` counts the documents finished that day that took ``d`` working days
    from intake (the last entry gathers everything longer), enough for medians and
    percentiles over any run of days without going back to the requests."""

    __tablename__ = "daily_figures"
    __table_args__ = (UniqueConstraint("office_id", "service_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[int] = mapped_column(Integer, default=0)
    within_target: Mapped[int] = mapped_column(Integer, default=0)
    collected: Mapped[int] = mapped_column(Integer, default=0)
    durations: Mapped[list[int]] = mapped_column(JSON, default=list)
