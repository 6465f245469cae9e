"""Reading a legal act's PDF back, for the tests: its text, its fonts, its first page as a PNG to
look at. pypdf and pypdfium2 belong to the ``test`` extra: production only writes PDFs
(``documents.render.render_pdf``)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
from pypdf import PdfReader


def first_page_png(pdf: bytes, path: Path | str, dpi: int = 110) -> Path:
    """The first page as a PNG, to look at."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72).to_pil()
        image.save(path, format="PNG")
    finally:
        document.close()
    return path


def pdf_text(pdf: bytes) -> str:
    """The text of every page, one after the other."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_fonts(pdf: bytes) -> set[str]:
    """The base names of the fonts the pages use (subset prefix removed): « Marianne-Regular »…"""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            base = str(ref.get_object().get("/BaseFont", ""))
            names.add(base.lstrip("/").split("+", 1)[-1])
    return names
