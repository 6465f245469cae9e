"""Text typed by people: normalised (NFC), bounded, and free of characters that hide or disguise
what it says (control, NUL, zero-width, bidirectional overrides). A refusal carries a stable
code as the pydantic error type (``TEXTE_CARACTERES_INTERDITS``, ``TEXTE_VIDE``), which the
parsers turn into a Violation.

- ``line(n)``: one line (names, titles, emails, signatories): no line break, no tab (controls);
- ``paragraph(n)``: free text (objectives, comments): line breaks allowed.
"""

from __future__ import annotations

import unicodedata
from functools import partial
from typing import Annotated

from pydantic import BeforeValidator, EmailStr, Field
from pydantic_core import PydanticCustomError

# Refused by Unicode category: controls (Cc, but line feed in paragraphs), formats (Cf: zero-width
# characters, joiners, bidirectional embeddings, overrides and isolates, tags, the byte order
# mark), private use (Co), unassigned (Cn), surrogates (Cs), line and paragraph separators (Zl,
# Zp); and the fillers that look blank though they are letters or symbols.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
_FILLERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u180e"}


def forbidden_characters(value: str, *, multiline: bool) -> list[str]:
    allowed = {"\n"} if multiline else set()
    return sorted(
        {c for c in value if c not in allowed and (unicodedata.category(c) in _REFUSED_CATEGORIES or c in _FILLERS)}
    )


def _says_something(value: str) -> bool:
    """At least one letter or digit: a name of spaces, marks or symbols only is blank."""
    return any(unicodedata.category(c)[0] in {"L", "N"} for c in value)


def clean_text(value, *, multiline: bool, required: bool):
    """NFC, line endings as ``\\n``, surrounding spaces removed; refuses what hides text."""
    if not isinstance(value, str):
        return value  # the type check that follows says what was expected
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    bad = forbidden_characters(value, multiline=multiline)
    if bad:
        names = ", ".join(
            "retour à la ligne" if c == "\n" else "tabulation" if c == "\t" else f"U+{ord(c):04X}" for c in bad
        )
        raise PydanticCustomError(
            "TEXTE_CARACTERES_INTERDITS",
            "caractères interdits ({names}) : les caractères de "
            "contrôle, invisibles ou d'inversion du sens d'écriture sont refusés"
            + ("" if multiline else " ; ce champ tient sur une ligne"),
            {"names": names},
        )
    value = value.strip()
    if required and not _says_something(value):
        raise PydanticCustomError("TEXTE_VIDE", "texte vide : renseignez ce champ (au moins une lettre ou un chiffre)")
    return value


def line(max_length: int, *, min_length: int = 1):
    """One line of at most ``max_length`` characters (``min_length`` 0: may be empty)."""
    return Annotated[
        str,
        BeforeValidator(partial(clean_text, multiline=False, required=min_length > 0)),
        Field(min_length=min_length, max_length=max_length),
    ]


def paragraph(max_length: int, *, min_length: int = 1):
    """Free text of at most ``max_length`` characters, line breaks allowed."""
    return Annotated[
        str,
        BeforeValidator(partial(clean_text, multiline=True, required=min_length > 0)),
        Field(min_length=min_length, max_length=max_length),
    ]


# The bounds used across the platform.
Name = line(200, min_length=2)
Title = line(300, min_length=3)
Code = line(20, min_length=1)  # SIREN, SIRET, RNA, category and type codes
LongText = paragraph(5000)
Comment = paragraph(4000, min_length=0)
EmailAddress = Annotated[
    EmailStr, BeforeValidator(partial(clean_text, multiline=False, required=True)), Field(max_length=254)
]
