"""Code names on pages are translated once per request, in whatever language is current."""

from flask import session
from flask_babel import force_locale

from service.web.templating import name_of


def test_a_code_is_named_in_the_current_language_even_after_a_switch(app):
    with app.test_request_context("/"):
        session["locale"] = "zh_Hans_CN"
        assert name_of("status", "in_service") == "在用"
        with force_locale("en"):
            # A message rendered in its recipient's language within the same request.
            assert name_of("status", "in_service") == "In service"
        assert name_of("status", "in_service") == "在用"
        assert name_of("status", "no-such-code") == "no-such-code"
        assert name_of("status", None) == ""
