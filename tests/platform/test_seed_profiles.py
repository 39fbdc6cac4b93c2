"""The demo's market profiles (server/seed/markets.py): the US profile is today's demo, draw for draw; the
Czech, Saudi and Emirati profiles speak their languages, ring valid mobile numbers and price in their currency."""

import random
import re
import unicodedata

import phonenumbers
import pytest

from ordergraph.server.seed import world
from ordergraph.server.seed.markets import (
    AE_PROFILE,
    CZ_PROFILE,
    PROFILES,
    SA_PROFILE,
    US_PROFILE,
    MarketProfile,
    ascii_fold,
    feminine_surname,
    money_text,
    profile_for,
)

OTHERS = (CZ_PROFILE, SA_PROFILE, AE_PROFILE)
ARABIC = re.compile(r"[\u0600-\u06ff]")
CZECH = set("áčďéěíňóřšťúůýžÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ")


def test_the_us_profile_is_todays_demo() -> None:
    assert US_PROFILE.methods is world.DELIVERY_METHODS
    assert US_PROFILE.first_names is world.FIRST_NAMES
    assert US_PROFILE.last_names is world.LAST_NAMES
    assert US_PROFILE.streets is world.STREETS
    assert US_PROFILE.email_domains is world.EMAIL_DOMAINS
    assert US_PROFILE.categories is world.CATEGORIES
    assert US_PROFILE.adjectives is world.ADJECTIVES
    assert US_PROFILE.colors is world.COLORS
    assert US_PROFILE.customizable_nouns == world.CUSTOMIZABLE_NOUNS
    assert (US_PROFILE.currency, US_PROFILE.country, US_PROFILE.prices_include_tax) == ("USD", "US", False)
    assert set(US_PROFILE.method_weights) == {method.code for method in world.DELIVERY_METHODS}
    assert all(
        method.carrier_weekdays == "12345" and method.pickup_point_network is None for method in world.DELIVERY_METHODS
    )
    assert US_PROFILE.reduced_nouns == frozenset()
    assert US_PROFILE.site_name("Boston", world.LocationKind.WAREHOUSE) == "Boston Warehouse"
    assert money_text(123456, "USD") == "$1,234.56"


def _world_draws(rng: random.Random) -> tuple:
    """world.py's own draws for a street, a phone, a name, an e-mail and a shelf price, in its order."""
    street = world._street(rng)
    phone = world._phone(rng)
    first, last = rng.choice(world.FIRST_NAMES), rng.choice(world.LAST_NAMES)
    email = f"{first}.{last}.7@{rng.choice(world.EMAIL_DOMAINS)}".lower().replace("'", "")
    line2 = rng.choice(("Apt 4B", "Unit 12", "Suite 300", "Apt 2")) if rng.random() < 0.25 else None
    price = rng.randint(8, 399) * 100 - rng.choice((1, 1, 1, 0, 51))
    return street, phone, f"{first} {last}", email, line2, price, rng.random()


def _profile_draws(profile: MarketProfile, rng: random.Random) -> tuple:
    street = profile.street(rng)
    phone = profile.phone(rng)
    person = profile.person(rng)
    email = profile.email(person, 7, rng)
    line2 = profile.line2(rng)
    price = profile.price_minor(rng, 8, 399)
    return street, phone, person.name, email, line2, price, rng.random()


@pytest.mark.parametrize("seed", range(40))
def test_the_us_profile_draws_the_same_numbers_in_the_same_order(seed: int) -> None:
    assert _profile_draws(US_PROFILE, random.Random(seed)) == _world_draws(random.Random(seed))


@pytest.mark.parametrize("profile", list(OTHERS), ids=lambda p: p.code)
def test_every_phone_is_a_valid_mobile_number_in_e164(profile: MarketProfile) -> None:
    rng = random.Random(23)
    for _ in range(300):
        phone = profile.phone(rng)
        parsed = phonenumbers.parse(phone, None)
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.region_code_for_number(parsed) == profile.country
        assert phonenumbers.number_type(parsed) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == phone


def test_czech_names_streets_and_surnames() -> None:
    rng = random.Random(5)
    people = [CZ_PROFILE.person(rng) for _ in range(200)]
    assert any(CZECH & set(person.name) for person in people)
    assert all(person.email_stem.isascii() for person in people)
    women = [p for p in people if p.name.split()[0] in CZ_PROFILE.female_first_names]
    assert women
    assert all(p.name.endswith(("á", "ová")) for p in women)
    assert feminine_surname("Novák") == "Nováková"
    assert feminine_surname("Svoboda") == "Svobodová"
    assert feminine_surname("Černý") == "Černá"
    assert feminine_surname("Šťastný") == "Šťastná"
    assert feminine_surname("Hájek") == "Hájková"
    assert ascii_fold("Jiří Šťastný") == "Jiri Stastny"
    assert re.fullmatch(r"\w+ \d{1,3}", CZ_PROFILE.street(rng))
    assert any(CZECH & set(street) for street in CZ_PROFILE.streets)
    assert CZ_PROFILE.site_name("Praha", world.LocationKind.STORE) == "Prodejna Praha"


