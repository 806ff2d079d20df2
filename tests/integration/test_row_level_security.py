"""Row-level security, the third tenancy layer: it holds on PostgreSQL with the ORM net switched off.

Superusers skip every policy, so these tests create the roles of a deployment (``service/rls.py``)
and run as the web role or the jobs role, neither of which may. The schema of the suite is made by
``create_all``; inside each test's outer transaction it is given the policies the migrations give a
real database, and everything (roles, grants, policies) is rolled back with the test. One test
migrates a scratch database as the owner role, the way production does, and checks that every
tenant table has its policy there.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import sessionmaker

from models import Base, Department, Instrument
from service import rls
from service.app import create_app
from service.clock import today_in
from service.config import Config
from service.db import ALL_TENANTS, NET, _follow_scope, allow_all_tenants, make_engine, scope_to_org
from service.jobs.reminders import run_dispatch
from service.ledger.queries import filtered, parse_filters
from tests.conftest import TEST_DATABASE_URL, login
from tests.factories import make_instrument
from tests.integration.test_api_imports import (  # noqa: F401 (bulk writes under the policies)
    admin,
    test_export_and_template,
    test_upload_preview_then_confirm,
)
from tests.integration.test_api_orders import (  # noqa: F401 (notices to the other side's people)
    test_the_order_journey_through_the_api,
)
from tests.integration.test_api_visits import test_the_visit_journey_through_the_api  # noqa: F401
from tests.integration.test_reverse_traceability import (  # noqa: F401
    recall,
    test_api_lists_and_notifies,
)
from tests.integration.test_tenant_isolation import (  # noqa: F401 (the walker, run again here)
    foreign,
    test_every_api_endpoint_hides_other_tenants,
    test_every_web_route_hides_other_tenants,
)
from tests.reminders import DAY, at, messages, plan_a_due_reminder
from tests.routes import fill_path, make_one_of_each

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="row-level security is PostgreSQL's: set TEST_DATABASE_URL to run these"
)

PROTECTED = [table for table in Base.metadata.sorted_tables if rls.protection_of(table) is not None]


def _roles(connection) -> rls.Roles:
    """Roles named after the test database: role names are the cluster's, databases may run in parallel."""
    prefix = connection.scalar(text("SELECT current_database()"))[:40]
    return rls.Roles(owner=f"{prefix}_owner", app=f"{prefix}_app", jobs=f"{prefix}_jobs")


@pytest.fixture
def roles(connection) -> rls.Roles:
    """The deployment's roles and the policies, in the test's transaction; the test runs as the web role."""
    roles = _roles(connection)
    rls.protect_metadata(connection, Base.metadata)
    rls.create_roles(connection, roles, tables=())
    connection.execute(text(f'SET ROLE "{roles.app}"'))
    return roles


@pytest.fixture
def sessions(app, connection, roles):
    """The application's sessions on the test's connection, without the ORM net: the policies alone."""
    factory = sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={NET: False},
    )
    previous = app.extensions["calrecall.sessions"]
    app.extensions["calrecall.sessions"] = factory
    yield factory
    app.extensions["calrecall.sessions"] = previous


@pytest.fixture
def db_session(sessions):
    """A session open to every tenant, for arranging and inspecting data, as the web role.

    It shares the test's connection with the requests' sessions, whose settings outlast their
    savepoints there (in production each has a connection of its own): it sets its own again
    before each statement and flush.
    """
    session = sessions()
    allow_all_tenants(session)

    def _reopen(*_args) -> None:
        _follow_scope(session)

    def _reopen_unless_opted_out(state) -> None:
        # In a narrower scope (scoped_to), a statement that opts out has had the policies opened
        # for it already (service.db).
        opted_out = state.is_column_load or state.execution_options.get("all_tenants")
        if session.info.get("tenant") == ALL_TENANTS or not opted_out:
            _follow_scope(session)

    event.listen(session, "do_orm_execute", _reopen_unless_opted_out)
    event.listen(session, "before_flush", _reopen)
    yield session
    session.close()


def _set(connection, org: str = "", all_tenants: str = "") -> None:
    connection.execute(
        text("SELECT set_config('app.org_id', :org, true), set_config('app.all_tenants', :all, true)"),
        {"org": org, "all": all_tenants},
    )


