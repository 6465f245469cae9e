"""Builds the multipart/alternative bytes of an email directly.

The standard library's EmailMessage costs about 1 ms per message in header handling, more than
the SMTP exchange itself on a local network; this writes the same structure in a few dozen
microseconds. The output is parsed back by the standard parser in the tests.
"""

from __future__ import annotations

import binascii
import secrets
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr


def encode_address(value: str) -> str:
    if "<" not in value:
        return value.strip()
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def encode_header(value: str) -> str:
    """RFC 2047 encoded-words (base64), cut on character boundaries, folded."""
    if value.isascii():
        return value
    words, chunk = [], ""
    for char in value:
        if len((chunk + char).encode("utf-8")) > 45:
            words.append(chunk)
            chunk = ""
        chunk += char
    words.append(chunk)
    return "\r\n ".join(
        f"=?utf-8?b?{binascii.b2a_base64(w.encode('utf-8'), newline=False).decode('ascii')}?=" for w in words
    )


def _part(content_type: str, body: str) -> bytes:
    encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode("utf-8"), istext=True)
    encoded = encoded.replace(b"\n", b"\r\n")
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
    ).encode("ascii") + encoded


def _attachment(filename: str, content_type: str, content: bytes) -> bytes:
    encoded = binascii.b2a_base64(content, newline=False).decode("ascii")
    lines = "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    name = filename if filename.isascii() else "piece-jointe" + filename[filename.rfind(".") :]
    return (
        f'Content-Type: {content_type}; name="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="{name}"\r\n\r\n{lines}'
    ).encode("ascii")


def build(
    *,
    subject: str,
    text: str,
    html: str,
    to: str,
    sender: str,
    message_id: str,
    date: datetime,
    language: str = "fr",
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    """``attachments``: (filename, content type, bytes); with any, the text and HTML
    alternatives are wrapped in a multipart/mixed message that carries them."""
    boundary = f"=_territoires_{secrets.token_hex(12)}"
    headers = [
        f"From: {encode_address(sender)}",
        f"To: {encode_address(to)}",
        f"Subject: {encode_header(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
        f"Content-Language: {language}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    sep = f"\r\n--{boundary}\r\n".encode("ascii")
    alternative = (
        sep + _part("text/plain", text) + sep + _part("text/html", html) + f"\r\n--{boundary}--\r\n".encode("ascii")
    )
    if not attachments:
        return ("\r\n".join(headers) + "\r\n").encode("ascii") + alternative
    mixed = f"=_territoires_{secrets.token_hex(12)}"
    headers[-1] = f'Content-Type: multipart/mixed; boundary="{mixed}"'
    outer = f"\r\n--{mixed}\r\n".encode("ascii")
    body = outer + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode("ascii") + alternative
    for filename, content_type, content in attachments:
        body += outer + _attachment(filename, content_type, content)
    return ("\r\n".join(headers) + "\r\n").encode("ascii") + body + f"\r\n--{mixed}--\r\n".encode("ascii")
