"""``org`` and ``user``: organisations, the links between them, and their users."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from service.cli.common import fail, org_by_slug, sessions
from service.db import unit_of_work
from service.errors import DomainError
from service.tenancy import operations as tenancy_ops


@click.group("org", cls=AppGroup)
def org_group():
    """Organisations."""


@org_group.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["firm", "institute"]), required=True)
@click.option("--credit-code", default=None)
def org_create(slug: str, name: str, kind: str, credit_code: str | None):
    """Register an organisation."""
    try:
        with unit_of_work(sessions()) as session:
            org = tenancy_ops.create_org(
                session, {"slug": slug, "name": name, "kind": kind, "credit_code": credit_code}
            )
            click.echo(f"created {org.kind} {org.slug} (id {org.id})")
    except DomainError as exc:
        fail(exc)


@org_group.command("link")
@click.option("--institute", required=True, help="slug of the institute")
@click.option("--firm", required=True, help="slug of the client firm")
def org_link(institute: str, firm: str):
    """Link an institute to a client firm."""
    try:
        with unit_of_work(sessions()) as session:
            tenancy_ops.link_client(
                session, org_by_slug(session, institute).id, org_by_slug(session, firm).id
            )
            click.echo(f"linked {institute} -> {firm}")
    except DomainError as exc:
        fail(exc)


@click.group("user", cls=AppGroup)
def user_group():
    """Users."""


@user_group.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--email", required=True)
@click.option("--role", required=True)
@click.option("--password", required=True)
@click.option("--mobile", default=None)
@click.option("--name", default=None)
def user_create(org_slug: str, email: str, role: str, password: str, mobile: str | None, name: str | None):
    """Create a user with a password."""
    try:
        with unit_of_work(sessions()) as session:
            org = org_by_slug(session, org_slug)
            user = tenancy_ops.create_user(
                session,
                org,
                {"email": email, "role": role, "mobile": mobile, "name": name or email.split("@")[0]},
                password,
            )
            click.echo(f"created {user.email} ({user.role}) in {org.slug}")
    except DomainError as exc:
        fail(exc)
