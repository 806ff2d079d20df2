"""Demo data: an institute, two client firms, users of every role and ~300 instruments.

Deterministic (a fixed random seed), with due dates spread from overdue to a year ahead relative
to the day it is loaded, so every recall view has something in it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Instrument, Organization
from service.actors import Actor
from service.assistance import operations as assistance_ops
from service.clock import now_utc, today_in
from service.demo_measurement import load_measurement
from service.ledger import operations as ledger_ops
from service.ledger.dates import add_months
from service.measurement.projects import operations as project_ops
from service.nominations import operations as nomination_ops
from service.orders import operations as order_ops
from service.reminders import policy as reminder_policy
from service.tenancy import operations as tenancy_ops
from service.traceability import operations as records
from service.validation import credit_code_check_char
from service.visits import operations as visit_ops
from service.visits import proposals as visit_planning
from service.visits import technicians as visit_technicians
from service.visits.operations import NewVisit

DEMO_PASSWORD = "demo-pass-2026"

#: (name, model, range, accuracy, control method, mandatory use or None, usual interval)
CATALOGUE = [
    ("一般压力表", "Y-100", "0~1.6 MPa", "1.6级", "verification", "safety", 6),
    ("精密压力表", "YB-150", "0~2.5 MPa", "0.4级", "verification", "safety", 12),
    ("电子汽车衡", "SCS-100", "0~100 t", "III级", "verification", "trade", 12),
    ("电子计价秤", "ACS-15", "0~15 kg", "III级", "verification", "trade", 12),
    ("可燃气体检测报警器", "GT-2000", "0~100 %LEL", "±5 %FS", "verification", "safety", 12),
    ("声级计", "AWA5688", "28~133 dB", "2级", "verification", "environment", 12),
    ("血压计", "XJ11D", "0~300 mmHg", "±3 mmHg", "verification", "medical", 12),
    ("游标卡尺", "0-150mm", "0~150 mm", "MPE ±0.02 mm", "calibration", None, 12),
    ("外径千分尺", "0-25mm", "0~25 mm", "MPE ±0.004 mm", "calibration", None, 12),
    ("百分表", "0-10mm", "0~10 mm", "MPE ±0.015 mm", "calibration", None, 12),
    ("电子天平", "FA2004", "0~200 g", "I级", "calibration", None, 12),
    ("数字万用表", "Fluke 17B+", "DC 0~1000 V", "±0.5%", "calibration", None, 12),
    ("压力变送器", "EJA530E", "0~4 MPa", "0.075级", "calibration", None, 12),
    ("热电偶", "WRN-230", "0~1300 ℃", "II级", "calibration", None, 12),
    ("玻璃液体温度计", "0-100℃", "0~100 ℃", "分度值 0.1 ℃", "calibration", None, 24),
    ("扭矩扳手", "TW-200", "40~200 N·m", "±4%", "calibration", None, 12),
    ("电磁流量计", "LDG-50", "0~60 m³/h", "0.5级", "calibration", None, 24),
    ("钢直尺", "1000mm", "0~1000 mm", "MPE ±0.2 mm", "self_check", None, 24),
    ("温湿度计", "TH101", "-20~60 ℃", "±0.5 ℃", "self_check", None, 12),
    ("塞尺", "0.02-1mm", "0.02~1 mm", "—", "one_off", None, 0),
]
STANDARDS = [
    ("活塞式压力计", "YS-60", "0.1~6 MPa", "0.02级"),
    ("标准铂电阻温度计", "WZPB-2", "0~419.527 ℃", "二等"),
    ("E2等级砝码组", "1 mg~200 g", "1 mg~200 g", "E2"),
    ("多功能校准仪", "Fluke 5522A", "DC 0~1020 V", "±0.003%"),
    ("量块", "83块组", "0.5~100 mm", "3等"),
    ("标准声源", "ND9", "94/114 dB", "1级"),
]
FIRMS = [
    {
        "slug": "demo-firm-a",
        "name": "郑州华原精密机械有限公司（演示）",
        "region_code": "410100",
        "industry": "高档数控机床和机器人",
        "employees": 860,
        "annual_revenue_wan": 32000,
        "stem": "91410100MA45HY01",
        "departments": ["质检部", "一车间", "二车间", "动力部", "计量室", "仓储部"],
        "count": 175,
        "mail": "firm-a.example.cn",
    },
    {
        "slug": "demo-firm-b",
        "name": "洛阳宏达化工有限公司（演示）",
        "region_code": "410300",
        "industry": "新材料",
        "employees": 1650,
        "annual_revenue_wan": 128000,
        "stem": "91410300MA47HD02",
        "departments": ["质检中心", "合成车间", "安环部", "设备部", "储运部"],
        "count": 100,
        "mail": "firm-b.example.cn",
    },
]
#: Days to the due date of a firm's first instruments: each step of the reminder ladder is hit on
#: the day the demo is loaded (30/15/7/0 days before, 7 and 14 days overdue, the second overdue
#: step reaching the admins too), so the outbox and the inboxes have something to show at once.
DUE_TODAY_STEPS = [30, 30, 15, 7, 7, 0, -7, -14]
#: Firm A's reminder policy: an earlier ladder for mandatory instruments and a lower SMS ceiling.
FIRM_A_POLICY = {
    "mandatory_offsets_days": [60, 30, 15, 7, 0],
    "sms_daily_limit": 100,
    "working_days_only": True,
}
PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴婷", "徐明", "孙丽"]


def _credit_code(stem16: str) -> str:
    first17 = stem16 + "X"
    return first17 + credit_code_check_char(first17)


def _user(session: Session, org: Organization, email: str, role: str, name: str, mobile: str):
    return tenancy_ops.create_user(
        session, org, {"email": email, "role": role, "name": name, "mobile": mobile}, DEMO_PASSWORD
    )


def _instrument_payload(
    rng: random.Random, number: str, item: tuple, today: date, dept: str, custodian, due_in: int | None = None
) -> dict:
    name, model, rng_text, accuracy, method, use, interval = item
    payload = {
        "management_no": number,
        "name": name,
        "model": model,
        "measuring_range": rng_text,
        "accuracy": accuracy,
        "serial_no": f"{rng.randint(2018, 2025)}{rng.randint(10000, 99999)}",
        "manufacturer": rng.choice(
            ["上海自动化仪表", "西安仪表厂", "梅特勒-托利多", "福禄克", "红旗仪表", "杭州华光"]
        ),
        "department": dept,
        "location": f"{dept}{rng.randint(1, 6)}号工位",
        "control_method": method,
        "interval_months": interval,
        "abc_class": "A" if use else rng.choice("ABBBC"),
        "is_mandatory": use is not None,
        "mandatory_use": use,
    }
    payload.update(custodian)
    if interval:
        # Due dates from two months overdue to a year ahead; the last date is never in the future.
        if due_in is None:
            due_in = rng.randint(-60, min(365, interval * 30 - 1))
        due = today + timedelta(days=due_in)
        last = add_months(due, -interval) + timedelta(days=1)
        done = min(last, today)
        payload["last_done_on"] = done.isoformat()
        payload["lab"] = (
            "河南省计量测试科学研究院（演示）"
            if method == "verification"
            else rng.choice(["河南省计量测试科学研究院（演示）", "郑州市计量技术研究所", "本厂计量室"])
        )
        payload["certificate_no"] = (
            f"{'JD' if method == 'verification' else 'JZ'}{done.year}-{rng.randint(1, 99999):05d}"
        )
        payload["certificate_type"] = {
            "verification": "verification_certificate",
            "calibration": "calibration_certificate",
        }.get(method, "test_report")
        payload["conclusion"] = "limited" if rng.random() < 0.04 else "pass"
    return payload


def load_demo(
    session: Session, base_url: str = "http://127.0.0.1:5000"
) -> tuple[bool, list[tuple[str, str, str]]]:
    """Load the demo organisations unless present; return whether it did and the logins."""
    logins = [
        ("河南省计量测试科学研究院（演示）", f"{role}@demo-institute.example.cn", role)
        for role in ("admin", "staff", "technician")
    ]
    for firm in FIRMS:
        logins += [
            (firm["name"], f"{role}@{firm['mail']}", role) for role in ("admin", "metrology", "viewer")
        ]
    if session.scalar(select(Organization.id).where(Organization.slug == "demo-institute")):
        return False, logins
    rng = random.Random(2026)
    today = today_in("Asia/Shanghai")
    institute = tenancy_ops.create_org(
        session,
        {
            "slug": "demo-institute",
            "name": "河南省计量测试科学研究院（演示）",
            "kind": "institute",
            "region_code": "410100",
            "credit_code": _credit_code("12410000MB0D5E01"),
        },
    )
    inst_users = {
        role: _user(session, institute, f"{role}@demo-institute.example.cn", role, name, mobile)
        for role, name, mobile in [
            ("admin", "马建国", "13703710001"),
            ("staff", "高晓燕", "13703710002"),
            ("technician", "郭志强", "13703710003"),
        ]
    }
    inst_actor = Actor.of(inst_users["admin"])
    tenancy_ops.create_department(session, inst_actor, {"name": "标准室"})
    _technicians(session, inst_actor, inst_users["technician"].id, today)
    for n, (name, model, rng_text, accuracy) in enumerate(STANDARDS * 4, start=1):
        item = (name, model, rng_text, accuracy, "verification", None, 12)
        payload = _instrument_payload(
            rng, f"BZ-{n:03d}", item, today, "标准室", {"custodian_user_id": inst_users["technician"].id}
        )
        payload.update(
            {"abc_class": "A", "lab": "中国计量科学研究院", "is_mandatory": False, "mandatory_use": None}
        )
        ledger_ops.create_instrument(session, inst_actor, payload, today)

    for firm_no, firm in enumerate(FIRMS, start=1):
        org = tenancy_ops.create_org(
            session,
            {
                "slug": firm["slug"],
                "name": firm["name"],
                "kind": "firm",
                "region_code": firm["region_code"],
                "industry": firm["industry"],
                "employees": firm["employees"],
                "annual_revenue_wan": firm["annual_revenue_wan"],
                "credit_code": _credit_code(firm["stem"]),
            },
        )
        tenancy_ops.link_client(session, institute.id, org.id)
        users = {
            role: _user(
                session,
                org,
                f"{role}@{firm['mail']}",
                role,
                PEOPLE[i + (3 if org.slug.endswith("b") else 0)],
                f"1390371{firm_no:02d}{i:02d}",
            )
            for i, role in enumerate(("admin", "metrology", "viewer"))
        }
        admin, metrology = Actor.of(users["admin"]), Actor.of(users["metrology"])
        for dept in firm["departments"]:
            tenancy_ops.create_department(session, admin, {"name": dept})
        prefix = "HY" if org.slug.endswith("a") else "HD"
        created = []
        if org.slug.endswith("a"):
            reminder_policy.update_policy(session, admin, FIRM_A_POLICY)
        # The steps come after the nine instruments whose status changes below.
        steps = dict(enumerate(DUE_TODAY_STEPS, start=10))
        for n in range(1, firm["count"] + 1):
            item = rng.choice(CATALOGUE[:-1] if n in steps else CATALOGUE)  # the last is one-off: no due date
            dept = rng.choice(firm["departments"])
            if rng.random() < 0.5:
                custodian = {"custodian_user_id": users[rng.choice(["metrology", "admin"])].id}
            else:
                custodian = {
                    "custodian": rng.choice(PEOPLE),
                    "custodian_mobile": f"138{rng.randint(10000000, 99999999)}",
                }
            payload = _instrument_payload(
                rng, f"{prefix}-JL-{n:04d}", item, today, dept, custodian, steps.get(n)
            )
            created.append(ledger_ops.create_instrument(session, metrology, payload, today))
        # A few instruments in every state of the lifecycle, and requests awaiting approval.
        for instrument, action in zip(
            created[:6], ["suspend", "seal", "scrap", "suspend", "seal", "suspend"], strict=True
        ):
            request = ledger_ops.request_status_change(
                session,
                metrology,
                instrument.id,
                action,
                "演示："
                + {"suspend": "示值超差，待维修", "seal": "产线停用，长期封存", "scrap": "损坏无法修复"}[
                    action
                ],
            )
            if instrument.id % 2 == 0 or action == "scrap":
                ledger_ops.decide_status_request(session, admin, request.id, True, "同意")
        for instrument in created[6:9]:
            ledger_ops.update_instrument(
                session, metrology, instrument.id, {"status": "out_for_calibration"}, today, partial=True
            )
        _renewal_history(session, metrology, created, today, rng)
        if org.slug.endswith("a"):
            _traceability(session, institute, metrology, created[20:], today)
            firm_a_engineer, firm_a_ledger = metrology, created
        else:
            firm_b_engineer = metrology
    staff = Actor.of(inst_users["staff"])
    _campaign(session, Actor.of(inst_users["admin"]), today)
    _visits(session, staff, firm_a_engineer, today, base_url)
    _orders(session, staff, institute.id, firm_b_engineer, firm_a_engineer, today, base_url)
    _assistance(session, staff, firm_a_engineer.org_id, firm_b_engineer.org_id, today)
    in_service = [i for i in firm_a_ledger[20:] if i.status == "in_service"]
    load_measurement(
        session,
        firm_a_engineer,
        _first(in_service, "电子天平"),
        _first(in_service, "数字万用表"),
        staff,
        session.scalar(
            select(Instrument).where(Instrument.org_id == institute.id, Instrument.management_no == "BZ-001")
        ),
        today,
        now_utc(),
        base_url,
    )
    _comparison_project(session, staff, firm_a_engineer, firm_b_engineer, today)
    return True, logins


def _comparison_project(session: Session, staff: Actor, firm_a: Actor, firm_b: Actor, today: date) -> None:
    """A provincial comparison the institute leads: two clients and an outside lab, results in."""
    project = project_ops.create_project(
        session,
        staff,
        {
            "code": f"HNBD-{today.year}-03",
            "title": f"{today.year}年河南省精密压力表示值比对",
            "quantity": "压力",
            "unit": "MPa",
            "transfer_standard": "0.02级数字压力计（编号 DPG-2201）",
            "protocol": "传递顺序：主导实验室 → 各参比实验室 → 主导实验室；"
            "每个实验室保留传递标准不超过 5 个工作日。",
            "starts_on": (today - timedelta(days=40)).isoformat(),
            "results_due_on": (today + timedelta(days=20)).isoformat(),
            "reference_kind": "weighted_mean",
            "points": [{"nominal": "2"}, {"nominal": "6"}, {"nominal": "10"}],
        },
    )
    firms = [
        project_ops.add_participant(session, staff, project.id, {"firm_id": firm.org_id})
        for firm in (firm_a, firm_b)
    ]
    outside = project_ops.add_participant(
        session, staff, project.id, {"lab_name": "郑州市计量检定测试所", "cnas_no": "CNAS L0356"}
    )
    measured = (today - timedelta(days=10)).isoformat()
    values = {
        firms[0].id: [("2.0004", "0.0016"), ("6.0010", "0.0030"), ("10.0012", "0.0040")],
        firms[1].id: [("1.9996", "0.0016"), ("5.9992", "0.0030"), ("9.9990", "0.0040")],
        outside.id: [("2.0001", "0.0010"), ("6.0002", "0.0020"), ("10.0003", "0.0030")],
    }
    for firm, participant in zip((firm_a, firm_b), firms, strict=True):
        instrument = session.scalar(
            select(Instrument)
            .where(Instrument.org_id == firm.org_id, Instrument.status == "in_service")
            .order_by(Instrument.id)
        )
        payload = {
            "measured_on": measured,
            "management_no": instrument.management_no,
            "results": [{"value": v, "uncertainty": u} for v, u in values[participant.id]],
        }
        project_ops.enter_own_results(session, firm, project.id, payload, today, now_utc())
    project_ops.enter_results(
        session,
        staff,
        project.id,
        outside.id,
        {"measured_on": measured, "results": [{"value": v, "uncertainty": u} for v, u in values[outside.id]]},
        today,
        now_utc(),
    )


def _assistance(session: Session, staff: Actor, firm_a: int, firm_b: int, today: date) -> None:
    """This year's SME assistance plan (the provincial 2020 quotas) and help given to both firms."""
    assistance_ops.load_reference_plan(session, staff, today.year)
    for firm_id, kind, days_ago, note in (
        (firm_a, "survey", 40, "走访调研计量管理现状"),
        (firm_a, "mms_training", 20, "测量管理体系内审员培训 2 人"),
        (firm_a, "calibration_service", 5, "压力表现场校准"),
        (firm_b, "consultation", 12, "计量器具分类管理咨询"),
    ):
        on = max(today - timedelta(days=days_ago), date(today.year, 1, 1))
        assistance_ops.add_record(
            session, staff, {"firm_id": firm_id, "done_on": on.isoformat(), "kind": kind, "note": note}, today
        )


