"""Every event the code writes has a name for the timeline (else the page shows ``stability.closed``)."""

import re
from pathlib import Path

from service.names import EVENT_NAMES

SERVICE = Path(__file__).resolve().parents[2] / "service"
#: record_event(session, actor, "kind", …) and append_event(session, org_id, "kind", …) with a literal kind.
WRITTEN = re.compile(r'(?:record_event|append_event)\(\s*[\w.]+,\s*[\w.]+,\s*"([a-z_]+\.[a-z_]+)"', re.S)


def test_every_event_kind_written_with_a_literal_has_a_display_name():
    written = {kind for path in SERVICE.rglob("*.py") for kind in WRITTEN.findall(path.read_text())}
    assert len(written) > 30  # the pattern still finds the calls
    assert sorted(written - set(EVENT_NAMES)) == []
