"""The Système de design de l'État (DSFR) inlined into one stylesheet, so that a report is a
single HTML file that works offline: its core and the few components a report uses, Marianne
(regular, medium, bold) and the icons as ``data:`` URLs. Nothing is fetched when it is opened.

The files come from the ``@gouvfr/dsfr`` npm package (licence Etalab 2.0) that ``make dsfr``
installs under ``.vendor/``; without it, the report falls back on a plain stylesheet."""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

from documents.fonts import DEFAULT_MARIANNE_DIR

DIST = DEFAULT_MARIANNE_DIR.parent
PARTS = ["core/core.min.css"] + [
    f"component/{name}/{name}.min.css"
    for name in ("logo", "header", "footer", "table", "tile", "card", "badge", "callout", "notice")
]
KEPT_FONTS = {"Marianne-Regular", "Marianne-Medium", "Marianne-Bold"}
FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
URL = re.compile(r"url\((?![\"']?data:)([\"']?)([^)\"']+)\1\)")
FALLBACK = """body{font-family:Marianne,Arial,sans-serif;color:#161616;margin:0}
.fr-container{max-width:78rem;margin:0 auto;padding:0 1.5rem}table{border-collapse:collapse}
td,th{border-bottom:1px solid #ddd;padding:.4rem .6rem;text-align:left}"""


def installed() -> bool:
    return (DIST / PARTS[0]).is_file()


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The DSFR's CSS for a self-contained page (a plain fallback when it is not installed)."""
    if not installed():
        return FALLBACK
    return "\n".join(_inline(DIST / part) for part in PARTS if (DIST / part).is_file())


def _inline(css_file: Path) -> str:
    css = FONT_FACE.sub(_font_face, css_file.read_text(encoding="utf-8"))
    return URL.sub(lambda m: _data_url(css_file.parent / m.group(2)), css)


def _font_face(match: re.Match) -> str:
    """Keeps the three Marianne faces a report uses, woff2 only; drops the others."""
    rule = match.group(0)
    stem = next((s for s in KEPT_FONTS if f"/{s}.woff2" in rule), None)
    if stem is None:
        return ""
    return re.sub(r"src:[^;}]*", f'src:url(../fonts/{stem}.woff2) format("woff2")', rule)


def _data_url(path: Path) -> str:
    """A file next to the stylesheet as a ``data:`` URL; ``none`` when it is missing."""
    path = path.resolve()
    if not path.is_file() or DIST.resolve() not in path.parents:
        return "none"
    kind = {".woff2": "font/woff2", ".svg": "image/svg+xml", ".png": "image/png"}.get(path.suffix)
    if kind is None:
        return "none"
    return f"url(data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')})"
