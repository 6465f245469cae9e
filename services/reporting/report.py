"""The national dashboard's HTML page, written where ``territoires up`` serves the reports:
the latest as ``tableau-de-bord-national.html``, and one per day. Written whole or not at all
(a temporary file renamed), so a reader never opens half a page."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from documents.dashboard import render_html
from services.db import unit_of_work
from services.reporting.national import figures
from settings import get_settings

LATEST = "tableau-de-bord-national.html"


def write_report(figures: dict, today: date, folder: Path | None = None) -> Path:
    folder = folder or get_settings().resolved_reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    html = render_html(figures).encode("utf-8")
    for name in (f"tableau-de-bord-national-{today.isoformat()}.html", LATEST):
        temporary = folder / f".{name}.tmp"
        temporary.write_bytes(html)
        os.replace(temporary, folder / name)
    return folder / LATEST


def refresh(today: date, folder: Path | None = None) -> tuple[dict, Path]:
    """The figures as of now, and the page written from them: the daily flow, ``territoires up``
    and ``territoires tableau-de-bord`` all publish through here."""
    with unit_of_work() as session:
        found = figures(session, today)
    return found, write_report(found, today, folder)


def report_link(path: Path) -> str:
    """Where a person opens the page: the reports' address when the platform serves them,
    else the file itself."""
    base = get_settings().reports_url
    return f"{base.rstrip('/')}/{path.name}" if base else path.resolve().as_uri()
