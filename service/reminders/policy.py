"""A firm's reminder policy: reading it (with defaults), checking and saving changes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validates_schema
from sqlalchemy.orm import Session

from models import ReminderPolicy
from service.actors import Actor
from service.errors import invalid_field
from service.i18n import N_
from service.reminders.rules import DEFAULT_OFFSETS, Ladder, Window
from service.schemas import Flag, StrictSchema, Text, WholeNumber, int_range, load_or_invalid

#: Group robots are called from the server, so only their official addresses are accepted.
ROBOT_HOSTS = {"wecom_url": "qyapi.weixin.qq.com", "dingtalk_url": "oapi.dingtalk.com"}
MAX_OFFSET_DAYS = 365
MAX_OFFSETS = 10


def defaults(org_id: int) -> ReminderPolicy:
    """Return the policy a firm has before it changes anything (not added to the session)."""
    return ReminderPolicy(
        org_id=org_id,
        offsets_days=list(DEFAULT_OFFSETS),
        mandatory_offsets_days=None,
        overdue_every_days=7,
        escalate_from=2,
        to_custodian=True,
        to_metrology=True,
        to_department_head=True,
        window_start=time(9, 0),
        window_end=time(18, 0),
        working_days_only=False,
        sms_daily_limit=200,
    )


def get_policy(session: Session, org_id: int) -> ReminderPolicy:
    """Return the firm's policy, or the defaults when it has none."""
    return session.get(ReminderPolicy, org_id) or defaults(org_id)


def ladder_of(policy: ReminderPolicy) -> Ladder:
    """Return the policy's ladder for the planner."""
    mandatory = policy.mandatory_offsets_days
    return Ladder(
        offsets=tuple(policy.offsets_days),
        mandatory_offsets=tuple(mandatory) if mandatory else None,
        overdue_every=policy.overdue_every_days,
        escalate_from=policy.escalate_from,
    )


def window_of(policy: ReminderPolicy) -> Window:
    """Return the policy's sending window."""
    return Window(policy.window_start, policy.window_end, policy.working_days_only)


RECIPIENT_FIELDS = ("to_custodian", "to_metrology", "to_department_head")
NO_RECIPIENT = N_("Tick at least one recipient: with none, no one would be reminded.")
NEGATIVE_DAYS = N_("Give days before the due date as 0 or more; overdue reminders follow their own setting.")


class DayList(fields.Field):
    """Days as a list of whole numbers or as text like "30, 15, 7, 0" (also with ， or 、)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            parts = [p for p in re.split(r"[\s,，、;；]+", value.strip()) if p]
        elif isinstance(value, list | tuple):
            parts = list(value)
        else:
            raise ValidationError(N_("Enter days as whole numbers separated by commas, e.g. 30, 15, 7, 0."))
        days: set[int] = set()
        for part in parts:
            if isinstance(part, bool) or not (
                isinstance(part, int) or (isinstance(part, str) and part.isascii() and part.isdigit())
            ):
                raise ValidationError(
                    N_("Enter days as whole numbers separated by commas, e.g. 30, 15, 7, 0.")
                )
            day = int(part)
            if day < 0:  # a JSON number may be negative; text is refused above
                raise ValidationError(NEGATIVE_DAYS)
            if day > MAX_OFFSET_DAYS:
                raise ValidationError(
                    N_("At most %(limit)s days before the due date.", limit=MAX_OFFSET_DAYS)
                )
            days.add(day)
        if len(days) > MAX_OFFSETS:
            raise ValidationError(N_("At most %(limit)s reminders before a due date.", limit=MAX_OFFSETS))
        return sorted(days, reverse=True)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else list(value)


class Clock(fields.Field):
    """A local time of day as ``HH:MM``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", value)
            if match and int(match[1]) < 24 and int(match[2]) < 60:
                return time(int(match[1]), int(match[2]))
        raise ValidationError(N_("Enter a time of day as HH:MM, e.g. 09:00."))

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M")


