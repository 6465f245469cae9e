"""The State's typeface, Marianne, where it is installed; the stylesheet falls back otherwise.

Marianne ships in the DSFR npm package, which ``make dsfr`` installs under the repository's
``.vendor/`` folder (``TERRITOIRES_MARIANNE_DIR`` points elsewhere). ``@font-face`` rules are
declared only for the files that exist, with ``file:`` URLs: nothing is fetched from a network.

The DSFR ships woff2, compressed for browsers. A PDF (WeasyPrint) or a chart (matplotlib) needs
the plain TrueType file: each face is decompressed once into a cache folder named after the
source's content, instead of at every act rendered (about 0.6 s of CPU per face and per act).
"""

from __future__ import annotations

import hashlib
import logging
import os
from functools import lru_cache
from pathlib import Path

from settings import get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MARIANNE_DIR = REPO_ROOT / ".vendor" / "dsfr" / "node_modules" / "@gouvfr" / "dsfr" / "dist" / "fonts"

# (weight, style) → file stem in the DSFR's dist/fonts.
MARIANNE_FACES = {
    (300, "normal"): "Marianne-Light",
    (400, "normal"): "Marianne-Regular",
    (400, "italic"): "Marianne-Regular_Italic",
    (500, "normal"): "Marianne-Medium",
    (700, "normal"): "Marianne-Bold",
    (700, "italic"): "Marianne-Bold_Italic",
}
SOURCES = ("ttf", "otf", "woff2", "woff")  # a plain file is used as it is, a web font decompressed
PLAIN = (".ttf", ".otf")
log = logging.getLogger(__name__)


def marianne_dir() -> Path:
    """Where the Marianne files are looked for (they may be absent)."""
    configured = get_settings().marianne_dir
    return configured if configured is not None else DEFAULT_MARIANNE_DIR


def marianne_file(stem: str, folder: Path | None = None) -> Path | None:
    """The face ``stem`` (« Marianne-Bold ») as a plain TrueType/OpenType file, or None when the
    folder has no file of it. Where the cache cannot be written (a home without write access), the
    web font itself: WeasyPrint then decompresses it at each act, as it did before the cache."""
    folder = marianne_dir() if folder is None else folder
    source = next((p for p in (folder / f"{stem}.{ext}" for ext in SOURCES) if p.is_file()), None)
    if source is None or source.suffix in PLAIN:
        return source
    stat = source.stat()
    target = _cache_dir() / _digest(source, stat.st_mtime_ns, stat.st_size) / f"{stem}.ttf"
    if not target.is_file():
        try:
            _decompress(source, target)
        except OSError as exc:
            log.warning("cache des polices inutilisable (%s) : %s est lu compressé", exc, source.name)
            return source
    return target


@lru_cache(maxsize=64)
def _digest(source: Path, mtime_ns: int, size: int) -> str:
    """The cache's name for a font file's content: read and hashed once per file version, not at
    every act (each act asks for six faces)."""
    return hashlib.sha256(source.read_bytes()).hexdigest()[:16]


def _cache_dir() -> Path:
    """The user's own cache (not a shared temporary folder another account could fill first)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "territoires" / "fonts"


def _decompress(source: Path, target: Path) -> None:
    from fontTools.ttLib import TTFont  # WeasyPrint's own dependency

    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    font = TTFont(source)
    font.flavor = None
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # test processes may race here
    font.save(partial)
    partial.replace(target)


def font_face_css(folder: Path | None = None) -> str:
    """The ``@font-face`` rules of the Marianne files found in ``folder`` (empty if none)."""
    rules = []
    for (weight, style), stem in MARIANNE_FACES.items():
        path = marianne_file(stem, folder)
        if path is None:
            continue
        rules.append(
            f'@font-face {{ font-family: "Marianne"; font-weight: {weight}; font-style: {style}; '
            f'src: url("{path.resolve().as_uri()}"); }}'
        )
    return "\n".join(rules)