def _orders(
    session: Session,
    staff: Actor,
    institute_id: int,
    mailer: Actor,
    requester: Actor,
    today: date,
    base_url: str,
) -> None:
    """Firm B's parcel received by the institute; firm A's request for work on site awaiting an answer."""
    now = now_utc()

    def far_due(actor: Actor, count: int) -> list[str]:
        return list(
            session.scalars(
                select(Instrument.management_no)
                .where(
                    Instrument.org_id == actor.org_id,
                    Instrument.status == "in_service",
                    Instrument.interval_months > 0,
                )
                .order_by(Instrument.next_due_on.desc(), Instrument.id)
                .limit(count)
            )
        )

    parcel = order_ops.submit_order(
        session,
        mailer,
        {
            "institute_id": institute_id,
            "method": "mail_in",
            "courier": "顺丰速运",
            "tracking_no": "SF1402938475612",
            "note": "演示：两台天平请一并校准",
            "management_nos": far_due(mailer, 2),
        },
        today,
        base_url,
        now,
    )
    for action in ("accept", "receive"):
        order_ops.transition(session, staff, parcel.id, {"action": action}, today, base_url, now)
    _returned_order(session, staff, institute_id, requester, today, base_url, far_due(requester, 5)[2:5])
    order_ops.submit_order(
        session,
        requester,
        {
            "institute_id": institute_id,
            "method": "on_site",
            "note": "演示：汽车衡请上门检定",
            "management_nos": far_due(requester, 1),
        },
        today,
        base_url,
        now,
    )


