"""Exports: the open-data file of the acts signed (SCDL « subventions » schema, version 2.1.1),
and CSV writing safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from sqlmodel import Session, select

from models.acts import ActStatus, LegalAct, Payment, prefecture_siret
from models.reference import Departement, departement_de
from services.acts import records as act_records
from services.finance.cells import FORMULA_STARTS, spreadsheet_safe  # noqa: F401 - importable from here too
from services.finance.scdl import ScdlAct


def to_csv(fields: list[str], rows: list[dict]) -> str:
    """Semicolon-separated, as French spreadsheets expect; every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(row.get(k)) for k in fields} for row in rows)
    return buffer.getvalue()


def scdl_acts(session: Session, year: int) -> list[ScdlAct]:
    """One line per act in force of the year (signed: a replaced version gives way to the one
    that replaces it), PTAI and CTAI alike, as the SCDL « subventions » schema describes it."""
    acts = list(
        session.exec(
            select(LegalAct)
            .where(LegalAct.year == year, LegalAct.status == ActStatus.SIGNED)
            .order_by(LegalAct.departement_code, LegalAct.id)
        )
    )
    deps = {d.code: d for d in session.exec(select(Departement))}
    paid: dict[str, list] = defaultdict(list)
    for key, day in session.execute(
        select(Payment.family_key, Payment.ordered_on)
        .where(Payment.family_key.in_([a.family_key for a in acts] or [""]))
        .order_by(Payment.ordered_on)
    ):
        paid[key].append(day)
    out = []
    for act in acts:
        lines = act_records.lines_of(session, act.id)
        beneficiary = act_records.beneficiary_of(session, act)
        dep = deps[act.departement_code]
        titles = [line.title for line in lines]
        objet = titles[0] if len(titles) == 1 else f"{len(titles)} actions d'intégration : " + " ; ".join(titles)
        out.append(
            ScdlAct(
                nom_attribuant=f"Préfecture {departement_de(dep.code, dep.nom)}",
                id_attribuant=prefecture_siret(dep.code),
                date_convention=act.signed_on,
                reference_decision=act.reference,
                nom_beneficiaire=beneficiary.name,
                id_beneficiaire=getattr(beneficiary, "siret", None),
                rna_beneficiaire=getattr(beneficiary, "rna", None),
                objet=objet,
                montant_cents=act.total_cents,
                versements=sorted(set(paid[act.family_key])),
                periode_debut=min(line.period_start for line in lines),
                periode_fin=max(line.period_end for line in lines),
                dispositif="",
            )
        )  # an identifier of the « dispositifs d'aide » schema: none is published for these yet
    return out
