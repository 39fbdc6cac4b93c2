"""A location's opening hours and closures, and the calendar that tells when a store works.

Hours are per ISO weekday (1 = Monday … 7 = Sunday) in the location's own IANA time zone (`Location.timezone`),
any number of intervals a day, none overlapping and each opening before it closes (an interval never spans
midnight). A closure shuts the location for one whole local date. A location without any hours has no calendar:
routing treats it as it always has (cut-offs only), so adding hours is opt-in per store.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ordergraph.models.columns import BigIntId

WEEKDAYS = range(1, 8)
# How far ahead a calendar looks for opening time before calling a store unavailable.
HORIZON_DAYS = 60


class LocationOpeningHours(SQLModel, table=True):
    """One opening interval of a location on a weekday, local time."""

    __tablename__ = "location_opening_hours"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    location_id: int = Field(sa_type=BigIntId, foreign_key="location.id", index=True)
    weekday: int  # ISO: 1 = Monday … 7 = Sunday
    opens: time = Field(sa_type=sa.Time())
    closes: time = Field(sa_type=sa.Time())

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 1 AND 7 AND opens < closes", name="interval"),
        sa.UniqueConstraint("location_id", "weekday", "opens"),
    )


class LocationClosure(SQLModel, table=True):
    """A whole local date on which a location is closed (a holiday, a stock count, a refit)."""

    __tablename__ = "location_closure"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    location_id: int = Field(sa_type=BigIntId, foreign_key="location.id")
    closed_on: date
    reason: str | None = None

    __table_args__ = (sa.UniqueConstraint("location_id", "closed_on"),)


Interval = tuple[time, time]


def interval_problem(intervals: Iterable[Interval]) -> str | None:
    """Why a day's intervals are not valid hours (closing before opening, overlapping), or None."""
    ordered = sorted(intervals)
    for opens, closes in ordered:
        if opens >= closes:
            return f"{opens:%H:%M}-{closes:%H:%M} closes before it opens."
    for (_, closes), (opens, _) in pairwise(ordered):
        if opens < closes:
            return f"Intervals overlap at {opens:%H:%M}."
    return None


@dataclass(frozen=True, slots=True)
class StoreCalendar:
    """When a location works: its weekly hours and closed dates, in its time zone."""

    timezone: str
    week: Mapping[int, tuple[Interval, ...]]  # ISO weekday -> intervals, in order
    closed_on: frozenset[date] = frozenset()

    @classmethod
    def of(
        cls, timezone: str, hours: Iterable[LocationOpeningHours], closures: Iterable[LocationClosure] = ()
    ) -> "StoreCalendar":
        week: dict[int, list[Interval]] = {}
        for row in hours:
            week.setdefault(row.weekday, []).append((row.opens, row.closes))
        return cls(
            timezone,
            {day: tuple(sorted(intervals)) for day, intervals in week.items()},
            frozenset(c.closed_on for c in closures),
        )

    def _intervals_from(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Opening intervals (UTC) that end after `start`, in time order, within the horizon."""
        tz = ZoneInfo(self.timezone)
        first_day = start.astimezone(tz).date()
        for offset in range(HORIZON_DAYS):
            day = first_day + timedelta(days=offset)
            if day in self.closed_on:
                continue
            for opens, closes in self.week.get(day.isoweekday(), ()):
                begin = datetime.combine(day, opens, tzinfo=tz).astimezone(UTC)
                end = datetime.combine(day, closes, tzinfo=tz).astimezone(UTC)
                if end > start:
                    yield max(begin, start), end

    def after_open_time(self, start: datetime, work: timedelta) -> datetime | None:
        """The moment `work` of opening time has passed since `start` (work done only while open; zero work is
        the next open moment), in UTC; None when the store does not open long enough within the horizon."""
        start = start.astimezone(UTC)
        remaining = work
        for begin, end in self._intervals_from(start):
            if begin + remaining <= end and (remaining or begin < end):
                return begin + remaining
            remaining -= end - begin
        return None

    def next_opening(self, moment: datetime) -> datetime | None:
        """The next moment from `moment` the store is open (`moment` itself when open), in UTC."""
        return self.after_open_time(moment, timedelta(0))

    def is_open(self, moment: datetime) -> bool:
        return self.next_opening(moment) == moment.astimezone(UTC)
