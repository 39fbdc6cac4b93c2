"""Stores' opening hours and closures: reading them (public) and agents setting them.

`setLocationOpeningHours` replaces a location's whole week (and, when given, its time zone) in one change;
closures are added and removed one date at a time. Every refusal comes before any write, so a refused change
leaves the hours as they were. Routing reads the same rows through `calendars` (a location without hours has no
calendar and keeps its cut-off-only behaviour).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ordergraph.models import Location, LocationClosure, LocationOpeningHours
from ordergraph.models.opening_hours import WEEKDAYS, StoreCalendar, interval_problem
from ordergraph.resolvers.access import require_agent
from ordergraph.resolvers.context import RequestContext
from ordergraph.resolvers.errors import Refusal
from ordergraph.resolvers.events import change

MAX_INTERVALS_PER_DAY = 4
MAX_CLOSURE_REASON = 200
MAX_LISTED_CLOSURES = 10  # the upcoming closures a location lists, soonest first
# Closures further ahead than this are refused: a typo in the year, not a plan.
MAX_CLOSURE_AHEAD = timedelta(days=3 * 366)


@dataclass(frozen=True, slots=True)
class DayHours:
    weekday: int  # ISO: 1 = Monday … 7 = Sunday
    intervals: list[tuple[str, str]]  # ("09:00", "17:30"), local time


def parse_time(text: str, field: list[str]) -> time:
    """'HH:MM' (24-hour) as a time; INVALID_TIME otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError:
        raise Refusal("INVALID_TIME", f"{text!r} is not a time: write HH:MM, 00:00 to 23:59.", field) from None


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Refusal("UNKNOWN_TIME_ZONE", f"{name!r} is not an IANA time zone.", ["timezone"]) from None
    return name


def week_from(days: Sequence[DayHours]) -> dict[int, list[tuple[time, time]]]:
    """The week the input describes, checked: weekdays 1 to 7, each given once, intervals that open before they
    close and do not overlap."""
    week: dict[int, list[tuple[time, time]]] = {}
    for index, day in enumerate(days):
        field = ["days", str(index)]
        if day.weekday not in WEEKDAYS:
            raise Refusal("INVALID_WEEKDAY", "Weekdays are 1 (Monday) to 7 (Sunday).", [*field, "weekday"])
        if day.weekday in week:
            raise Refusal("DUPLICATE_WEEKDAY", f"Weekday {day.weekday} is given twice.", [*field, "weekday"])
        if len(day.intervals) > MAX_INTERVALS_PER_DAY:
            raise Refusal("INVALID_HOURS", f"At most {MAX_INTERVALS_PER_DAY} intervals a day.", [*field, "intervals"])
        intervals = [
            (
                parse_time(opens, [*field, "intervals", str(n), "opens"]),
                parse_time(closes, [*field, "intervals", str(n), "closes"]),
            )
            for n, (opens, closes) in enumerate(day.intervals)
        ]
        problem = interval_problem(intervals)
        if problem:
            raise Refusal("INVALID_HOURS", problem, [*field, "intervals"])
        week[day.weekday] = sorted(intervals)
    return week


async def _location(session: AsyncSession, location_id: int) -> Location:
    location = await session.get(Location, location_id)
    if location is None:
        raise Refusal("NOT_FOUND", "No such location.", ["locationId"])
    return location


async def set_opening_hours(
    ctx: RequestContext, *, location_id: int, days: Sequence[DayHours], timezone: str | None
) -> Location:
    """Replaces the location's weekly hours (a weekday left out is closed; no days at all removes the hours) and,
    when given, its time zone."""
    require_agent(ctx.viewer, "set opening hours")
    tz = check_timezone(timezone.strip()) if timezone is not None else None
    week = week_from(days)
    async with change(ctx.write) as session:
        location = await _location(session, location_id)
        await session.exec(delete(LocationOpeningHours).where(col(LocationOpeningHours.location_id) == location_id))
        session.add_all(
            LocationOpeningHours(location_id=location_id, weekday=weekday, opens=opens, closes=closes)
            for weekday, intervals in sorted(week.items())
            for opens, closes in intervals
        )
        if tz is not None and tz != location.timezone:
            location.timezone = tz
            session.add(location)
    return location


