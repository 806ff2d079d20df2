"""Disciplines (专业) of measurement: which kind of technician and standard an instrument needs.

Ledgers do not carry a discipline column, so it is read from the instrument's name (and its
catalogue item), the way an institute's dispatcher sorts a client's list: 压力表 goes to the
pressure lab, 天平 to mass. The keywords are checked in order, the more specific first.
"""

from __future__ import annotations

from service.i18n import N_

#: Codes and their names as messages to translate at the boundary (the planner's reasons carry them).
DISCIPLINE_NAMES = {
    "length": N_("Length"),
    "pressure": N_("Pressure"),
    "mass": N_("Mass and weighing"),
    "temperature": N_("Temperature"),
    "electrical": N_("Electrical"),
    "flow": N_("Flow"),
    "torque": N_("Force and torque"),
    "acoustics": N_("Acoustics"),
    "chemistry": N_("Physical chemistry"),
    "medical": N_("Medical"),
    "other": N_("Other"),
}
#: The codes, in the order boards list them.
DISCIPLINES = tuple(DISCIPLINE_NAMES)

#: (keyword, discipline): the first keyword found in the name or catalogue item decides.
KEYWORDS = (
    ("血压", "medical"),
    ("体温计", "medical"),  # not "体温": 液体温度计 is a thermometer of the lab
    ("眼压", "medical"),
    ("心电", "medical"),
    ("流量", "flow"),
    ("水表", "flow"),
    ("燃气表", "flow"),
    ("加油机", "flow"),
    ("扭矩", "torque"),
    ("扳手", "torque"),
    ("测力", "torque"),
    ("拉力", "torque"),
    ("硬度", "torque"),
    ("压力", "pressure"),
    ("压强", "pressure"),
    ("真空", "pressure"),
    ("气压", "pressure"),
    ("衡", "mass"),  # 衡器, 汽车衡, 地衡
    ("秤", "mass"),
    ("天平", "mass"),
    ("砝码", "mass"),
    ("称重", "mass"),
    ("温度", "temperature"),
    ("温湿度", "temperature"),
    ("热电偶", "temperature"),
    ("热电阻", "temperature"),
    ("铂电阻", "temperature"),
    ("测温", "temperature"),
    ("恒温", "temperature"),
    ("万用表", "electrical"),
    ("电压", "electrical"),
    ("电流", "electrical"),
    ("电阻", "electrical"),
    ("电能表", "electrical"),
    ("电表", "electrical"),
    ("兆欧", "electrical"),
    ("绝缘", "electrical"),
    ("校准仪", "electrical"),
    ("示波器", "electrical"),
    ("声级", "acoustics"),
    ("声源", "acoustics"),
    ("噪声", "acoustics"),
    ("气体", "chemistry"),
    ("酸度", "chemistry"),
    ("pH", "chemistry"),
    ("分光光度", "chemistry"),
    ("水分", "chemistry"),
    ("烟度", "chemistry"),
    ("卡尺", "length"),
    ("千分尺", "length"),
    ("百分表", "length"),
    ("千分表", "length"),
    ("量块", "length"),
    ("直尺", "length"),
    ("卷尺", "length"),
    ("塞尺", "length"),
    ("角尺", "length"),
    ("量规", "length"),
    ("高度尺", "length"),
    ("测厚", "length"),
    ("投影仪", "length"),
)


def discipline_of(name: str | None, catalog_item: str | None = None) -> str:
    """Return the discipline code of an instrument from its name and catalogue item (``other``)."""
    text = f"{name or ''} {catalog_item or ''}"
    return next((code for keyword, code in KEYWORDS if keyword in text), "other")
