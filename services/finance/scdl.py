"""The open-data file of the acts signed, in the SCDL « subventions » schema, version 2.1.1.

A pure formatter (standard library and ``models.*`` only: no database, no Prefect): the acts come
in as ``ScdlAct`` values (``services.finance.exports.scdl_acts`` reads them from the database), the
CSV goes out as text. The schema itself is vendored in ``data/scdl-subventions-2.1.1.json``
(``SCHEMA_PATH``); ``tests/scdl_validation.py`` validates a file against it.

Formats, per the schema (Table Schema, CSV with ``,``, UTF-8, empty cell = missing value):

- ``dateConvention``: ``YYYY-MM-DD``;
- ``montant``: the whole subsidy in euros, ``.`` as decimal separator, two decimals (``50000.00``);
- ``nature``: ``aide en numéraire`` (every act here is a cash grant);
- ``conditionsVersement``: ``unique`` (one payment or none yet) or ``échelonné`` (several),
  unless the act says otherwise;
- ``datesPeriodeVersement``: one date when a single payment was ordered, ``first/last`` when
  several, the act's period ``start/end`` when none yet (the pattern allows a date or a period,
  not a list of dates);
- ``notificationUE``: ``oui`` / ``non``;
- ``pourcentageSubvention``: between 0.01 and 1, ``1.00`` for a single beneficiary;
- ``objet``: one line, under 256 characters (cut with « … »).

Every text cell is neutralised against spreadsheet formulas (``cells.spreadsheet_safe``); dates and
numbers are written by this module and never start like a formula.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from services.finance.cells import spreadsheet_safe

SCHEMA_VERSION = "2.1.1"
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / f"scdl-subventions-{SCHEMA_VERSION}.json"

# The schema's fields, in the schema's order (a test checks them against SCHEMA_PATH).
FIELDS = (
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
)

OBJET_MAX_LENGTH = 256  # the schema's maxLength; the written objet stays strictly under it
NATURE_CASH = "aide en numéraire"
SINGLE_PAYMENT = "unique"
STAGGERED_PAYMENTS = "échelonné"
ELLIPSIS = "…"

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ScdlAct:
    """One act signed (an arrêté or a convention), as one line of the SCDL file."""

    nom_attribuant: str  # « Préfecture de la Vienne »
    id_attribuant: str  # SIRET, 14 digits
    date_convention: date  # the act's signature date
    reference_decision: str  # the act number, « AP-86-2021-0001 »
    nom_beneficiaire: str
    id_beneficiaire: str | None  # SIRET
    rna_beneficiaire: str | None  # W + 9 digits
    objet: str
    montant_cents: int  # the whole subsidy, before any split between beneficiaries
    versements: list[date]  # the dates of the payments ordered, possibly none yet
    periode_debut: date
    periode_fin: date
    dispositif: str  # an identifier of the « dispositifs d'aide » schema, or "" when none is published
    id_rae: str | None = None
    notification_ue: bool = False
    pourcentage: Decimal = Decimal("1")  # the beneficiary's share: 1 for a single beneficiary
    conditions: str | None = field(default=None)  # None: computed from the number of payments


def _text(value: str | None) -> str:
    """A one-line text cell: runs of whitespace (newlines, tabs) collapsed, formula neutralised."""
    return spreadsheet_safe(_SPACES.sub(" ", value or "").strip())


def _objet(value: str) -> str:
    text = _text(value)
    limit = OBJET_MAX_LENGTH - 1
    if len(text) > limit:
        text = text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return text


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros}.{rest:02d}"


def _share(value: Decimal) -> str:
    share = Decimal(value)
    if share == share.quantize(Decimal("0.01")):
        return f"{share:.2f}"
    return format(share.normalize(), "f")


def conditions_versement(act: ScdlAct) -> str:
    """``unique`` when one payment (or none yet), ``échelonné`` when several, unless the act says."""
    if act.conditions:
        return act.conditions
    return STAGGERED_PAYMENTS if len(act.versements) > 1 else SINGLE_PAYMENT


def dates_periode_versement(act: ScdlAct) -> str:
    """The payment date, or the period ``first/last`` payment, or the act's period when none yet."""
    paid = sorted(act.versements)
    if len(paid) == 1:
        return paid[0].isoformat()
    if paid:
        return f"{paid[0].isoformat()}/{paid[-1].isoformat()}"
    return f"{act.periode_debut.isoformat()}/{act.periode_fin.isoformat()}"


def scdl_row(act: ScdlAct) -> dict[str, str]:
    """One act as one line of the file: every value a string, keyed by the schema's field names."""
    return {
        "nomAttribuant": _text(act.nom_attribuant),
        "idAttribuant": _text(act.id_attribuant),
        "dateConvention": act.date_convention.isoformat(),
        "referenceDecision": _text(act.reference_decision),
        "nomBeneficiaire": _text(act.nom_beneficiaire),
        "idBeneficiaire": _text(act.id_beneficiaire),
        "rnaBeneficiaire": _text(act.rna_beneficiaire),
        "objet": _objet(act.objet),
        "montant": _amount(act.montant_cents),
        "nature": NATURE_CASH,
        "conditionsVersement": _text(conditions_versement(act)),
        "datesPeriodeVersement": dates_periode_versement(act),
        "idRAE": _text(act.id_rae),
        "notificationUE": "oui" if act.notification_ue else "non",
        "pourcentageSubvention": _share(act.pourcentage),
        "dispositifAide": _text(act.dispositif),
    }


def scdl_rows(acts) -> list[dict[str, str]]:
    """One line per act, in the order given."""
    return [scdl_row(act) for act in acts]


def scdl_csv(acts) -> str:
    """The file: header = the schema's fields in its order, ``,`` separated, CRLF line ends
    (RFC 4180); to be written as UTF-8."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, delimiter=",", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(scdl_rows(acts))
    return buffer.getvalue()
