"""Who is acting, on which organisation, with which permissions."""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import Forbidden, NotFound
from service.i18n import N_

_READ = {"ledger.read"}
_LEDGER = _READ | {"ledger.write", "status.request"}
_ADMIN = _LEDGER | {"status.decide", "org.manage", "users.manage", "departments.manage"}

#: What each role may do in its own organisation.
ROLE_PERMISSIONS: dict[tuple[str, str], frozenset[str]] = {
    ("firm", "admin"): frozenset(_ADMIN),
    ("firm", "metrology"): frozenset(_LEDGER),
    ("firm", "viewer"): frozenset(_READ),
    ("institute", "admin"): frozenset(_ADMIN | {"clients.view", "clients.manage"}),
    ("institute", "staff"): frozenset(_LEDGER | {"clients.view"}),
    ("institute", "technician"): frozenset(_READ | {"clients.view"}),
    # An outside expert holds no permission: the campaign work it is given is checked by membership
    # (a recommender's) or assignment (a reviewer's), and every other page is closed to it.
    ("institute", "expert"): frozenset(),
}
#: Roles confined to the pages marked open to them (service.web.access.open_to_experts).
CONFINED_ROLES = frozenset({"expert"})

#: What institute users may do in a client firm's ledger, through an active client link.
CLIENT_LINK_PERMISSIONS = frozenset(_READ)


@dataclass(frozen=True)
class Actor:
    """A user acting on one organisation: their own, or a client firm through a client link."""

    #: ``None`` for the system itself (CLI, jobs); history then records ``name`` only.
    user_id: int | None
    name: str
    role: str
    home_org_id: int
    home_org_kind: str
    #: The organisation being acted on; every query of the request is confined to it.
    org_id: int
    #: Permissions granted in a client firm beyond reading (recording results on site).
    granted: frozenset[str] = frozenset()

    @property
    def via_client_link(self) -> bool:
        """Whether the actor works in a client firm's data rather than their own."""
        return self.org_id != self.home_org_id

    @property
    def permissions(self) -> frozenset[str]:
        """Return what this actor may do in ``org_id``."""
        if self.via_client_link:
            return CLIENT_LINK_PERMISSIONS | self.granted
        return ROLE_PERMISSIONS.get((self.home_org_kind, self.role), frozenset())

    @property
    def confined(self) -> bool:
        """Whether the actor sees only the pages open to outside experts."""
        return self.role in CONFINED_ROLES

    def can(self, permission: str) -> bool:
        """Whether the actor holds ``permission``."""
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise :class:`Forbidden` unless the actor holds ``permission``."""
        if not self.can(permission):
            raise Forbidden(N_("Your role does not allow this."))

    def require_institute(self, permission: str | None = None) -> None:
        """Refuse anyone but an institute working on its own data: a firm, or a client-link view.

        NotFound, not Forbidden: the institute's tools do not exist for anyone else. Then, if given,
        ``permission`` is required (Forbidden: the page exists, the role may not do this).
        """
        if self.home_org_kind != "institute" or self.via_client_link:
            raise NotFound(N_("Not found."))
        if permission is not None:
            self.require(permission)

    def for_client(self, firm_id: int) -> Actor:
        """Return this institute actor acting on a client firm (the link is checked by the caller)."""
        return Actor(self.user_id, self.name, self.role, self.home_org_id, self.home_org_kind, firm_id)

    def on_site(self, firm_id: int, institute_name: str) -> Actor:
        """Return this institute actor recording results in a client's ledger (the caller checks the visit).

        The firm's history names the person and the institute; it cannot point at a user of another
        organisation, so the user id stays out.
        """
        return Actor(
            None,
            f"{self.name}（{institute_name}）",
            self.role,
            self.home_org_id,
            self.home_org_kind,
            firm_id,
            frozenset({"ledger.write"}),
        )

    @classmethod
    def system(cls, org_id: int, org_kind: str, name: str) -> Actor:
        """Return an actor for work done by the system itself (the CLI, jobs) as an administrator."""
        return cls(None, name, "admin", org_id, org_kind, org_id)

    @classmethod
    def of(cls, user) -> Actor:
        """Return the actor for a user acting on their own organisation."""
        return cls(user.id, user.name, user.role, user.org_id, user.org.kind, user.org_id)
