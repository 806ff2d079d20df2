"""The chain of standards drawn on an instrument's page: the nodes, their links and the diagram."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy.orm import Session

from service.actors import Actor
from service.traceability.chain import ChainStep, standards_chain
from service.traceability.chain_svg import render_chain


def chain_labels() -> dict[str, str]:
    """Return the words drawn in the chain diagram, in the request's language."""
    return {
        "chain": gettext("Traceability chain"),
        "certificate": gettext("Certificate"),
        "valid_until": gettext("Valid until"),
        "used_on": gettext("Used on"),
        "expired_when_used": gettext("Expired when used"),
        "cycle": gettext("Cycle"),
    }


def _expired_note(step: ChainStep) -> str | None:
    if not step.expired or step.valid_until is None:
        return None
    return gettext("Its certificate ran out on %(date)s", date=step.valid_until.isoformat())


def chain_context(session: Session, who: Actor, instrument_id: int) -> dict:
    """Return what ``templates/traceability/_chain.html`` needs: ``chain`` and ``chain_svg``.

    ``who`` is the request's actor (a client's when the institute reads a client's ledger); the
    diagram links the nodes the viewer may open.
    """
    client_id = who.org_id if who.via_client_link else None

    def href(org_id: int, target_id: int) -> str | None:
        if org_id == who.org_id:
            return url_for("ledger.show_instrument", instrument_id=target_id, client_id=client_id)
        if org_id == who.home_org_id:  # the institute's own standard, seen from a client's instrument
            return url_for("ledger.show_instrument", instrument_id=target_id)
        return None

    chain = standards_chain(session, who, instrument_id, href=href)
    svg = render_chain(chain.nodes, chain.links(_expired_note), chain.root, labels=chain_labels())
    # render_chain escapes every text and attribute and drops unsafe links: its output is safe markup.
    return {"chain": chain, "chain_svg": Markup(svg)}  # noqa: S704  # nosec B704 # escaped by render_chain