#: When each step of the demo's returned parcel was taken, in days before the demo was loaded.
RETURNED_ORDER_DAYS_AGO = {"accepted": 9, "received": 8, "in_progress": 8, "completed": 5, "returned": 4}


def _returned_order(
    session: Session, staff: Actor, institute_id: int, firm: Actor, today: date, base_url: str, numbers
) -> None:
    """Firm A's parcel of last week: received, calibrated and returned (the service statistics' figures)."""
    now = now_utc()
    order = order_ops.submit_order(
        session,
        firm,
        {
            "institute_id": institute_id,
            "method": "mail_in",
            "courier": "EMS",
            "tracking_no": "EA204871635CN",
            "note": "演示：三台仪表送检",
            "management_nos": list(numbers),
        },
        today - timedelta(days=9),
        base_url,
        now - timedelta(days=9),
    )
    for action, days_ago in (("accept", 9), ("receive", 8), ("start", 8)):
        order_ops.transition(
            session, staff, order.id, {"action": action}, today, base_url, now - timedelta(days=days_ago)
        )
    for item in order.items:
        order_ops.record_item(
            session,
            staff,
            order.id,
            item.id,
            {
                "kind": "calibration",
                "confirmation": "fit",
                "performed_on": (today - timedelta(days=6)).isoformat(),
            },
            today,
        )
    order_ops.transition(
        session, staff, order.id, {"action": "complete"}, today, base_url, now - timedelta(days=5)
    )
    order_ops.transition(
        session,
        staff,
        order.id,
        {"action": "return", "courier": "EMS", "tracking_no": "EA204871649CN"},
        today,
        base_url,
        now - timedelta(days=4),
    )
    # The steps are stamped as they are taken; the demo's parcel took its time over last week.
    for step in order.steps:
        step.at = now - timedelta(days=RETURNED_ORDER_DAYS_AGO.get(step.state, 9))