async def add_closure(ctx: RequestContext, *, location_id: int, on: date, reason: str | None) -> Location:
    """Closes the location for the whole local date `on` (not in the past; once per date)."""
    require_agent(ctx.viewer, "close a location")
    reason = reason.strip() or None if reason is not None else None
    if reason is not None and len(reason) > MAX_CLOSURE_REASON:
        raise Refusal("INVALID_INPUT", f"A reason holds at most {MAX_CLOSURE_REASON} characters.", ["reason"])
    async with change(ctx.write) as session:
        location = await _location(session, location_id)
        today = ctx.clock().astimezone(ZoneInfo(location.timezone)).date()
        if not today <= on <= today + MAX_CLOSURE_AHEAD:
            raise Refusal("INVALID_DATE", "A closure is today or a date in the next three years.", ["date"])
        taken = (
            await session.exec(
                select(LocationClosure).where(
                    LocationClosure.location_id == location_id, LocationClosure.closed_on == on
                )
            )
        ).first()
        if taken is not None:
            raise Refusal("DUPLICATE_CLOSURE", f"{location.name} is already closed on {on}.", ["date"])
        session.add(LocationClosure(location_id=location_id, closed_on=on, reason=reason))
    return location


async def remove_closure(ctx: RequestContext, *, location_id: int, on: date) -> Location:
    require_agent(ctx.viewer, "reopen a location")
    async with change(ctx.write) as session:
        location = await _location(session, location_id)
        removed = await session.exec(
            delete(LocationClosure).where(
                col(LocationClosure.location_id) == location_id, col(LocationClosure.closed_on) == on
            )
        )
        if removed.rowcount != 1:
            raise Refusal("NOT_FOUND", f"{location.name} has no closure on {on}.", ["date"])
    return location


async def opening_hours(ctx: RequestContext, location: Location) -> list[LocationOpeningHours]:
    """The location's weekly intervals, by weekday and opening time."""
    rows: list[LocationOpeningHours] = await ctx.loaders.opening_hours_by_location.load(location.id)
    return rows


async def upcoming_closures(ctx: RequestContext, location: Location) -> list[LocationClosure]:
    """The location's closures from its local today on, by date (the first MAX_LISTED_CLOSURES)."""
    today = ctx.clock().astimezone(ZoneInfo(location.timezone)).date()
    rows: list[LocationClosure] = await ctx.loaders.closures_by_location.load(location.id)
    return [row for row in rows if row.closed_on >= today][:MAX_LISTED_CLOSURES]


async def calendars(session: AsyncSession, locations: Iterable[Location], now: datetime) -> dict[int, StoreCalendar]:
    """The calendars of those of `locations` that have opening hours (two statements however many locations);
    closures from yesterday on, which covers today in every time zone."""
    by_id = {location.id: location for location in locations if location.id is not None}
    if not by_id:
        return {}
    hours = (
        await session.exec(select(LocationOpeningHours).where(col(LocationOpeningHours.location_id).in_(by_id)))
    ).all()
    if not hours:
        return {}
    closures = (
        await session.exec(
            select(LocationClosure).where(
                col(LocationClosure.location_id).in_({row.location_id for row in hours}),
                col(LocationClosure.closed_on) >= (now - timedelta(days=1)).date(),
            )
        )
    ).all()
    return {
        location_id: StoreCalendar.of(
            by_id[location_id].timezone,
            [row for row in hours if row.location_id == location_id],
            [row for row in closures if row.location_id == location_id],
        )
        for location_id in {row.location_id for row in hours}
    }
