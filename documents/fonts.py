"""The State's typeface, Marianne, where it is installed; the stylesheet falls back otherwise.

Marianne ships in the DSFR npm package, which ``make dsfr`` installs under the repository's
``.vendor/`` folder (``TERRITOIRES_MARIANNE_DIR`` points elsewhere). ``@font-face`` rules are
declared only for the files that exist, with ``file:`` URLs: nothing is fetched from a network.
"""

from __future__ import annotations

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
FORMATS = (("woff2", "woff2"), ("woff", "woff"))  # WeasyPrint reads woff2 through fontTools + brotli


def marianne_dir() -> Path:
    """Where the Marianne files are looked for (they may be absent)."""
    configured = get_settings().marianne_dir
    return configured if configured is not None else DEFAULT_MARIANNE_DIR


def _face_file(folder: Path, stem: str) -> tuple[Path, str] | None:
    for extension, css_format in FORMATS:
        path = folder / f"{stem}.{extension}"
        if path.is_file():
            return path, css_format
    return None


def font_face_css(folder: Path | None = None) -> str:
    """The ``@font-face`` rules of the Marianne files found in ``folder`` (empty if none)."""
    folder = marianne_dir() if folder is None else folder
    rules = []
    for (weight, style), stem in MARIANNE_FACES.items():
        found = _face_file(folder, stem)
        if found is None:
            continue
        path, css_format = found
        rules.append(
            f'@font-face {{ font-family: "Marianne"; font-weight: {weight}; font-style: {style}; '
            f'src: url("{path.resolve().as_uri()}") format("{css_format}"); }}'
        )
    return "\n".join(rules)
