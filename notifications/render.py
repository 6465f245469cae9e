"""Pure rendering: event + context -> EmailMessage (multipart/alternative, text and HTML)."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from models.approval import derive_code
from models.french import accorde, de, en_cours_de_phrase, initiale, pluriel, typographie
from models.keys import APPROVAL_CODES, subkey
from models.types import utcnow
from notifications import formatting, mime
from notifications.events import SECRET_FROM_REFERENCE, EmailContext, context_model
from settings import get_settings

_env = Environment(
    loader=PackageLoader("notifications", "templates"),
    # Only the HTML parts are markup: they escape every value. Subjects and text stay as typed.
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    # The templates are package data, fixed for the life of a process: no stat() of each one
    # (and of its layout) at every message.
    auto_reload=False,
)
_env.filters.update(
    eur=formatting.eur,
    date_fr=formatting.date_fr,
    datetime_fr=formatting.datetime_fr,
    p104=formatting.p104,
    pluriel=pluriel,
    accorde=accorde,
    de=de,
    phrase=en_cours_de_phrase,
    initiale=initiale,
)


def validate_context(event: str, context: dict | EmailContext) -> EmailContext:
    model = context_model(event)
    return context if isinstance(context, model) else model.model_validate(context)


_CODES_KEY: tuple[object, bytes] | None = None  # (the settings, the approval codes' key derived from them)


def _codes_key() -> bytes:
    """The approval codes' key, derived once per settings (reading the key costs a file lookup)."""
    global _CODES_KEY
    settings = get_settings()
    if _CODES_KEY is None or _CODES_KEY[0] is not settings:
        _CODES_KEY = (settings, subkey(settings.audit_key_bytes, APPROVAL_CODES))
    return _CODES_KEY[1]


def render_parts(event: str, context: dict | EmailContext) -> tuple[str, str, str]:
    ctx = validate_context(event, context)
    values = dict(ctx)
    for reference, secret in SECRET_FROM_REFERENCE.items():
        if reference in values:  # the approval code exists in clear only in the email being written
            values[secret] = derive_code(_codes_key(), values.pop(reference))
    subject = _env.get_template(f"{event}.subject.j2").render(values).strip()
    text = _env.get_template(f"{event}.txt.j2").render(values)
    html = _env.get_template(f"{event}.html.j2").render(values)
    # Collapse line breaks only: the no-break spaces of "15 000 €" must stay.
    text = re.sub(r"\n{3,}", "\n\n", text)  # optional paragraphs leave no hole in the letter
    return typographie(re.sub(r"[ \t\r\n]+", " ", subject)), typographie(text), _html_typography(html)


_MARKUP = re.compile(r"(<[^>]+>|&[#\w]+;)")
_TYPOGRAPHIC = re.compile(r"[;:!?«»°]")  # what ``typographie`` acts on: other words are left as they are


def _html_typography(html: str) -> str:
    """French spacing on the words of the HTML part, never inside a tag or an entity."""
    parts = _MARKUP.split(html.replace("&nbsp;", "\u00a0"))
    return "".join(
        typographie(part) if i % 2 == 0 and _TYPOGRAPHIC.search(part) else part for i, part in enumerate(parts)
    )


def render_bytes(
    event: str,
    context: dict | EmailContext,
    *,
    to: str,
    sender: str,
    message_id: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    """The wire form of the email (what the sender transmits and the sink stores)."""
    subject, text, html = render_parts(event, context)
    return mime.build(
        subject=subject,
        text=text,
        html=html,
        to=to,
        sender=sender,
        message_id=message_id or make_msgid(domain="territoires.example"),
        date=utcnow(),
        attachments=attachments,
    )


def render(
    event: str, context: dict | EmailContext, *, to: str, sender: str, message_id: str | None = None
) -> EmailMessage:
    """The same email as a parsed EmailMessage, for previews and tests."""
    raw = render_bytes(event, context, to=to, sender=sender, message_id=message_id)
    return message_from_bytes(raw, policy=policy.default)