def _visits(session: Session, staff: Actor, client: Actor, today: date, base_url: str) -> None:
    """The next two weeks' plan proposed to the clients; firm A has confirmed its first visit."""
    proposal = visit_planning.propose(session, staff, today, 14)
    chosen = [
        NewVisit(proposal.clients[v.client].id, v.date, dict(v.assignments), v.earliest_due_on)
        for v in proposal.plan.visits[:3]
    ]
    visits = visit_ops.create_visits(session, staff, chosen, today, base_url, now_utc())
    first_of_a = next((v for v in visits if v.firm_id == client.org_id), None)
    if first_of_a is not None:
        visit_ops.answer(session, client, first_of_a.id, {"answer": "confirm"}, today, base_url, now_utc())


#: The demo institute's technicians: name, disciplines, instruments a day.
TECHNICIANS = [
    ("郭志强", ["pressure", "temperature"], 8),
    ("王建军", ["mass", "length"], 10),
    ("陈晓东", ["electrical", "flow", "torque"], 6),
    ("赵丽", ["acoustics", "chemistry", "medical", "length"], 6),
]


def _technicians(session: Session, admin: Actor, user_id: int, today: date) -> None:
    """Technicians for visit planning, the first with the technician's account and a week away soon."""
    for n, (name, disciplines, capacity) in enumerate(TECHNICIANS):
        technician = visit_technicians.save_technician(
            session,
            admin,
            {
                "name": name,
                "disciplines": disciplines,
                "daily_capacity": capacity,
                "user_id": user_id if n == 0 else None,
            },
        )
        if n == 0:
            for offset in range(7, 12):  # training next week
                day = (today + timedelta(days=offset)).isoformat()
                visit_technicians.add_day_off(session, admin, technician.id, {"day": day, "reason": "培训"})


