"""Per-country address rules (pure): postal code, region, phone, required lines, for the countries that have them.

| country | postal code | region (stored as the ISO 3166-2 suffix) |
| --- | --- | --- |
| US and every country without rules | untouched: `check` returns the very same object | untouched |
| CZ | required, `^\\d{3} ?\\d{2}$`, stored "110 00" | optional: "CZ-64", "64" or a Region/Capital city name |
| SA | optional; when given `^\\d{5}(-\\d{4})?$` | optional: "SA-01", "01" or a Region name |
| AE | none: whatever is sent ("", "00000") is stored as "" | optional: "AE-DU", "DU" or an Emirate name |

In a country with rules every text field is NFC-normalised, `line1` and `city` must not be blank, and a phone,
when given, must be a valid number of that country (phonenumbers) and is stored as E.164. A region written as a
place name ("Praha", "دبي") is resolved by the caller through the place table (resolvers/addresses.py) and
passed in as `place_region`. A rule broken raises `AddressInvalid` naming the input field (camelCase).
"""

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
import pycountry

from ordergraph.models.customer import AddressFields
from ordergraph.models.text import nfc, place_key


class AddressInvalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class CountryRule:
    name: str
    postal_pattern: re.Pattern[str] | None  # None: the country has no postal codes (stored "")
    postal_required: bool
    region_types: frozenset[str]


RULES: dict[str, CountryRule] = {
    "CZ": CountryRule("Czechia", re.compile(r"^(\d{3}) ?(\d{2})$"), True, frozenset({"Region", "Capital city"})),
    "SA": CountryRule("Saudi Arabia", re.compile(r"^(\d{5})(-\d{4})?$"), False, frozenset({"Region"})),
    "AE": CountryRule("the United Arab Emirates", None, False, frozenset({"Emirate"})),
}


def has_rules(country: str) -> bool:
    return country.strip().upper() in RULES


def postal_code(country: str, raw: str) -> str:
    rule = RULES[country]
    if rule.postal_pattern is None:
        return ""
    value = "".join(nfc(raw).split(" ")).strip() if country == "CZ" else nfc(raw).strip()
    if not value:
        if rule.postal_required:
            raise AddressInvalid("postalCode", f"A postal code is required in {rule.name}.")
        return ""
    match = rule.postal_pattern.match(value)
    if match is None:
        raise AddressInvalid("postalCode", f"{raw!r} is not a postal code of {rule.name}.")
    return f"{match.group(1)} {match.group(2)}" if country == "CZ" else value


@cache
def _regions(country: str) -> dict[str, str]:
    """Every accepted spelling's key → the ISO suffix: the code with and without its prefix, and the name."""
    keys: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code=country) or []:
        if sub.type not in RULES[country].region_types:
            continue
        suffix = sub.code.split("-", 1)[1]
        name = place_key(sub.name)
        for key in (place_key(sub.code), place_key(suffix), name, name.removesuffix("kraj").removeprefix("kraj")):
            if key:
                keys.setdefault(key, suffix)
    return keys


def region_code(country: str, raw: str) -> str | None:
    """The ISO 3166-2 suffix of a region written as its code or its name; None if it is neither."""
    return _regions(country).get(place_key(raw))


def phone(country: str, raw: str, field: str = "phone") -> str:
    """The phone as E.164, or AddressInvalid."""
    try:
        number = phonenumbers.parse(nfc(raw).strip(), country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise AddressInvalid(field, f"{raw!r} is not a valid phone number in {RULES[country].name}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text(value: str | None) -> str | None:
    return None if value is None else nfc(value).strip()


def check(address: AddressFields, *, place_region: str | None = None) -> AddressFields:
    """The address normalised by its country's rules; the same object for a country without rules."""
    country = address.country.strip().upper()
    if country not in RULES:
        return address
    rule = RULES[country]
    line1, city = _text(address.line1) or "", _text(address.city) or ""
    if not line1:
        raise AddressInvalid("line1", "The street address is required.")
    if not city:
        raise AddressInvalid("city", "The city is required.")
    region = _text(address.region) or None
    if region is not None:
        code = region_code(country, region) or place_region
        if code is None:
            raise AddressInvalid("region", f"{address.region!r} is not a region of {rule.name}.")
        region = code
    raw_phone = _text(address.phone) or None
    return AddressFields(
        name=_text(address.name) or None,
        line1=line1,
        line2=_text(address.line2) or None,
        city=city,
        region=region,
        postal_code=postal_code(country, address.postal_code),
        country=country,
        phone=phone(country, raw_phone) if raw_phone else None,
    )
