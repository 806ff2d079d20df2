from sqlalchemy import select

from models import ClientLink, Department, Invitation, Organization, User
from tests.conftest import login
from tests.factories import credit_code


def test_admin_edits_the_firm_profile(client, world, db_session):
    login(client, world.a.admin)
    response = client.post(
        "/org",
        data={
            "name": "华原精机",
            "credit_code": " " + credit_code(7).lower() + " ",
            "region_code": "410300",
            "industry": "新材料",
            "employees": "850",
            "annual_revenue_wan": "52000.50",
        },
    )
    assert response.status_code == 303
    org = db_session.get(Organization, world.a.org.id)
    db_session.refresh(org)
    assert (org.name, org.credit_code, org.region_code, org.size_class) == (
        "华原精机",
        credit_code(7),
        "410300",
        "small_medium",
    )
    page = client.get("/org")
    assert "洛阳市" in page.text


def test_profile_bad_input(client, world, db_session):
    login(client, world.a.admin)
    good = {"name": "x", "employees": "10"}
    cases = [
        ({"credit_code": "914403001922038217"}, "credit_code"),  # wrong check digit
        ({"credit_code": "ABC"}, "credit_code"),
        ({"region_code": "110000"}, "region_code"),  # Beijing is not in Henan
        ({"employees": "-5"}, "employees"),
        ({"annual_revenue_wan": "lots"}, "annual_revenue_wan"),
        ({"name": ""}, "name"),
        ({"name": "名" * 201}, "name"),
    ]
    for overrides, field in cases:
        response = client.post("/org", data=good | overrides)
        assert response.status_code == 422, overrides
        assert f'id="f-{field}"' in response.text
    db_session.refresh(world.a.org)
    assert world.a.org.name != "x"


def test_credit_code_is_unique(client, world, db_session):
    world.b.org.credit_code = credit_code(99)
    db_session.commit()
    login(client, world.a.admin)
    assert client.post("/org", data={"name": "x", "credit_code": credit_code(99)}).status_code == 422


def test_only_admins_edit_the_profile(client, world):
    login(client, world.a.metrology)
    assert client.get("/org").status_code == 200
    assert client.post("/org", data={"name": "hijack"}).status_code == 403


def test_departments(client, world, db_session):
    login(client, world.a.admin)
    assert client.post("/org/departments", data={"name": "计量室"}).status_code == 303
    assert client.post("/org/departments", data={"name": "计量室"}).status_code == 422  # duplicate
    assert client.post("/org/departments", data={"name": ""}).status_code == 422
    dept = db_session.scalar(select(Department).where(Department.name == "计量室"))
    response = client.post(
        f"/org/departments/{dept.id}", data={"name": "计量中心", "head_user_id": world.a.metrology.id}
    )
    assert response.status_code == 303
    db_session.refresh(dept)
    assert (dept.name, dept.head_user_id) == ("计量中心", world.a.metrology.id)
    # A department in use cannot be removed; an empty one can.
    client.post(f"/org/departments/{world.a.department.id}/delete")
    assert db_session.get(Department, world.a.department.id) is not None
    dept_id = dept.id
    client.post(f"/org/departments/{dept_id}/delete")
    db_session.expunge_all()
    assert db_session.get(Department, dept_id) is None
    client.post("/logout")
    login(client, world.a.metrology)
    assert client.post("/org/departments", data={"name": "x"}).status_code == 403


def test_admin_edits_users_but_never_locks_himself_out(client, world, db_session):
    login(client, world.a.admin)
    response = client.post(
        f"/org/users/{world.a.viewer.id}", data={"name": "只读", "role": "metrology", "mobile": "13912345678"}
    )
    assert response.status_code == 303
    viewer = db_session.get(User, world.a.viewer.id)
    db_session.refresh(viewer)
    assert (viewer.role, viewer.is_active, viewer.mobile) == ("metrology", False, "13912345678")
    response = client.post(
        f"/org/users/{world.a.admin.id}", data={"name": "me", "role": "viewer", "is_active": "on"}
    )
    assert response.status_code == 422
    assert (
        client.post(f"/org/users/{world.a.viewer.id}", data={"name": "x", "role": "staff"}).status_code == 422
    )


def test_institute_registers_a_client_and_invites_its_admin(client, world, outbox, db_session):
    login(client, world.institute_admin)
    response = client.post(
        "/org/clients",
        data={
            "name": "新客户",
            "slug": "new-client",
            "credit_code": credit_code(5),
            "region_code": "410100",
            "admin_email": "boss@new-client.test",
        },
    )
    assert response.status_code == 303
    firm = db_session.scalar(select(Organization).where(Organization.slug == "new-client"))
    link = db_session.scalar(select(ClientLink).where(ClientLink.firm_id == firm.id))
    assert link.institute_id == world.institute.id
    assert link.is_active
    invitation = db_session.scalar(select(Invitation).where(Invitation.org_id == firm.id))
    assert (invitation.email, invitation.role) == ("boss@new-client.test", "admin")
    assert outbox.messages()[-1]["to"] == "boss@new-client.test"
    assert "新客户" in client.get("/org/clients").text
    # Bad input changes nothing.
    response = client.post(
        "/org/clients", data={"name": "y", "slug": "Bad Slug", "admin_email": "not-an-email"}
    )
    assert response.status_code == 422
    # Staff may look but not register.
    client.post("/logout")
    login(client, world.institute_staff)
    assert client.get("/org/clients").status_code == 200
    response = client.post("/org/clients", data={"name": "z", "slug": "z", "admin_email": "z@z.test"})
    assert response.status_code == 403


def test_firms_have_no_client_pages(client, world):
    login(client, world.a.admin)
    assert client.get("/org/clients").status_code == 403