def _campaign(session: Session, admin: Actor, today: date) -> None:
    """The yearly campaign, open for nominations from two days ago for two weeks, and two recommenders."""
    campaign = nomination_ops.create_campaign(
        session,
        admin,
        {
            "kind": "traceability_advanced",
            "title": f"{today.year}年度计量溯源先进单位评选（演示）",
            "year": today.year,
            "co_organisers": "河南省计量测试学会\n河南省计量协会",
            "notice_text": "为推动企业建立完善的量值溯源体系，现开展计量溯源先进单位评选活动。"
            "请各推荐单位组织符合条件的企业在申报期内提交推荐材料。",
            "categories": ["计量体系建设", "计量文化建设", "计量数据积累与应用"],
            "conditions": ["近三年未发生重大计量违法行为", "无不良信用记录"],
            "objection_contacts": "王老师 0371-65000000",
            "no_fee_statement": "评选活动不收取任何费用。",
            "nomination_opens_on": (today - timedelta(days=2)).isoformat(),
            "nomination_closes_on": (today + timedelta(days=12)).isoformat(),
            "review_opens_on": (today + timedelta(days=13)).isoformat(),
            "review_closes_on": (today + timedelta(days=15)).isoformat(),
        },
    )
    nomination_ops.move_campaign(session, admin, campaign.id, {"to": "open"}, today)
    for name, kind in (("力学与热工研究所", "department"), ("河南省装备制造业计量联盟", "alliance")):
        nomination_ops.save_recommender(
            session, admin, None, {"name": name, "kind": kind, "member_ids": [admin.user_id]}
        )


