"""Per-country address rules (models/addresses.py, pure) and the resolver's refusals (resolvers/addresses.py)."""

import pytest

from ordergraph.models import AddressFields
from ordergraph.models.addresses import AddressInvalid, check, phone, postal_code, region_code
from ordergraph.models.text import nfc, place_key
from ordergraph.resolvers.addresses import check_address, check_phone
from ordergraph.resolvers.errors import Refusal


def address(**fields: object) -> AddressFields:
    base: dict[str, object] = {
        "line1": "Václavské náměstí 1",
        "city": "Praha",
        "postal_code": "110 00",
        "country": "CZ",
    }
    return AddressFields.model_validate({**base, **fields})


def test_a_us_address_passes_through_as_the_same_object():
    us = AddressFields(line1=" 1 Main St ", city="new york", region="ny", postal_code="1", country="US", phone="x")
    assert check(us) is us
    other = AddressFields(line1="", city="", postal_code="", country="FR")
    assert check(other) is other


@pytest.mark.parametrize(
    ("country", "raw", "stored"),
    [("CZ", "11000", "110 00"), ("CZ", "110 00", "110 00"), ("SA", "", ""), ("SA", "12345", "12345"),
     ("SA", "12345-6789", "12345-6789"), ("AE", "", ""), ("AE", "00000", "")],
)  # fmt: skip
def test_postal_codes(country, raw, stored):
    assert postal_code(country, raw) == stored


@pytest.mark.parametrize(("country", "raw"), [("CZ", "1100"), ("CZ", ""), ("CZ", "ABC 12"), ("SA", "1234")])
def test_bad_postal_codes(country, raw):
    with pytest.raises(AddressInvalid) as bad:
        postal_code(country, raw)
    assert bad.value.field == "postalCode"


@pytest.mark.parametrize(
    ("country", "raw", "code"),
    [("CZ", "CZ-64", "64"), ("CZ", "64", "64"), ("CZ", "Jihomoravský kraj", "64"), ("CZ", "jihomoravsky", "64"),
     ("CZ", "CZ-10", "10"), ("SA", "SA-01", "01"), ("SA", "01", "01"), ("SA", "Ar Riyāḑ", "01"),
     ("AE", "AE-DU", "DU"), ("AE", "du", "DU"), ("AE", "Dubayy", "DU"), ("CZ", "CZ-101", None), ("CZ", "XX", None)],
)  # fmt: skip
def test_regions(country, raw, code):
    assert region_code(country, raw) == code


@pytest.mark.parametrize(
    ("country", "raw", "e164"),
    [("CZ", "601123456", "+420601123456"), ("CZ", "601 123 456", "+420601123456"),
     ("SA", "0501234567", "+966501234567"), ("AE", "050 123 4567", "+971501234567")],
)  # fmt: skip
def test_phones(country, raw, e164):
    assert phone(country, raw) == e164


def test_a_bad_phone():
    with pytest.raises(AddressInvalid) as bad:
        phone("CZ", "12345")
    assert bad.value.field == "phone"


def test_rule_countries_normalise_every_field():
    decomposed = "Jir\u030ci\u0301 S\u030ct\u030castny\u0301"  # "Jiří Šťastný" written with combining marks
    checked = check(address(name=decomposed, region="cz-64", phone="601 123 456", postal_code="11000", country="cz"))
    assert checked.name == nfc(decomposed) == "Jiří Šťastný"
    assert (checked.country, checked.region, checked.postal_code, checked.phone) == (
        "CZ",
        "64",
        "110 00",
        "+420601123456",
    )
    ae = check(address(country="AE", city="دبي", line1="شارع الشيخ زايد 1", postal_code="00000", region="AE-DU"))
    assert (ae.postal_code, ae.region, ae.city) == ("", "DU", "دبي")


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"line1": " "}, "line1"), ({"city": ""}, "city"), ({"region": "XX"}, "region"),
     ({"postal_code": "1100"}, "postalCode"), ({"phone": "12345"}, "phone")],
)  # fmt: skip
def test_broken_rules_name_their_field(fields, field):
    with pytest.raises(AddressInvalid) as bad:
        check(address(**fields))
    assert bad.value.field == field


def test_a_place_name_region_is_taken_from_the_caller():
    assert check(address(region="Praha"), place_region="10").region == "10"


def test_place_keys():
    assert place_key("Plzeň") == "plzen"
    assert place_key("أبو ظبي") == "ابوظبي"
    assert place_key("Brno-střed") == "brnostred"
    assert place_key("PRAHA") == place_key("praha") == "praha"
    assert place_key("دبى") == place_key("دبي")


async def test_check_address_refuses_with_the_input_field(empty_db):
    async with empty_db.read() as session:
        with pytest.raises(Refusal) as bad:
            await check_address(session, address(postal_code="1100"))
        assert (bad.value.code, bad.value.field) == ("INVALID_ADDRESS", ["shippingAddress", "postalCode"])
        with pytest.raises(Refusal) as bad:
            await check_address(session, address(region="XX"), field=("input", "address"))
        assert bad.value.field == ["input", "address", "region"]
        assert (await check_address(session, address(region="Praha"))).region == "10"
        assert (await check_address(session, address(country="AE", region="دبي", postal_code=""))).region == "DU"
        assert (await check_address(session, address(country="SA", region="Riyadh", postal_code=""))).region == "01"
        us = AddressFields(line1="1 Main St", city="NYC", region="NY", postal_code="10001", country="US")
        assert await check_address(session, us) is us


def test_check_phone():
    assert check_phone("601 123 456", "CZ", ["recipient", "phone"], required=True) == "+420601123456"
    assert check_phone(None, "CZ", ["recipient", "phone"], required=False) is None
    with pytest.raises(Refusal) as bad:
        check_phone(" ", "CZ", ["recipient", "phone"], required=True)
    assert (bad.value.code, bad.value.field) == ("PHONE_REQUIRED", ["recipient", "phone"])
    with pytest.raises(Refusal) as bad:
        check_phone("12345", "CZ", ("recipient", "phone"), required=True)
    assert (bad.value.code, bad.value.field) == ("INVALID_PHONE", ["recipient", "phone"])