@pytest.mark.parametrize("profile", [SA_PROFILE, AE_PROFILE], ids=lambda p: p.code)
def test_arabic_names_and_streets(profile: MarketProfile) -> None:
    rng = random.Random(7)
    for _ in range(100):
        person = profile.person(rng)
        assert ARABIC.search(person.name), person.name
        assert re.fullmatch(r"[a-z]+\.[a-z]+", person.email_stem), person.email_stem
        street = profile.street(rng)
        assert ARABIC.search(street)
        assert re.search(r"\d+$", street)
    every_name = profile.first_names + profile.female_first_names + profile.last_names
    assert all(name in (profile.latin or {}) for name in every_name)
    assert ARABIC.search(profile.site_name("Riyadh", world.LocationKind.WAREHOUSE))


@pytest.mark.parametrize("profile", list(OTHERS), ids=lambda p: p.code)
def test_text_is_nfc(profile: MarketProfile) -> None:
    texts = [
        *profile.first_names,
        *profile.female_first_names,
        *profile.last_names,
        *profile.streets,
        *profile.adjectives,
        *profile.colors,
        *profile.unit_labels,
        *profile.kind_labels.values(),
        *(method.name for method in profile.methods),
        *(noun for nouns, _ in profile.categories for noun in nouns),
    ]
    assert all(unicodedata.normalize("NFC", text) == text for text in texts)


@pytest.mark.parametrize("profile", list(OTHERS), ids=lambda p: p.code)
def test_methods_are_the_markets_own(profile: MarketProfile) -> None:
    codes = [method.code for method in profile.methods]
    assert all(code.startswith(f"{profile.code}_") for code in codes)
    assert len(set(codes)) == len(codes)
    assert set(profile.method_weights) == set(codes)
    assert all(method.carrier in (None, "UPS", "FedEx", "METRO") for method in profile.methods)  # no new carriers
    assert all(set(method.carrier_weekdays) <= set("1234567") for method in profile.methods)
    assert profile.method(codes[0]) is profile.methods[0]


def test_saudi_carriers_work_sunday_to_thursday_and_czech_parcels_go_to_points() -> None:
    assert {m.carrier_weekdays for m in SA_PROFILE.methods if m.carrier} == {"71234"}
    networks = {m.code: m.pickup_point_network for m in CZ_PROFILE.methods if m.pickup_point_network}
    assert networks == {"CZ_BOX": "PARCELBOX", "CZ_POINT": "VYDEJNA"}
    assert CZ_PROFILE.method("CZ_BOX").price_minor == 5900


@pytest.mark.parametrize("profile", list(OTHERS), ids=lambda p: p.code)
def test_prices_are_whole_units_of_the_markets_currency_tax_included(profile: MarketProfile) -> None:
    assert profile.prices_include_tax
    assert profile.currency == {"CZ": "CZK", "SA": "SAR", "AE": "AED"}[profile.code]
    rng = random.Random(11)
    for _ in range(500):
        _nouns, (low, high) = rng.choice(profile.categories)
        price = profile.price_minor(rng, low, high)
        assert price % 100 == 0
        assert low * 100 - 1000 <= price <= high * 100
    assert all(method.price_minor % 100 == 0 for method in profile.methods)


def test_tax_classes() -> None:
    assert CZ_PROFILE.tax_class("Káva zrnková") == "REDUCED"
    assert CZ_PROFILE.tax_class("Průvodce Krkonošemi") == "REDUCED"
    assert CZ_PROFILE.tax_class("Mikina") == "STANDARD"
    # Saudi Arabia and the Emirates have one VAT rate: a REDUCED product could not be sold there.
    for profile in (SA_PROFILE, AE_PROFILE):
        assert {profile.tax_class(n) for nouns, _ in profile.categories for n in nouns} == {"STANDARD"}
    assert CZ_PROFILE.item_name("Šumava", "Mikina", "černá") == "Mikina Šumava - černá"
    assert US_PROFILE.item_name("Summit", "Tee", "Navy") == "Summit Tee - Navy"


def test_postal_codes() -> None:
    rng = random.Random(3)
    prague = [CZ_PROFILE.postal_code(rng, "10") for _ in range(50)]
    assert all(re.fullmatch(r"1\d\d \d\d", code) for code in prague)
    assert all(re.fullmatch(r"6\d\d \d\d", CZ_PROFILE.postal_code(rng, "64")) for _ in range(50))
    saudi = [SA_PROFILE.postal_code(rng, "01") for _ in range(200)]
    assert "" in saudi
    assert all(code == "" or re.fullmatch(r"\d{5}", code) for code in saudi)
    assert {AE_PROFILE.postal_code(rng, "DU") for _ in range(20)} == {""}


def test_money_text_and_profile_lookup() -> None:
    assert money_text(710400, "CZK") == "7\u00a0104,00\u00a0Kč"
    assert money_text(47400, "SAR") == "474.00 SAR"
    assert money_text(90300, "AED") == "903.00 AED"
    assert profile_for("cz") is CZ_PROFILE
    assert profile_for(" AE ") is AE_PROFILE
    assert list(PROFILES) == ["us", "cz", "sa", "ae"]
    with pytest.raises(ValueError, match="unknown market 'fr'"):
        profile_for("fr")
