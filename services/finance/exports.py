"""Exports: the open-data file of delegated subsidies (SCDL « subventions » schema), and CSV
writing safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from sqlmodel import Session, select

from models.actors import Collectivite, Porteur
from models.decision import Decision
from models.money import cents_to_euros
from models.ptai import PtaiRequest, PtaiStatus

ATTRIBUTOR = "Ministère de l'Intérieur — DGEF/DIAN"
ATTRIBUTOR_SIRET = "11000101300017"  # the ministry's SIRET, as published in SCDL files


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and their full-width forms


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(fields: list[str], rows: list[dict]) -> str:
    """Semicolon-separated, as French spreadsheets expect; every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(row.get(k)) for k in fields} for row in rows)
    return buffer.getvalue()


def scdl_rows(session: Session, year: int) -> list[dict]:
    requests = session.exec(select(PtaiRequest).where(PtaiRequest.campaign_year == year,
                                                      PtaiRequest.status == PtaiStatus.DELEGATED).order_by(PtaiRequest.id))
    rows = []
    for r in requests:
        beneficiary = session.get(Porteur, r.porteur_id) if r.porteur_id else None
        collectivite = session.get(Collectivite, r.collectivite_id)
        delegated = session.exec(select(Decision).where(Decision.entity_type == "ptai", Decision.entity_id == r.id,
                                                        Decision.decision == "delegated")).first()
        rows.append({
            "nomAttribuant": ATTRIBUTOR, "idAttribuant": ATTRIBUTOR_SIRET,
            "dateConvention": delegated.created_at.date().isoformat() if delegated else "",
            "referenceDecision": r.reference,
            "nomBeneficiaire": beneficiary.name if beneficiary else collectivite.name,
            "idBeneficiaire": beneficiary.siret if beneficiary else collectivite.siren,
            "objet": r.title, "montant": str(cents_to_euros(r.granted_cents or 0)),
            "nature": "aide en numéraire", "conditionsVersement": "Echelonné",
            "datesPeriodeVersement": f"{r.period_start.isoformat()}_{r.period_end.isoformat()}",
            "idRAE": "", "notificationUE": "Non",
            "pourcentageSubvention": f"{(r.granted_cents or 0) / r.total_cost_cents:.2f}" if r.total_cost_cents else "",
        })
    return rows
