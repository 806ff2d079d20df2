from decimal import Decimal

import pytest

from models import Organization
from service.validation import (
    credit_code_check_char,
    henan_regions,
    is_valid_credit_code,
    is_valid_mobile,
    is_valid_slug,
    normalise_credit_code,
    normalise_mobile,
    region_name,
)


@pytest.mark.parametrize("code", ["914403001922038216", "91350100M000100Y43"])
def test_real_credit_codes_pass(code):
    assert is_valid_credit_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "914403001922038217",  # wrong check character
        "91440300192203821",  # 17 characters
        "9144030019220382160",  # 19 characters
        "91440300192203821I",  # I is not in the alphabet
        "91440300192203821O",
        "",
    ],
)
def test_bad_credit_codes_fail(code):
    assert not is_valid_credit_code(code)


def test_check_char_round_trip():
    first17 = "91410100MA45HY01X"
    assert is_valid_credit_code(first17 + credit_code_check_char(first17))
    assert normalise_credit_code(" 9144 0300 1922 0382 16 ") == "914403001922038216"


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("138 1234 5678", True),
        ("+86 13812345678", True),
        ("0086-138-1234-5678", True),
        ("12812345678", False),
        ("1381234567", False),
        ("abc", False),
    ],
)
def test_mobile(raw, ok):
    assert is_valid_mobile(normalise_mobile(raw)) is ok


@pytest.mark.parametrize(
    ("slug", "ok"), [("demo-firm-a", True), ("a", True), ("-a", False), ("A", False), ("a_b", False)]
)
def test_slug(slug, ok):
    assert is_valid_slug(slug) is ok


def test_regions_have_the_cities_and_jiyuan():
    names = {r.name for r in henan_regions()}
    assert {"郑州市", "洛阳市", "驻马店市", "济源市", "巩义市"} <= names
    assert region_name("410300") == "洛阳市"
    assert all(len(r.code) == 6 for r in henan_regions())


@pytest.mark.parametrize(
    ("employees", "revenue", "size"),
    [
        (999, Decimal(50000), "small_medium"),  # few employees
        (5000, Decimal(39999), "small_medium"),  # low revenue
        (1000, Decimal(40000), "large"),  # both at the threshold
        (None, Decimal(10000), "small_medium"),
        (5000, None, None),  # cannot tell
        (None, None, None),
    ],
)
def test_size_class(employees, revenue, size):
    assert Organization(employees=employees, annual_revenue_wan=revenue).size_class == size
