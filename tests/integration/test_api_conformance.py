"""Schemathesis over the OpenAPI document: every operation answers as the document says, and never 500s.

Each operation gets a bounded number of generated requests (derandomized, so every run sends the
same ones): valid and invalid input, with random ids and with the ids of real objects in its path,
with a firm administrator's token, and for the operations institutes use also with an institute
administrator's. Every response goes through all of schemathesis's checks: no server error;
status code, content type, headers and body as documented; invalid input refused; valid input
accepted. For that last one a 400 counts as accepted: the document declares it wherever the API
checks what JSON Schema cannot say (a credit code's check digit, a unique name, a mobile number
on file …).
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

from service.actors import Actor  # noqa: E402
from service.clock import now_utc  # noqa: E402
from service.ledger import operations as ledger_ops  # noqa: E402
from service.nonconformity import operations as nonconformity_ops  # noqa: E402
from service.orders import operations as orders_ops  # noqa: E402
from service.visits import technicians  # noqa: E402
from tests.api import API, auth, local_today  # noqa: E402
from tests.factories import make_record  # noqa: E402
from tests.reminders import make_notification  # noqa: E402

#: Generated requests per operation, token and kind of input: the module stays within about a minute.
EXAMPLES = 4
#: Operations institutes use, by tag: these are also called with an institute administrator's token.
INSTITUTE_TAGS = {"institute", "visits", "orders", "records"}
CONFIG = {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 400, 401, 403, 404, 409]}}}


def _settings(examples: int):
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def _check(strategy, headers: dict) -> None:
    """Send the strategy's requests with ``headers``; raise on the first failed check."""

    @_settings(EXAMPLES)
    @given(case=strategy)
    def run(case):
        case.call_and_validate(headers=headers)

    run()


@pytest.fixture
def real_ids(app, db_session, world, config):
    """Ids of real objects of firm A and of its institute for the operations' path parameters."""
    actor, today = world.a.actor("admin"), local_today()
    first, second, third = world.a.instruments
    record = make_record(db_session, actor, first.id, config.attachments_dir)
    request = ledger_ops.request_status_change(db_session, actor, second.id, "suspend", "x")
    case = nonconformity_ops.open_case(db_session, actor, second.id, {"description": "跌落"}, today)
    notification = make_notification(db_session, world.a.admin)
    technician = technicians.save_technician(
        db_session,
        Actor.of(world.institute_admin),
        {"name": "王工", "disciplines": ["pressure"], "daily_capacity": 20},
    )
    with app.test_request_context():  # the institute is told by a message rendered from a template
        order = orders_ops.submit_order(
            db_session,
            actor,
            {"institute_id": world.institute.id, "method": "drop_off", "instrument_ids": [third.id]},
            today,
            "http://testserver",
            now_utc(),
        )
    db_session.commit()
    return {
        "instrument_id": first.id,
        "user_id": world.a.viewer.id,
        "department_id": world.a.department.id,
        "request_id": request.id,
        "record_id": record.id,
        "attachment_id": record.attachments[0].id,
        "case_id": case.id,
        "notification_id": notification.id,
        "technician_id": technician.id,
        "order_id": order.id,
        "item_id": order.items[0].id,
    }


# Schemathesis's WSGI transport reads file downloads without closing them.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_every_operation_answers_as_documented(app, client, db_session, world, real_ids):
    schema = schemathesis.openapi.from_wsgi(
        f"{API}/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG)
    )
    tokens = {
        "firm": auth(db_session, world.a.admin),
        "institute": auth(db_session, world.institute_admin),
    }
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [parameter.name for parameter in operation.path_parameters]
        known = {name: real_ids[name] for name in names if name in real_ids}
        variants = [(GenerationMode.POSITIVE, {}), (GenerationMode.NEGATIVE, {})]
        if known and len(known) == len(names):
            variants.append((GenerationMode.POSITIVE, known))
        for who, headers in tokens.items():
            if who == "institute" and not INSTITUTE_TAGS & set(operation.tags or ()):
                continue
            for mode, path_parameters in variants:
                strategy = operation.as_strategy(mode, path_parameters=path_parameters or None)
                try:
                    _check(strategy, headers)
                except (Exception, BaseExceptionGroup) as exc:  # report every operation's failure
                    failures.append(f"{operation.label} [{who}, {mode.value}]:\n{exc}")
    assert not failures, "\n\n".join(failures)