def _counts(connection) -> dict[str, int]:
    return {t.name: connection.scalar(text(f'SELECT count(*) FROM "{t.name}"')) for t in PROTECTED}


def test_the_session_runs_as_a_role_held_to_the_policies(connection, roles):
    row = connection.execute(
        text("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    assert row == (roles.app, False, False)


def test_a_raw_select_without_the_setting_sees_no_tenant_row(app, world, db_session, connection):
    make_one_of_each(app, db_session, world.a, world.institute.id)
    _set(connection, all_tenants="on")
    everything = _counts(connection)
    filled = {name for name, count in everything.items() if count}
    # Not an empty database: rows of nearly every kind exist, which the bare role must not see.
    assert len(filled) >= 35, sorted(set(everything) - filled)
    _set(connection)
    assert _counts(connection) == dict.fromkeys(everything, 0)
    # Scoped to firm A: firm A's rows only (its instruments, not firm B's).
    _set(connection, org=str(world.a.org.id))
    owners = set(connection.scalars(text("SELECT DISTINCT org_id FROM instruments")))
    assert owners == {world.a.org.id}
    assert connection.scalar(text("SELECT count(*) FROM users WHERE org_id = :b"), {"b": world.b.org.id}) == 0


def test_the_institute_reads_its_active_clients_only(world, connection):
    _set(connection, org=str(world.institute.id))
    owners = set(connection.scalars(text("SELECT DISTINCT org_id FROM instruments")))
    assert owners == {world.a.org.id}  # linked to firm A, not to firm B
    # Accounts are not among what it reads of a client, and it writes nothing of one.
    assert connection.scalar(text("SELECT count(*) FROM users WHERE org_id = :a"), {"a": world.a.org.id}) == 0
    updated = connection.execute(
        text("UPDATE instruments SET name = 'x' WHERE org_id = :a"), {"a": world.a.org.id}
    ).rowcount
    assert updated == 0
    # The link ended: nothing of the firm any more.
    connection.execute(
        text("UPDATE client_links SET ended_at = now() WHERE firm_id = :a"), {"a": world.a.org.id}
    )
    assert connection.scalar(text("SELECT count(*) FROM instruments")) == 0


def test_writes_of_another_firms_rows_are_refused(world, connection):
    _set(connection, org=str(world.a.org.id))
    # Not even visible to change or delete.
    b_instrument = world.b.instruments[0].id
    assert (
        connection.execute(
            text("UPDATE instruments SET name = 'x' WHERE id = :i"), {"i": b_instrument}
        ).rowcount
        == 0
    )
    assert (
        connection.execute(text("DELETE FROM departments WHERE org_id = :b"), {"b": world.b.org.id}).rowcount
        == 0
    )
    # Moving an own row to firm B, or adding one for it, fails the policy's check.
    with pytest.raises(ProgrammingError, match="row-level security"), connection.begin_nested():
        connection.execute(
            text("UPDATE departments SET org_id = :b WHERE id = :d"),
            {"b": world.b.org.id, "d": world.a.department.id},
        )
    with pytest.raises(ProgrammingError, match="row-level security"), connection.begin_nested():
        connection.execute(
            text("INSERT INTO departments (org_id, name) VALUES (:b, 'planted')"), {"b": world.b.org.id}
        )


def test_an_orm_session_without_the_net_cannot_write_across(world, sessions, connection):
    session = sessions()
    scope_to_org(session, world.a.org.id)
    assert {i.org_id for i in session.scalars(select(Instrument))} == {world.a.org.id}
    assert session.get(Instrument, world.b.instruments[0].id) is None
    session.add(Department(org_id=world.b.org.id, name="planted"))
    with pytest.raises(ProgrammingError, match="row-level security"):
        session.flush()
    session.rollback()
    session.close()


def test_the_scope_follows_each_new_transaction(world, sessions):
    """After a commit the next transaction is scoped again (its settings ended with the first)."""
    session = sessions()
    scope_to_org(session, world.b.org.id)
    assert {i.org_id for i in session.scalars(select(Instrument))} == {world.b.org.id}
    session.commit()
    assert {i.org_id for i in session.scalars(select(Instrument))} == {world.b.org.id}
    scope_to_org(session, world.a.org.id)  # in mid-transaction
    assert {i.org_id for i in session.scalars(select(Instrument))} == {world.a.org.id}
    session.close()


def test_the_ledger_search_uses_its_index_under_the_policies(world, db_session, connection, roles):
    """A rare term among a firm's many instruments is found through the bigram index by the web role.

    Under row-level security the planner uses an index only for a condition whose functions are
    LEAKPROOF: the search asks the stored column ``search_pairs`` with ``@>`` (the built-in
    ``arraycontains``, which ``db create-roles`` marks so), never a function of ours on the columns.
    Without the mark the firm's own index wins, and the search reads every instrument of the firm.
    """
    for actor in (world.a.actor(), world.b.actor()):
        make_instrument(db_session, actor, management_no="HT-9", name="洛氏硬度计")
    db_session.commit()
    # Many instruments in firm A, their index entries merged as autovacuum would (else the pending
    # list makes the index look dear) and fresh statistics, as a superuser (the owner here): the rare
    # term's index is then the better plan, whatever the statistics of the day were.
    connection.execute(text("RESET ROLE"))
    connection.execute(
        text(
            "INSERT INTO instruments (org_id, management_no, name, is_mandatory, control_method, status, "
            "created_at, updated_at) SELECT :org, 'BULK-' || n, '数显卡尺', false, 'calibration', "
            "'in_service', now(), now() FROM generate_series(1, 2000) AS n"
        ),
        {"org": world.a.org.id},
    )
    connection.execute(text("SELECT gin_clean_pending_list('ix_instruments_search_pairs')"))
    connection.execute(text("ANALYZE instruments"))
    connection.execute(text(f'SET ROLE "{roles.app}"'))
    stmt = filtered(db_session, world.a.actor(), parse_filters({"q": "硬度"}), today_in("Asia/Shanghai"))
    compiled = stmt.with_only_columns(Instrument.org_id, Instrument.management_no).compile(connection)
    _set(connection, org=str(world.a.org.id))
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    explained = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
    plan = "\n".join(explained.scalars())
    assert "ix_instruments_search_pairs" in plan, plan
    found = connection.exec_driver_sql(str(compiled), compiled.params).all()
    assert found == [(world.a.org.id, "HT-9")]


def test_reminder_planning_and_dispatch_run_as_the_jobs_role(
    app, world, db_session, connection, roles, outbox
):
    connection.execute(text(f'SET ROLE "{roles.jobs}"'))
    firm = plan_a_due_reminder(app, db_session, world.a)
    planned = messages(db_session, world.a.org.id)
    assert planned, "the planning day wrote no message"
    to_send = [m for m in planned if m.channel != "in_app"]  # in-app notices are delivered when planned
    sent = run_dispatch(app, at(DAY, 10))
    assert sent["sent"] == len(to_send) > 0
    assert {m.state for m in messages(db_session, world.a.org.id) if m.channel != "in_app"} == {"sent"}
    assert {m["to"] for m in outbox.messages()} >= {firm.custodian.email}


@pytest.fixture
def deployment(tmp_path):
    """A scratch database set up as production is, through the CLI: roles, then migrations as the owner.

    The app's three URLs name the three roles; the database and the roles are dropped afterwards.
    """
    base = make_url(TEST_DATABASE_URL)
    name = f"rls_mig_{uuid.uuid4().hex[:8]}"
    roles = rls.Roles(owner=f"{name}_owner", app=f"{name}_app", jobs=f"{name}_jobs")
    url = base.set(database=name)

    def as_role(role: str) -> str:
        return url.set(username=role).render_as_string(hide_password=False)

    server = create_engine(base, isolation_level="AUTOCOMMIT")
    with server.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    config = Config(
        database_url=as_role(roles.app),
        jobs_database_url=as_role(roles.jobs),
        migrations_database_url=as_role(roles.owner),
        attachments_dir=str(tmp_path / "attachments"),
        secret_key="rls-test-secret-key",
        csrf_enabled=False,
        email_backend="file",
        sms_backend="file",
        notify_file=str(tmp_path / "notifications.jsonl"),
        base_url="http://testserver",
        import_runner="inline",
        export_runner="inline",
    )
    app = create_app(config)
    web_engine = app.extensions["calrecall.engine"]
    try:
        cli = app.test_cli_runner()
        superuser = url.render_as_string(hide_password=False)
        names = ["--owner", roles.owner, "--app", roles.app, "--jobs", roles.jobs]
        result = cli.invoke(args=["db", "create-roles", "--url", superuser, *names])
        assert result.exit_code == 0, result.output
        result = cli.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        yield app, url, roles
    finally:
        web_engine.dispose()
        app.extensions["calrecall.engine"].dispose()
        with server.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for role in (roles.owner, roles.app, roles.jobs):
                c.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        server.dispose()


@pytest.fixture
def migrated(deployment):
    app, url, roles = deployment
    owner = make_engine(url.set(username=roles.owner).render_as_string(hide_password=False))
    yield url, roles, owner
    owner.dispose()


def test_the_migrations_protect_every_tenant_table(migrated):
    """Fails for a tenant table whose migration gave it no policy: new tables keep the third layer."""
    url, roles, owner = migrated
    with owner.connect() as c:
        tables = {
            name: (secured, forced, owner_name)
            for name, secured, forced, owner_name in c.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) "
                    "FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"
                )
            )
        }
        policies = {(t, p) for t, p in c.execute(text("SELECT tablename, policyname FROM pg_policies"))}
    for table in PROTECTED:
        how = rls.protection_of(table)
        assert tables[table.name] == (True, True, roles.owner), table.name
        expected = {"tenant"} if how[0] == "tenant" else {"sides"}
        if how[0] == "tenant" and how[1]:
            expected.add("clients")
        assert {p for t, p in policies if t == table.name} == expected, table.name
    assert not tables["organizations"][0]  # reference data every page names: no policy


