"""Code names on pages are translated once per request, in whatever language is current."""

from flask import render_template_string, session
from flask_babel import force_locale, refresh

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


def test_a_template_message_follows_the_language_through_switches_and_a_refresh(app):
    # Templates keep the request's translations once per language (service.web.i18n.current_language).
    words = (
        '{{ _("Sign in") }}|{{ ngettext("%(num)s instrument", "%(num)s instruments", 2) }}'
        '|{{ name_of("status", "in_service") }}'
    )
    with app.test_request_context("/"):
        session["locale"] = "zh_Hans_CN"
        chinese = render_template_string(words)
        assert chinese.startswith("登录|")
        assert chinese.endswith("|在用")
        with force_locale("en"):
            assert render_template_string(words) == "Sign in|2 instruments|In service"
        assert render_template_string(words) == chinese
        session["locale"] = "en"
        refresh()  # the visitor chose another language within the request
        assert render_template_string(words) == "Sign in|2 instruments|In service"