#: Instruments whose history ``_traceability`` writes itself.
TRACEABILITY_NAMES = frozenset({"精密压力表", "压力变送器", "一般压力表", "电子天平", "游标卡尺"})


def _renewal_history(session: Session, engineer: Actor, instruments, today: date, rng: random.Random) -> None:
    """The result before the last one, for instruments renewed in the past year: most on time.

    Without it the ledger would know only each instrument's newest result, and the evidence
    dossier's on-time rate would count nothing but the overdue ones.
    """
    year_ago = add_months(today, -12)
    for instrument in instruments:
        last = instrument.last_done_on
        if instrument.name in TRACEABILITY_NAMES or not instrument.interval_months or last is None:
            continue
        if last <= year_ago:
            continue
        # Valid through the day before the anniversary: renewed on time when done by then.
        early = rng.randint(1, 25) if rng.random() < 0.9 else -rng.randint(0, 20)
        previous = add_months(last, -instrument.interval_months) + timedelta(days=early)
        records.record_result(
            session,
            engineer,
            instrument.id,
            {
                "kind": instrument.control_method,
                "performed_on": previous.isoformat(),
                "lab_name": instrument.lab,
                "certificate_no": f"{instrument.certificate_no}-{previous.year}",
                **(
                    {"confirmation": "fit"}
                    if instrument.control_method == "calibration"
                    else {"conclusion": "pass"}
                ),
            },
            today,
        )


def _first(instruments, name: str, skip: int = 0):
    return [i for i in instruments if i.name == name][skip]


