"""Customers' languages: the texts of messages and documents per locale, and money, dates and numbers formatted for
it (Babel).

Texts are per-locale string tables shipped in the package (`resolvers/locales/{locale}.json`, placeholders in
`{braces}`), one key per sentence: translators edit a file each, `missing_texts` lists what a locale lacks (a test
keeps it empty for the shipped locales), and a missing key falls back to English.
"""

import json
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from ordergraph.models.money import to_decimal

LOCALES = ("en", "cs", "ar")
DEFAULT_LOCALE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})
# A customer who chose no language reads their order's market's.
MARKET_LOCALES = {"CZ": "cs", "SA": "ar", "AE": "ar"}
# A customer who set no time zone lives in their order's market's (for dates in messages and SMS quiet hours).
MARKET_TIME_ZONES = {"US": "America/New_York", "CZ": "Europe/Prague", "SA": "Asia/Riyadh", "AE": "Asia/Dubai"}
DEFAULT_TIME_ZONE = "America/New_York"


@cache
def catalog(locale: str) -> dict[str, str]:
    """The shipped texts of a locale (empty for an unknown one)."""
    if locale not in LOCALES:
        return {}
    data = resources.files("ordergraph.resolvers").joinpath("locales", f"{locale}.json").read_text("utf-8")
    texts: dict[str, str] = json.loads(data)
    return texts


def missing_texts(locale: str) -> list[str]:
    """The English keys a locale has no text for."""
    return sorted(set(catalog(DEFAULT_LOCALE)) - set(catalog(locale)))


def has_text(key: str) -> bool:
    return key in catalog(DEFAULT_LOCALE)


def text(locale: str, key: str, **params: object) -> str:
    """The text of `key` in the locale, else in English, with its placeholders filled."""
    template = catalog(locale).get(key) or catalog(DEFAULT_LOCALE)[key]
    return template.format(**params)


def locale_for(chosen: str | None, market_code: str | None) -> str:
    if chosen in LOCALES:
        assert chosen is not None
        return chosen
    return MARKET_LOCALES.get(market_code or "", DEFAULT_LOCALE)


def time_zone_for(chosen: str | None, market_code: str | None) -> ZoneInfo:
    for name in (chosen, MARKET_TIME_ZONES.get(market_code or "")):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo(DEFAULT_TIME_ZONE)


def is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def money(minor: int, currency: str, locale: str) -> str:
    """12345 USD minor units → "$123.45" (en), "123,45 US$" (cs), "‏123.45 US$" (ar)."""
    return format_currency(to_decimal(minor, currency), currency, locale=locale)


def number(value: int | Decimal, locale: str) -> str:
    return format_decimal(value, locale=locale)


def day(moment: datetime, locale: str, zone: ZoneInfo) -> str:
    """A date as a customer reads it, in their time zone: "November 26, 2026", "26. listopadu 2026"."""
    return format_date(moment.astimezone(zone), format="long", locale=locale)


def day_and_time(moment: datetime, locale: str, zone: ZoneInfo) -> str:
    return format_datetime(moment.astimezone(zone), format="medium", tzinfo=zone, locale=locale)


def text_direction(locale: str) -> str:
    return "rtl" if locale in RIGHT_TO_LEFT else "ltr"