class RobotUrl(Text):
    """A group robot's webhook address on its official host, over HTTPS."""

    def __init__(self, host: str, **kwargs):
        self.host = host
        super().__init__(500, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        url = super()._deserialize(value, attr, data, **kwargs)
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname != self.host or not parts.query:
            raise ValidationError(
                N_("Paste the robot's webhook address; it starts with https://%(host)s/.", host=self.host)
            )
        return url


class PolicyIn(StrictSchema):
    """The editable reminder policy (every field optional: what is absent stays as it is)."""

    offsets_days = DayList()
    mandatory_offsets_days = DayList(allow_none=True)
    overdue_every_days = WholeNumber(validate=int_range(0, 90))
    escalate_from = WholeNumber(validate=int_range(0, 52))
    to_custodian = Flag()
    to_metrology = Flag()
    to_department_head = Flag()
    window_start = Clock()
    window_end = Clock()
    working_days_only = Flag()
    sms_daily_limit = WholeNumber(validate=int_range(0, 100_000))
    wecom_url = RobotUrl(ROBOT_HOSTS["wecom_url"])
    dingtalk_url = RobotUrl(ROBOT_HOSTS["dingtalk_url"])
    dingtalk_secret = Text(200)

    @validates_schema
    def _check(self, data, **_kwargs):
        if "offsets_days" in data and not data["offsets_days"]:
            raise ValidationError(N_("Give at least one day before the due date."), "offsets_days")
        if data.get("mandatory_offsets_days") == []:
            data["mandatory_offsets_days"] = None


class PolicyOut(StrictSchema):
    """The policy as the API shows it; robot addresses carry keys and are shown to admins only."""

    offsets_days = DayList()
    mandatory_offsets_days = DayList(allow_none=True)
    overdue_every_days = fields.Integer()
    escalate_from = fields.Integer()
    to_custodian = fields.Boolean()
    to_metrology = fields.Boolean()
    to_department_head = fields.Boolean()
    window_start = Clock()
    window_end = Clock()
    working_days_only = fields.Boolean()
    sms_daily_limit = fields.Integer()
    wecom_url = fields.String(allow_none=True)
    dingtalk_url = fields.String(allow_none=True)
    dingtalk_secret = fields.String(allow_none=True)


def policy_view(policy: ReminderPolicy, actor: Actor) -> dict:
    """Return the policy for a page or the API; robot secrets only for those who may change them."""
    data = PolicyOut().dump(policy)
    if not actor.can("org.manage"):
        for key in ("wecom_url", "dingtalk_url", "dingtalk_secret"):
            data[key] = "***" if data[key] else None
    elif data["dingtalk_secret"]:
        data["dingtalk_secret"] = "***"
    return data


def update_policy(session: Session, actor: Actor, payload: Mapping) -> ReminderPolicy:
    """Change the firm's reminder policy (admins); blank robot fields remove the robot."""
    actor.require("org.manage")
    payload = dict(payload)
    if payload.get("dingtalk_secret") == "***":  # the masked value shown back unchanged
        payload.pop("dingtalk_secret")
    data = load_or_invalid(PolicyIn(), payload)
    policy = session.get(ReminderPolicy, actor.org_id)
    if policy is None:
        policy = defaults(actor.org_id)
        session.add(policy)
    for key, value in data.items():
        setattr(policy, key, value)
    start, end = policy.window_start, policy.window_end
    if start >= end:
        raise invalid_field("window_end", N_("The window must end after it starts, on the same day."))
    if not (policy.to_custodian or policy.to_metrology or policy.to_department_head):
        raise invalid_field(RECIPIENT_FIELDS[0], NO_RECIPIENT)
    if not policy.dingtalk_url:
        policy.dingtalk_secret = None
    policy.updated_by_id = actor.user_id
    session.flush()
    return policy
