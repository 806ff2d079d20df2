"""Disciplines read from instrument names, as a dispatcher sorts a client's list."""

from __future__ import annotations

import pytest

from service.visits.disciplines import DISCIPLINES, discipline_of


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("一般压力表", "pressure"),
        ("压力变送器", "pressure"),
        ("电子汽车衡", "mass"),
        ("电子计价秤", "mass"),
        ("E2等级砝码组", "mass"),
        ("标准铂电阻温度计", "temperature"),  # temperature, not electrical resistance
        ("温湿度计", "temperature"),
        ("玻璃液体温度计", "temperature"),
        ("电子体温计", "medical"),
        ("热电偶", "temperature"),
        ("数字万用表", "electrical"),
        ("多功能校准仪", "electrical"),
        ("电磁流量计", "flow"),
        ("扭矩扳手", "torque"),
        ("声级计", "acoustics"),
        ("可燃气体检测报警器", "chemistry"),
        ("血压计", "medical"),
        ("游标卡尺", "length"),
        ("外径千分尺", "length"),
        ("钢直尺", "length"),
        ("冷却塔", "other"),
        (None, "other"),
    ],
)
def test_disciplines_of_common_instruments(name, expected):
    assert discipline_of(name) == expected
    assert expected in DISCIPLINES


def test_the_catalogue_item_helps_when_the_name_does_not():
    assert discipline_of("DG-3 型", "非自动衡器") == "mass"
