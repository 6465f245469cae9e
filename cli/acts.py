"""``territoires acte show|pdf|list``, ``paiements add|list`` and ``crf transmettre|show|list|resume``:
what follows a decision (the legal act, its payments, the compte rendu financier)."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime
from typing import Annotated

import typer

from cli.output import ID, YEAR, fail, print_json, print_table, user_errors
from cli.prefect_link import require_prefect
from models.errors import Violation
from models.money import parse_euros
from services.db import unit_of_work

acte_app = typer.Typer(help="Actes attributifs : arrêtés et conventions (R13).", no_args_is_help=True)
paiements_app = typer.Typer(
    help="Paiements des actes signés (avance, solde), avec leur EJ Chorus.", no_args_is_help=True
)
crf_app = typer.Typer(
    help="Comptes rendus financiers (Cerfa n° 15059) des associations subventionnées (R14).", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON, pour les scripts.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Sortie CSV (séparateur point-virgule), pour un tableur.")]
DepOpt = Annotated[str | None, typer.Option("--departement", help="Code du département (86, 2A, 974…)")]
YearOpt = Annotated[int | None, typer.Option("--annee", help="Année financée", **YEAR)]


def register(app: typer.Typer) -> None:
    app.add_typer(acte_app, name="acte")
    app.add_typer(paiements_app, name="paiements")
    app.add_typer(crf_app, name="crf")


def _day(value: str, field: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        fail(
            [Violation("DATE_INVALIDE", field, f"« {value[:40]} » : date attendue au format AAAA-MM-JJ")], as_json=True
        )


def _amount(value: str, field: str):
    try:
        return parse_euros(value)
    except ValueError as exc:
        fail([Violation("MONTANT_ILLISIBLE", field, str(exc))], as_json=True)


def _rows_out(rows: list[dict], columns: list[tuple[str, str]], as_json: bool, as_csv: bool) -> None:
    if as_json:
        print_json(rows)
    elif as_csv:
        from services.finance.exports import to_csv

        sys.stdout.write(to_csv([key for key, _ in columns], rows))
    else:
        print_table(rows, columns)


# --- acte ----------------------------------------------------------------------------------------


@acte_app.command("show")
def acte_show(acte_id: Annotated[int, typer.Argument(help="N° de l'acte", **ID)]) -> None:
    """Un acte : bénéficiaire, lignes, montant, signature, empreinte du PDF, paiements, compte rendu (JSON)."""
    from services.acts import records
    from services.finance.payments import schedule_of

    with user_errors(True), unit_of_work() as session:
        data = records.show(session, acte_id)
        data["echeancier"] = schedule_of(session, records.load(session, acte_id))
    print_json(data)


@acte_app.command("pdf")
def acte_pdf(acte_id: Annotated[int, typer.Argument(help="N° de l'acte", **ID)]) -> None:
    """Écrit le PDF de l'acte sur la sortie standard : l'acte signé tel qu'il a été envoyé (son empreinte SHA-256
    est vérifiée), ou le projet non signé. Exemple : territoires acte pdf 4 > acte.pdf"""
    import hashlib

    from documents.render import render_pdf
    from services.acts import records

    with user_errors(False), unit_of_work() as session:
        act = records.load(session, acte_id)
        stored = records.stored_document(session, act.id)
        if stored is not None:
            if hashlib.sha256(stored.content).hexdigest() != stored.sha256:
                fail(
                    [
                        Violation(
                            "DOCUMENT_ALTERE",
                            "acte",
                            f"le PDF de l'acte {act.reference} ne correspond plus à son "
                            "empreinte SHA-256 : prévenez l'administrateur",
                        )
                    ],
                    as_json=False,
                )
            pdf = bytes(stored.content)
        else:
            pdf = render_pdf(records.document(session, act))
    if sys.stdout.isatty():
        fail(
            [
                Violation(
                    "SORTIE_TERMINAL",
                    "sortie",
                    f"redirigez la sortie vers un fichier : territoires acte pdf {acte_id} > acte.pdf",
                )
            ],
            as_json=False,
        )
    sys.stdout.buffer.write(pdf)
    sys.stdout.flush()


# --- paiements -----------------------------------------------------------------------------------


@paiements_app.command("add")
def paiements_add(
    acte_id: Annotated[int, typer.Argument(help="N° de l'acte", **ID)],
    tranche: Annotated[str, typer.Option(help="Tranche de l'échéancier : avance, solde")],
    montant: Annotated[str, typer.Option(help="Montant ordonné en euros (12500 ou 12 500,50)")],
    ej: Annotated[str, typer.Option("--ej", help="N° d'engagement juridique Chorus (10 chiffres)")],
    date_: Annotated[str, typer.Option("--date", help="Date de l'ordre de paiement (AAAA-MM-JJ)")],
    agent: Annotated[str, typer.Option(help="Courriel de l'agent qui enregistre le paiement")],
) -> None:
    """Enregistre un paiement ordonné sur un acte signé ; le même ordre enregistré deux fois ne compte qu'une fois (JSON)."""
    from services.finance import payments

    ordered_on, amount = _day(date_, "date"), _amount(montant, "montant")
    with user_errors(True), unit_of_work() as session:
        payment, created = payments.record(
            session,
            acte_id,
            tranche=tranche.strip().lower(),
            amount_eur=amount,
            ej_number=ej,
            ordered_on=ordered_on,
            agent_email=agent,
        )
        result = {
            "paiement_id": payment.id,
            "acte_id": acte_id,
            "tranche": payment.tranche,
            "montant_eur": f"{payment.amount_cents / 100:.2f}",
            "ej": payment.ej_number,
            "date": payment.ordered_on.isoformat(),
            "nouveau": created,
        }
    print_json(result)


