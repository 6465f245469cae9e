"""Written French for people: plurals spelled out, and French typography.

No « demande(s) »: ``pluriel(2, "demande")`` gives « 2 demandes ». No « Objet : » broken at the
end of a line: ``typographie`` puts the narrow no-break space (U+202F) French printers put
before « ; : ! ? » and inside guillemets, and a no-break space after « n° ».
"""

from __future__ import annotations

import re

NNBSP = "\u202f"  # espace fine insécable
NBSP = "\u00a0"  # espace insécable

_IRREGULAR = {"travail": "travaux", "journal": "journaux", "général": "généraux", "principal": "principaux"}


def pluriel_de(mot: str) -> str:
    """The plural of one word (the regular rules of the words the platform uses)."""
    if mot in _IRREGULAR:
        return _IRREGULAR[mot]
    if mot.endswith(("s", "x", "z")):
        return mot
    if mot.endswith(("au", "eu")):
        return mot + "x"
    return mot + "s"


def accorde(n: int, singulier: str, pluriel: str | None = None) -> str:
    """The words without the number: « demande » for 0 or 1, « demandes » from 2 (French counts
    0 and 1 as singular). Several words are each put in the plural: « jour ouvré » → « jours ouvrés »."""
    if abs(n) < 2:
        return singulier
    return pluriel or " ".join(pluriel_de(w) for w in singulier.split(" "))


def pluriel(n: int, singulier: str, pluriel: str | None = None) -> str:
    """« 1 demande », « 3 demandes », « 12 jours ouvrés », « 1 500 actions »."""
    number = f"{n:,}".replace(",", NNBSP)
    return f"{number} {accorde(n, singulier, pluriel)}"


_BEFORE = re.compile(r"[ \u00a0]?([;:!?])(?=[\s\u00a0)»]|$)")
_OPEN_QUOTE = re.compile(r"«[ \u00a0]?")
_CLOSE_QUOTE = re.compile(r"[ \u00a0]?»")
_NUMERO = re.compile(r"\b([nN])°[ \u00a0]?(?=[\w\d])")


def typographie(text: str) -> str:
    """French punctuation spacing on plain text (never on markup: see ``notifications.render``).

    « Objet : » → « Objet\u202f: », « « texte » » → « «\u202ftexte\u202f» », « n°12156 » →
    « n°\u00a012156 ». A colon glued to what follows (an address « http://… », a time « 18:00 »)
    is left alone, as is a space before a colon that ends nothing (« : » at the start of a line
    keeps its place)."""
    text = _BEFORE.sub(
        lambda m: (
            m.group(0)
            if m.start() == 0 or text[m.start() - 1] == "\n" and m.group(0)[0] == m.group(1)
            else NNBSP + m.group(1)
        ),
        text,
    )
    text = _OPEN_QUOTE.sub("«" + NNBSP, text)
    text = _CLOSE_QUOTE.sub(NNBSP + "»", text)
    return _NUMERO.sub(lambda m: f"{m.group(1)}°{NBSP}", text)


def de(nom: str) -> str:
    """« de » before a name with its article: « le Rhône » → « du Rhône », « les Landes » → « des
    Landes », « la Vienne » → « de la Vienne », « l'Isère » → « de l'Isère », « Paris » → « de Paris »."""
    for article, contracted in (("le ", "du "), ("les ", "des ")):
        if nom.startswith(article):
            return contracted + nom[len(article) :]
    return ("d'" if nom[:1].lower() in "aeiouyéèêàâîïôh" and not nom.startswith(("la ", "l'")) else "de ") + nom


def en_cours_de_phrase(text: str) -> str:
    """A sentence continued after a colon: its first letter in lower case (« Adresser… » →
    « adresser… »), unless the first word is an acronym or a proper noun in capitals (« CTAI »)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def initiale(text: str) -> str:
    """The first letter in upper case, the rest as written (Jinja's ``capitalize`` lowers the rest:
    « Cerfa » would become « cerfa »)."""
    return text[:1].upper() + text[1:]