def test_a_migrated_database_holds_its_owner_and_web_role_to_the_policies(migrated):
    url, roles, owner = migrated
    with owner.begin() as c:
        _set(c, all_tenants="on")
        org = c.scalar(
            text(
                "INSERT INTO organizations (slug, name, kind, timezone, created_at) "
                "VALUES ('f', 'F', 'firm', 'Asia/Shanghai', now()) RETURNING id"
            )
        )
        c.execute(text("INSERT INTO departments (org_id, name) VALUES (:o, 'D')"), {"o": org})
    with owner.begin() as c:  # FORCE: the owner too sees nothing without the setting
        assert c.scalar(text("SELECT count(*) FROM departments")) == 0
    web = make_engine(url.set(username=roles.app).render_as_string(hide_password=False))
    try:
        with web.begin() as c:
            assert c.scalar(text("SELECT count(*) FROM departments")) == 0
            _set(c, org=str(org))
            assert c.scalar(text("SELECT count(*) FROM departments")) == 1
            _set(c, org=str(org + 1))
            assert c.scalar(text("SELECT count(*) FROM departments")) == 0
        with web.begin() as c, pytest.raises(ProgrammingError, match="must be owner"):
            c.execute(text("ALTER TABLE departments DISABLE ROW LEVEL SECURITY"))
    finally:
        web.dispose()