@paiements_app.command("list")
def paiements_list(
    departement: DepOpt = None, annee: YearOpt = None, as_json: JsonOpt = False, as_csv: CsvOpt = False
) -> None:
    """Les paiements ordonnés, par date."""
    from services.finance import payments

    with user_errors(as_json), unit_of_work() as session:
        rows = payments.listing(session, departement=departement, year=annee)
    _rows_out(
        rows,
        [
            ("id", "n°"),
            ("date", "date"),
            ("acte", "acte"),
            ("departement", "dépt"),
            ("annee", "année"),
            ("beneficiaire", "bénéficiaire"),
            ("tranche", "tranche"),
            ("montant_eur", "montant (€)"),
            ("ej", "EJ"),
            ("subvention_eur", "subvention (€)"),
        ],
        as_json,
        as_csv,
    )


# --- comptes rendus financiers -------------------------------------------------------------------


@crf_app.command("transmettre")
def crf_transmettre(
    crf_id: Annotated[int, typer.Argument(help="N° du compte rendu financier", **ID)],
    depenses: Annotated[str, typer.Option(help="Total des dépenses réalisées, en euros")],
    subvention_utilisee: Annotated[str, typer.Option(help="Part de la subvention utilisée, en euros")],
    date_: Annotated[str, typer.Option("--date", help="Date de transmission (AAAA-MM-JJ)")],
    par: Annotated[
        str, typer.Option("--par", help="Qui transmet (l'association, ou l'agent qui enregistre un envoi postal)")
    ],
    commentaire: Annotated[str | None, typer.Option(help="Compte rendu qualitatif de l'action")] = None,
) -> None:
    """Enregistre le compte rendu financier (ou ses compléments) transmis par l'association et ouvre son examen par
    l'instruction (JSON)."""
    from services.crf import records
    from services.crf.workflow import CRF
    from services.engine import launch

    transmitted_on = _day(date_, "date")
    expenses, used = _amount(depenses, "depenses"), _amount(subvention_utilisee, "subvention_utilisee")
    with user_errors(True):
        require_prefect()
        with unit_of_work() as session:
            report = records.transmit(
                session,
                crf_id,
                transmitted_on=transmitted_on,
                expenses_eur=expenses,
                used_eur=used,
                summary=commentaire,
                by=par,
            )
            reference, rounds = report.reference, report.rounds
        run_id = asyncio.run(launch.start_case_step(CRF, crf_id, f"depot{rounds}"))
    print_json({"crf_id": crf_id, "reference": reference, "statut": "received", "flow_run_id": run_id})


@crf_app.command("show")
def crf_show(crf_id: Annotated[int, typer.Argument(help="N° du compte rendu financier", **ID)]) -> None:
    """Un compte rendu financier : échéance, statut, montants transmis, décisions (JSON)."""
    from services.crf import records

    with user_errors(True), unit_of_work() as session:
        data = records.show(session, crf_id)
    print_json(data)


@crf_app.command("list")
def crf_list(
    departement: DepOpt = None, annee: YearOpt = None, as_json: JsonOpt = False, as_csv: CsvOpt = False
) -> None:
    """Les comptes rendus financiers, par échéance ; « bloque » : l'association ne peut déposer de nouvelle demande (R14)."""
    from services.crf import records

    with user_errors(as_json), unit_of_work() as session:
        rows = records.listing(session, departement=departement, year=annee)
    _rows_out(
        rows,
        [
            ("id", "n°"),
            ("reference", "référence"),
            ("porteur", "association"),
            ("annee", "année"),
            ("echeance", "échéance"),
            ("statut_libelle", "statut"),
            ("bloque", "bloque les demandes (R14)"),
        ],
        as_json,
        as_csv,
    )
