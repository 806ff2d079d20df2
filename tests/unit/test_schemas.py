"""The fast loader of bulk work agrees with the schema it stands in for."""

from datetime import date, datetime

import pytest
from marshmallow import ValidationError

from service.ledger.schemas import InstrumentIn
from service.schemas import plain_loader

BASE = {
    "management_no": "JL-001",
    "name": "压力表",
    "model": "Y-100",
    "department": "质检部",
    "custodian": "张三",
    "custodian_mobile": "13800138000",
    "abc_class": "A",
    "is_mandatory": True,
    "mandatory_use": "safety",
    "control_method": "verification",
    "interval_months": 12,
    "last_done_on": date(2025, 3, 1),
    "valid_until": None,
    "status": "in_service",
    "notes": "第一行\n第二行",
}
CORPUS = [
    None,
    "",
    " ",
    "x",
    " padded ",
    "a\tb",
    "a\nb",
    "bell\x07",
    "x" * 64,
    "x" * 65,
    "x" * 201,
    "x" * 2001,
    "A",
    "D",
    "safety",
    "verification",
    "calibration",
    "in_service",
    "scrapped",
    "pass",
    "13800138000",
    "138 0013 8000",
    "12345",
    0,
    12,
    240,
    241,
    -1,
    1.5,
    12.0,
    True,
    False,
    date(2025, 3, 1),
    datetime(2025, 3, 1, 8, 0),
    "2025-03-01",
    [],
    {},
]
SCHEMA = InstrumentIn()
LOAD = plain_loader(SCHEMA)


def test_the_fast_loader_takes_plain_rows_with_the_schemas_defaults():
    minimal = {"management_no": "JL-1", "name": "表"}
    assert LOAD(minimal) == SCHEMA.load(minimal)
    assert LOAD(BASE) == SCHEMA.load(BASE)


@pytest.mark.parametrize("name", sorted(SCHEMA.fields))
def test_the_fast_loader_never_accepts_what_the_schema_refuses_or_changes(name):
    for value in CORPUS:
        data = {**BASE, name: value}
        fast = LOAD(data)
        if fast is None:
            continue
        try:
            slow = SCHEMA.load(data)
        except ValidationError as exc:
            pytest.fail(f"{name}={value!r}: fast accepted, schema refused: {exc.messages}")
        assert fast == slow, (name, value)


def test_missing_required_fields_go_to_the_schema():
    assert LOAD({"name": "表"}) is None


def test_a_partial_load_adds_no_defaults():
    partial = plain_loader(SCHEMA, partial=True)
    assert partial({"name": "表"}) == SCHEMA.load({"name": "表"}, partial=True) == {"name": "表"}
