"""Every event's email renders in French, in text and HTML, with French amounts and dates."""

from datetime import UTC, date, datetime

import pytest
from jinja2 import UndefinedError
from pydantic import ValidationError

from models.approval import derive_code
from models.keys import APPROVAL_CODES, subkey
from notifications.events import EVENTS, SENSITIVE_FIELDS
from notifications.formatting import date_fr, datetime_fr
from notifications.render import _env, render, render_parts
from settings import get_settings
from tests.email_samples import SAMPLES


@pytest.mark.parametrize("event", list(EVENTS))
def test_every_event_renders_a_multipart_french_email(event):
    msg = render(event, SAMPLES[event], to="agent@prefecture-86.example", sender="ne-pas-repondre@territoires.example")
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
    reference = SAMPLES[event]["reference"]
    for part in (text, html):
        assert reference in part
        assert "Madame, Monsieur," in part
        assert "salutations distinguées" in part
    assert html.lstrip().startswith("<!DOCTYPE html>") and 'lang="fr"' in html
    assert "{{" not in text and "{%" not in html
    assert msg["Subject"].startswith("[")


@pytest.mark.parametrize("event", list(EVENTS))
def test_every_email_says_what_is_expected_of_the_recipient(event):
    _, text, _ = render_parts(event, SAMPLES[event])
    assert any(
        phrase in text
        for phrase in (
            "Ce qui est attendu",
            "Ce qui vous est demandé",
            "Aucune action n'est attendue",
            "Aucune démarche n'est attendue",
            "Ce qui suit",
            "Pour décider",
            "Prochaine étape",
        )
    )


def test_amounts_and_dates_use_french_formats():
    _, text, html = render_parts("step_decided", SAMPLES["step_decided"])
    assert "200\u202f000\u00a0€" in text and "200\u202f000\u00a0€" in html
    _, text, _ = render_parts("step_started", SAMPLES["step_started"])
    assert "29 octobre 2021" in text
    assert date_fr(date(2021, 10, 21)) == "21 octobre 2021"
    assert date_fr(date(2021, 10, 1)) == "1er octobre 2021"


def test_datetimes_are_shown_in_paris_time():
    assert datetime_fr(datetime(2021, 11, 4, 17, 0, tzinfo=UTC)) == "4 novembre 2021 à 18 h 00"
    assert datetime_fr(datetime(2021, 7, 14, 8, 5, tzinfo=UTC)) == "14 juillet 2021 à 10 h 05"


def test_the_approval_code_stands_on_a_line_of_its_own_next_to_the_link():
    _, text, html = render_parts("approval_requested", SAMPLES["approval_requested"])
    code = derive_code(
        subkey(get_settings().audit_key_bytes, APPROVAL_CODES), SAMPLES["approval_requested"]["code_ref"]
    )
    assert f"Code d'approbation\u202f: {code}" in text.splitlines() and code in html
    assert SAMPLES["approval_requested"]["lien"] in text and SAMPLES["approval_requested"]["lien"] in html


def test_the_code_exists_only_in_the_email_its_context_holds_a_reference_the_key_turns_into_it():
    context = SAMPLES["approval_requested"]
    assert "code" not in context and set(SENSITIVE_FIELDS["approval_requested"]) == {"code_ref"}
    other_key = derive_code(b"une-autre-cle-que-celle-de-la-plateforme", context["code_ref"])
    assert other_key not in render_parts("approval_requested", context)[1]


def test_a_script_value_is_escaped_in_html_and_left_as_typed_in_text():
    context = {**SAMPLES["step_decided"], "commentaire": "<script>alert('x')</script>"}
    _, text, html = render_parts("step_decided", context)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert('x')</script>" in text


def test_a_context_missing_a_field_is_refused_before_rendering():
    context = dict(SAMPLES["approval_requested"])
    del context["code_ref"]
    with pytest.raises(ValidationError):
        render_parts("approval_requested", context)


def test_a_template_using_an_undefined_value_fails_loudly():
    with pytest.raises(UndefinedError):
        _env.from_string("{{ absent }}").render({})
