"""The hash chain's canonical form: bulk appends hash exactly what one-by-one appends hash."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from service.bulk import EncodedJSON
from service.history.chain import GENESIS_HASH, bulk_event_rows, chained_row, hash_of_row

SHANGHAI = timezone(timedelta(hours=8))
AT = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=SHANGHAI)

DATA = [
    {
        "fields": {"name": "压力表", "valid_until": date(2027, 3, 14), "is_mandatory": True},
        "file": "台账.xlsx",
    },
    {"changes": {"location": ["一车间", "二车间"], "interval_months": [12, 6]}},
    {
        "text": 'quotes " and \\ back\nslash\ttab \x01 \u2028 😀',
        "when": datetime(2026, 1, 1, 8, 0, tzinfo=SHANGHAI),
        "price": Decimal("1.50"),
        "floats": [0.1, 1e16, 1e-05, -0.0],
        "nested": {"b": [1, (2, 3)], "a": None, "z": {"y": False}},
        "big": 2**70,
    },
    {"by_id": {9: "nine", 10: "ten"}, "odd_keys": {None: 1, False: 2, 1.5: 3}, "days": {date(2026, 1, 1): 3}},
    {},
]


@pytest.mark.parametrize("actor", [(7, "管理员"), (None, None), (3, 'O"Brien \\ 张')])
def test_bulk_rows_hash_what_chained_rows_hash(actor):
    actor_id, actor_name = actor
    entries = [(f"kind.{i}", ("instrument", 100 + i), data) for i, data in enumerate(DATA)]
    bulk = list(bulk_event_rows(41, "a" * 64, 5, entries, actor_id, actor_name, AT))

    previous = "a" * 64
    for seq, ((kind, subject, data), row) in enumerate(zip(entries, bulk, strict=True), start=42):
        one = chained_row(seq, previous, 5, kind, subject, data, actor_id, actor_name, AT)
        assert row["hash"] == one["hash"] == hash_of_row(one)
        assert row["prev_hash"] == previous
        assert isinstance(row["data"], EncodedJSON)
        assert json.loads(row["data"]) == one["data"]  # what the column holds reads back the same
        assert {k: v for k, v in row.items() if k != "data"} == {k: v for k, v in one.items() if k != "data"}
        previous = one["hash"]


def test_bulk_rows_refuse_what_json_cannot_hold():
    rows = bulk_event_rows(
        0, GENESIS_HASH, 1, [("k", ("x", 1), {"s": {1, 2}})], None, None, datetime.now(UTC)
    )
    with pytest.raises(TypeError):
        next(rows)