def _traceability(
    session: Session, institute: Organization, engineer: Actor, instruments, today: date
) -> None:
    """Records that show each part of the traceability history on firm A's ledger.

    A working standard of the firm's metrology room verified by the institute twice (the first
    certificate ran out before the second visit), gauges self-checked against it (one while its
    certificate had run out: a red link in the chain), a failed gauge with its open nonconformity
    case, a calibration awaiting its confirmation, and a caliper whose steady history suggests a
    longer interval.
    """
    day = lambda months, days=0: (add_months(today, months) + timedelta(days=days)).isoformat()  # noqa: E731
    standard = _first(instruments, "精密压力表")
    piston = {
        "name": "活塞式压力计 YS-60",
        "certificate_no": "国计压2025-0127",
        "lab_name": "中国计量科学研究院",
    }
    for performed, certificate in ((day(-14), "JD2025-00311"), (day(0, -20), "JD2026-01877")):
        records.record_result(
            session,
            engineer,
            standard.id,
            {
                "kind": "verification",
                "performed_on": performed,
                "lab_org_id": institute.id,
                "certificate_no": certificate,
                "certificate_type": "verification_certificate",
                "conclusion": "pass",
                "performed_by": "郭志强",
                "temperature": "20.2 ℃",
                "humidity": "48 %RH",
                "standards": [{**piston, "valid_until": day(6)}],
            },
            today,
        )
    # Transmitters (not 强检) are self-checked against the standard; a mandatory gauge is verified.
    gauges = [_first(instruments, "压力变送器", n) for n in range(2)] + [_first(instruments, "一般压力表")]
    point = {"phase": "as_found", "point": "1.0 MPa", "unit": "MPa", "nominal": "1.0", "mpe": "0.016"}
    for gauge, performed, reading in ((gauges[0], day(0, -10), "1.004"), (gauges[1], day(0, -45), "1.006")):
        records.record_result(
            session,
            engineer,
            gauge.id,
            {
                "kind": "self_check",
                "performed_on": performed,
                "certificate_type": "internal_record",
                "certificate_no": f"ZJ-{performed}",
                "conclusion": "pass",
                "performed_by": engineer.name,
                "readings": [{**point, "reading": reading}],
                "standards": [{"management_no": standard.management_no}],
            },
            today,
        )
    records.record_result(
        session,
        engineer,
        gauges[2].id,
        {
            "kind": "verification",
            "performed_on": today.isoformat(),  # newer than the ledger's date: the case opens
            "lab_org_id": institute.id,
            "certificate_no": f"JT{today.year}-00042",
            "certificate_type": "verification_notice",
            "conclusion": "fail",
            "performed_by": "郭志强",
            "readings": [{**point, "reading": "1.041"}],
            "notes": "示值误差超差，回程误差超差",
        },
        today,
    )
    balance = _first(instruments, "电子天平")
    records.record_result(
        session,
        engineer,
        balance.id,
        {
            "kind": "calibration",
            "performed_on": day(0, -5),
            "lab_name": "郑州市计量技术研究所",
            "lab_cnas_no": "CNAS L1234",
            "certificate_no": f"JZ{today.year}-07731",
            "certificate_type": "calibration_certificate",
            "uncertainty": "U = 0.2 mg, k = 2",
            "readings": [
                {
                    "phase": "as_found",
                    "point": "100 g",
                    "unit": "g",
                    "nominal": "100",
                    "reading": "100.0003",
                    "mpe": "0.0005",
                },
                {
                    "phase": "as_found",
                    "point": "200 g",
                    "unit": "g",
                    "nominal": "200",
                    "reading": "200.0004",
                    "mpe": "0.0010",
                },
            ],
        },
        today,
    )
    caliper = _first(instruments, "游标卡尺")
    for years_ago in (3, 2, 1):
        records.record_result(
            session,
            engineer,
            caliper.id,
            {
                "kind": "calibration",
                "performed_on": day(-12 * years_ago, 3),
                "lab_name": "郑州市计量技术研究所",
                "certificate_no": f"JZ{today.year - years_ago}-0{years_ago}115",
                "certificate_type": "calibration_certificate",
                "confirmation": "fit",
                "readings": [
                    {
                        "phase": "as_found",
                        "point": "100 mm",
                        "unit": "mm",
                        "nominal": "100",
                        "reading": "100.004",
                        "mpe": "0.02",
                    }
                ],
            },
            today,
        )