#: Values of the path parameters that are not ids of rows made here.
OTHER_VALUES = {
    "invitation_id": 10**6,
    "link_id": 10**6,
    "window": "30",
    "token": "junk",
    "day": "2026-01-05",
}
#: What differs between two renderings of the same page: form tokens, nonces, generated times.
VOLATILE = re.compile(rb'(csrf_token" value="[^"]*"|nonce="[^"]*"|\d{2}:\d{2}(:\d{2})?|[0-9a-f]{32,})')


def _answer(response) -> tuple:
    body = response.get_data()
    response.close()
    # Office files and PDFs carry the time they were made; their type and size must agree.
    if response.mimetype.startswith("text/") or response.is_json:
        return response.status_code, VOLATILE.sub(b"", body)
    return response.status_code, response.mimetype, len(body) // 1000


def _get_rules(app, api: bool):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "bootstrap.static", "auth.logout"):
            continue
        if rule.endpoint.startswith("vendor.") or rule.endpoint.startswith("api.") != api:
            continue
        if rule.endpoint.startswith("observability."):
            continue  # its figures count every request of the walk: never the same twice
        yield rule


def _walk(app, client, users, values, token) -> dict:
    """GET every page as each of ``users``, and every API resource with ``token``; return the answers."""
    answers = {}
    # The API first: the token's page then shows it used in both walks.
    for rule in _get_rules(app, api=True):
        path = fill_path(rule, values)
        answers[("api", path)] = _answer(client.get(path, headers={"Authorization": f"Bearer {token}"}))
    for user in users:
        client.post("/logout")
        login(client, user)
        for rule in _get_rules(app, api=False):
            path = fill_path(rule, values)
            answers[(user.email, path)] = _answer(client.get(path))
    return answers


