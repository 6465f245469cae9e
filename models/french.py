"""Written French for people: plurals spelled out, French typography, dates and capitals.

No « demande(s) »: ``pluriel(2, "demande")`` gives « 2 demandes ». No « Objet : » broken at the
end of a line: ``typographie`` puts the narrow no-break space (U+202F) French printers put
before « ; : ! ? » and inside guillemets, and a no-break space after « n° ».

Each job is done once, here, for the letters, the acts and the command line alike: a date in
words (``date_fr``: « 1er juillet 2021 »), a date and time in words (``datetime_fr``), a short
date and a time stamp for tables (``date_courte``: « 7 déc. 2026 », ``horodatage``:
« 7 déc. 2026 14:05 »), a capital at the start (``initiale``) or none mid-sentence
(``en_cours_de_phrase``). Babel (CLDR, locale fr_FR) names the months; datetimes are shown in
Europe/Paris, whatever zone they carry. Amounts: ``models.money.format_eur``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

NNBSP = "\u202f"  # espace fine insécable
NBSP = "\u00a0"  # espace insécable
LOCALE = "fr_FR"
PARIS = ZoneInfo("Europe/Paris")

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


def _day(value: date | datetime | str) -> date:
    """The day people read: a datetime's day in Paris (an ISO text is read first)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value.strip() else date.fromisoformat(value)
    if isinstance(value, datetime):
        return _paris(value).date()
    return value


def _paris(value: datetime | str) -> datetime:
    """In Europe/Paris; a naive datetime is taken as UTC (how the database stores them)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS)


def date_fr(value: date | datetime | str) -> str:
    """« 21 octobre 2021 », « 1er juillet 2021 » (a datetime: its day in Paris)."""
    from babel.dates import format_date

    day = _day(value)
    return f"{'1er' if day.day == 1 else day.day} {format_date(day, 'MMMM y', locale=LOCALE)}"


def datetime_fr(value: datetime | str) -> str:
    """« 4 novembre 2021 à 18 h 00 », in Paris time."""
    local = _paris(value)
    return f"{date_fr(local.date())} à {local.hour} h {local.minute:02d}"


def date_courte(value: date | datetime | str | None, vide: str = "—") -> str:
    """« 7 déc. 2026 », « 1er juil. 2026 » for a table or a terminal; ``vide`` when there is no date."""
    if value is None or value == "":
        return vide
    from babel.dates import format_date

    day = _day(value)
    return f"{'1er' if day.day == 1 else day.day} {format_date(day, 'MMM y', locale=LOCALE)}"


def horodatage(value: datetime | str | None, vide: str = "—") -> str:
    """« 7 déc. 2026 14:05 », in Paris time, for a table or a terminal; ``vide`` when there is none."""
    if value is None or value == "":
        return vide
    local = _paris(value)
    return f"{date_courte(local.date())} {local:%H:%M}"
