"""The fast dumper of hot lists gives what the schema it stands in for gives."""

from datetime import UTC, date, datetime

import pytest
from marshmallow import Schema, fields, post_dump

from service.ledger.schemas import InstrumentOut
from service.schemas import plain_dumper
from tests import factories

TODAY = date(2026, 5, 20)


def test_instruments_dump_as_the_schema_dumps_them(db_session, world):
    actor = world.a.actor()
    made = [
        factories.make_instrument(db_session, actor, TODAY),
        factories.make_instrument(
            db_session,
            actor,
            TODAY,
            model="Y-100",
            serial_no="S/N 7",
            is_mandatory=True,
            mandatory_use="safety",
            last_done_on=date(2025, 6, 1),
            abc_class="A",
            custodian_mobile="13800138000",
            notes="第一行\n第二行",
            department_id=world.a.department.id,
            custodian_user_id=world.a.viewer.id,
        ),
        factories.make_instrument(db_session, actor, TODAY, interval_months=None, last_done_on=None),
    ]
    db_session.flush()
    instruments = made + list(world.a.instruments)
    schema = InstrumentOut(TODAY, many=True)
    dump = plain_dumper(InstrumentOut(TODAY))

    assert repr([dump(i) for i in instruments]) == repr(schema.dump(instruments))


class _Kinds(Schema):
    id = fields.Integer()
    text = fields.String(allow_none=True)
    number_as_text = fields.Integer(as_string=True)
    ratio = fields.Float()
    flag = fields.Boolean()
    day = fields.Date(allow_none=True)
    moment = fields.DateTime()
    moment_rfc = fields.DateTime(format="rfc")
    renamed = fields.String(data_key="shown_as", attribute="label")
    dotted = fields.String(attribute="inner.text")
    defaulted = fields.String(dump_default="none given")
    computed = fields.Function(lambda o: o.id * 2)
    method = fields.Method("_twice")
    items = fields.List(fields.Integer())
    inner = fields.Nested(lambda: _Inner(), allow_none=True)

    def _twice(self, obj):
        return [obj.text, obj.text]


class _Inner(Schema):
    text = fields.String()


class _Thing:
    def __init__(self, **values):
        self.__dict__.update(values)


THINGS = [
    _Thing(
        id=3,
        text="压力",
        label="标签",
        number_as_text=7,
        ratio=0.5,
        flag=True,
        day=date(2026, 1, 2),
        moment=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        moment_rfc=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        items=[1, 2],
        inner=_Thing(text="内"),
    ),
    _Thing(
        id=4,
        text=None,
        label=None,
        number_as_text=0,
        ratio=1,
        flag=None,
        day=None,
        moment=None,
        moment_rfc=None,
        items=[],
        inner=None,
    ),
    _Thing(
        id=5.0,
        text=12,
        label=3,
        number_as_text="8",
        ratio="1.5",
        flag=0,
        day=None,
        moment=None,
        moment_rfc=None,
        items=[],
        inner=None,
    ),
]


@pytest.mark.parametrize("thing", THINGS, ids=["full", "nulls", "loose types"])
def test_every_kind_of_field_dumps_as_the_schema_dumps_it(thing):
    schema = _Kinds()

    # repr: 5 == 5.0, but the JSON differs
    assert repr(plain_dumper(schema)(thing)) == repr(schema.dump(thing))


def test_a_missing_attribute_is_left_out_as_the_schema_leaves_it_out():
    schema = _Kinds(only=("id", "text", "day"))

    assert plain_dumper(schema)(_Thing(id=1)) == schema.dump(_Thing(id=1)) == {"id": 1}


def test_a_schema_with_dump_hooks_is_dumped_by_the_schema():
    class Hooked(Schema):
        id = fields.Integer()

        @post_dump
        def _add(self, data, **_kwargs):
            return data | {"hooked": True}

    assert plain_dumper(Hooked())(_Thing(id=1)) == {"id": 1, "hooked": True}