def test_every_page_answers_the_same_under_the_policies(app, client, world, db_session, connection, roles):
    """Pages of the firm and of the institute (its clients' too) lose nothing to row-level security.

    The same walk, as the web role held to the policies and as the superuser they do not apply to,
    gives the same pages: a cross-tenant read the application makes on purpose and the policies
    would hide shows up here as a difference (a 404, a 500, a shorter list).
    """
    ids, token = make_one_of_each(app, db_session, world.a, world.institute.id)
    values = ids | OTHER_VALUES | {"client_id": world.a.org.id}
    users = (world.a.admin, world.institute_admin)
    held = _walk(app, client, users, values, token)
    connection.execute(text("RESET ROLE"))
    free = _walk(app, client, users, values, token)
    assert len(held) > 150
    assert sum(answer[0] == 200 for answer in held.values()) > 60
    # The second walk signs in again: the sign-in record lists one more line.
    differences = sorted(key for key in held if held[key] != free[key] and key[1] != "/org/sign-ins")
    assert not differences, "\n".join(f"{key} {held[key][0]} {free[key][0]}" for key in differences)


def test_the_cli_and_the_web_work_as_their_roles(deployment, tmp_path):
    """Committed for real, as production runs: the CLI as the jobs role, the pages as the web role."""
    app, url, roles = deployment
    cli = app.test_cli_runner()

    def run(*args):
        result = cli.invoke(args=list(args))
        assert result.exit_code == 0, (args, result.output)
        return result.output

    run("org", "create", "--slug", "acme", "--name", "Acme", "--kind", "firm")
    run(
        "user",
        "create",
        "--org",
        "acme",
        "--email",
        "boss@acme.test",
        "--role",
        "admin",
        "--password",
        "pw-123456789",
    )
    assert app.extensions["calrecall.engine"].url.username == roles.jobs
    run("history", "verify", "--org", "acme")
    _backup_round_trip(run, url, tmp_path)
    run("reminders", "tick")
    run("housekeeping")
    web = create_app(app.config["CALRECALL"])
    try:
        client = web.test_client()
        response = client.post("/login", data={"email": "boss@acme.test", "password": "pw-123456789"})
        assert response.status_code == 303
        assert client.get("/").status_code == 200
        assert client.get("/instruments").status_code == 200
    finally:
        web.extensions["calrecall.engine"].dispose()


def _backup_round_trip(run, url, tmp_path) -> None:
    """The jobs role backs up under the policies (all tenants); the archive restores whole."""
    archive = tmp_path / "backup.tar.gz"
    run("backup", "create", "--out", str(archive))
    restored = f"{url.database}_restored"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as c:
            c.execute(text(f'CREATE DATABASE "{restored}"'))
        target = url.set(database=restored).render_as_string(hide_password=False)
        run(
            "backup",
            "restore",
            str(archive),
            "--into",
            target,
            "--attachments-dir",
            str(tmp_path / "restored"),
        )
        check = create_engine(target)
        try:
            with check.connect() as c:
                assert c.scalar(text("SELECT count(*) FROM organizations WHERE slug = 'acme'")) == 1
                c.execute(text("SET app.all_tenants = 'on'"))
                assert c.scalar(text("SELECT count(*) FROM users WHERE email = 'boss@acme.test'")) == 1
        finally:
            check.dispose()
    finally:
        with server.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'))
        server.dispose()
