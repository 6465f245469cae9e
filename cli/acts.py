"""``territoires acte voir|pdf|liste``, ``paiements ajouter|liste`` and ``crf transmettre|voir|liste``:
what follows a decision (the legal act, its payments, the compte rendu financier)."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from typing import Annotated

import typer

from cli import listings
from cli.output import (
    ID,
    YEAR,
    CsvOpt,
    JsonOpt,
    command,
    day,
    echo_fields,
    eur,
    fail,
    parse_day,
    print_decisions,
    print_json,
    print_table,
    user_errors,
)
from cli.prefect_link import require_prefect
from models.errors import Violation
from models.money import cents_to_euros

acte_app = typer.Typer()
paiements_app = typer.Typer()
report_app = typer.Typer()
DepOpt = Annotated[str | None, typer.Option("--departement", help="Code du département (86, 2A, 974…)")]
YearOpt = Annotated[int | None, typer.Option("--annee", help="Année financée", **YEAR)]

listings.register_acts(acte_app)


def _amount(value: str, field: str, as_json: bool):
    from models.money import parse_euros

    try:
        return parse_euros(value)
    except ValueError as exc:
        fail([Violation("MONTANT_ILLISIBLE", field, str(exc))], as_json=as_json)


def _cents(euros: str | None) -> int | None:
    return None if euros is None else int(Decimal(euros) * 100)


def _rows_out(rows: list[dict], columns: list[tuple[str, str]], as_json: bool, as_csv: bool) -> None:
    if as_json:
        print_json(rows)
    elif as_csv:
        from services.finance.exports import to_csv

        sys.stdout.write(to_csv([key for key, _ in columns], rows))
    else:
        print_table(rows, columns)


def _checked_departement(departement: str | None, as_json: bool) -> str | None:
    """The département filter, checked as the lists' are (``DEPARTEMENT_INCONNU``)."""
    if departement is None:
        return None
    from services.db import unit_of_work
    from services.reporting.listings import other_list_filter

    with user_errors(as_json), unit_of_work() as session:
        return other_list_filter(session, departement=departement).departement


# --- acte ----------------------------------------------------------------------------------------


@command(acte_app, "voir", "show")
def acte_show(acte_id: Annotated[int, typer.Argument(help="N° de l'acte", **ID)], as_json: JsonOpt = False) -> None:
    """Un acte : bénéficiaire, lignes, montant, signature, empreinte du PDF, paiements, compte rendu."""
    from services.acts import records
    from services.db import unit_of_work
    from services.finance.payments import schedule_of

    with user_errors(as_json), unit_of_work() as session:
        data = records.show(session, acte_id)
        data["echeancier"] = schedule_of(session, records.load(session, acte_id))
    if as_json:
        print_json(data)
        return
    signature, document, report = data["signature"], data["document"], data["compte_rendu"]
    typer.echo(f"{data['type_libelle'].capitalize()} {data['reference']} (version {data['version']})")
    echo_fields(
        [
            ("Statut", data["statut_libelle"]),
            ("Bénéficiaire", data["beneficiaire"]["nom"]),
            ("Collectivités", ", ".join(data["collectivites"])),
            ("Département, année", f"{data['departement']}, {data['annee']}"),
            ("Montant", eur(data["montant_cents"])),
            ("Remplace", data["remplace"]),
            (
                "Signé",
                f"le {day(signature['date'])} par {signature['signataire']}, {signature['qualite']}"
                if signature
                else None,
            ),
            ("PDF (SHA-256)", f"{document['fichier']} ({document['sha256']})" if document else None),
            ("EJ Chorus", data["ej"]),
            ("Payé", eur(data["paye_cents"])),
            (
                "Compte rendu financier",
                f"{report['reference']}, dû le {day(report['echeance'])} : {report['statut_libelle']}"
                if report
                else None,
            ),
        ]
    )
    typer.echo("  Lignes :")
    for line in data["lignes"]:
        typer.echo(f"    - {line['reference']} {line['objet']} : {eur(line['montant_cents'])}")
    typer.echo("  Échéancier :")
    for term in data["echeancier"]:
        typer.echo(
            f"    - {term['libelle']} : {eur(term['montant_cents'])} ({term['condition']}) ; "
            f"payé {eur(term['paye_cents'])}"
        )


@command(acte_app, "pdf")
def acte_pdf(acte_id: Annotated[int, typer.Argument(help="N° de l'acte", **ID)]) -> None:
    """Écrit le PDF de l'acte sur la sortie standard : l'acte signé tel qu'il a été envoyé (son empreinte SHA-256
    est vérifiée), ou le projet non signé. Exemple : territoires acte pdf 4 > acte.pdf"""
    import hashlib

    from documents.render import render_pdf
    from services.acts import records
    from services.db import unit_of_work

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
    sys.stdout.buffer.write(pdf)
    sys.stdout.flush()


# --- paiements -----------------------------------------------------------------------------------


@command(paiements_app, "ajouter", "add")
def paiements_add(
    acte_id: Annotated[int, typer.Argument(help="N° de l'acte", **ID)],
    tranche: Annotated[str, typer.Option(help="Tranche de l'échéancier : avance, solde")],
    montant: Annotated[str, typer.Option(help="Montant ordonné en euros (12500 ou 12 500,50)")],
    ej: Annotated[str, typer.Option("--ej", help="N° d'engagement juridique Chorus (10 chiffres)")],
    date_: Annotated[
        str, typer.Option("--date", help="Date de l'ordre de paiement (AAAA-MM-JJ, au plus tard aujourd'hui)")
    ],
    agent: Annotated[str, typer.Option(help="Courriel de l'agent qui enregistre le paiement")],
    as_json: JsonOpt = False,
) -> None:
    """Enregistre un paiement ordonné sur un acte signé ; le même ordre enregistré deux fois ne compte qu'une fois."""
    from services.db import unit_of_work
    from services.finance import payments

    ordered_on = parse_day(date_, "date", as_json=as_json, what="la date d'un ordre de paiement")
    amount = _amount(montant, "montant", as_json)
    with user_errors(as_json), unit_of_work() as session:
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
            "montant_eur": str(cents_to_euros(payment.amount_cents)),
            "ej": payment.ej_number,
            "date": payment.ordered_on.isoformat(),
            "nouveau": created,
        }
    if as_json:
        print_json(result)
    else:
        typer.echo(
            f"Paiement n° {result['paiement_id']} {'enregistré' if created else 'déjà enregistré'} : "
            f"{result['tranche']} de {eur(_cents(result['montant_eur']))} le {day(result['date'])} (EJ {result['ej']})."
        )


@command(paiements_app, "liste", "list")
def paiements_list(
    departement: DepOpt = None, annee: YearOpt = None, as_json: JsonOpt = False, as_csv: CsvOpt = False
) -> None:
    """Les paiements ordonnés, par date."""
    from services.db import unit_of_work
    from services.finance import payments

    dep = _checked_departement(departement, as_json)
    with user_errors(as_json), unit_of_work() as session:
        rows = payments.listing(session, departement=dep, year=annee)
    columns = [
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
    ]
    if as_json or as_csv:
        _rows_out(rows, columns, as_json, as_csv)
        return
    shown = [
        row
        | {
            "date": day(row["date"]),
            "montant": eur(_cents(row["montant_eur"])),
            "subvention": eur(_cents(row["subvention_eur"])),
        }
        for row in rows
    ]
    print_table(
        shown,
        [(k, h) for k, h in columns if k not in ("montant_eur", "subvention_eur")]
        + [("montant", "montant"), ("subvention", "subvention")],
    )


# --- comptes rendus financiers -------------------------------------------------------------------


@command(report_app, "transmettre")
def report_transmit(
    crf_id: Annotated[int, typer.Argument(help="N° du compte rendu financier", **ID)],
    depenses: Annotated[str, typer.Option(help="Total des dépenses réalisées, en euros")],
    subvention_utilisee: Annotated[str, typer.Option(help="Part de la subvention utilisée, en euros")],
    date_: Annotated[str, typer.Option("--date", help="Date de transmission (AAAA-MM-JJ, au plus tard aujourd'hui)")],
    par: Annotated[
        str, typer.Option("--par", help="Qui transmet (l'association, ou l'agent qui enregistre un envoi postal)")
    ],
    commentaire: Annotated[str | None, typer.Option(help="Compte rendu qualitatif de l'action")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enregistre le compte rendu financier (ou ses compléments) transmis par l'association et ouvre son examen par
    l'instruction."""
    from services.db import unit_of_work
    from services.engine import launch
    from services.financial_report import records
    from services.financial_report.workflow import REPORT

    transmitted_on = parse_day(date_, "date", as_json=as_json, what="la date de transmission")
    expenses = _amount(depenses, "depenses", as_json)
    used = _amount(subvention_utilisee, "subvention_utilisee", as_json)
    with user_errors(as_json):
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
            reference, rounds, status = report.reference, report.rounds, report.status
        run_id = asyncio.run(launch.start_case_step(REPORT, crf_id, f"depot{rounds}"))
    result = {"crf_id": crf_id, "reference": reference, "statut": str(status), "flow_run_id": run_id}
    if as_json:
        print_json(result)
    else:
        typer.echo(f"Compte rendu financier {reference} reçu ; son examen est lancé : exécution {run_id}")


@command(report_app, "voir", "show")
def report_show(
    crf_id: Annotated[int, typer.Argument(help="N° du compte rendu financier", **ID)], as_json: JsonOpt = False
) -> None:
    """Un compte rendu financier : échéance, statut, montants transmis, décisions."""
    from services.db import unit_of_work
    from services.financial_report import records

    with user_errors(as_json), unit_of_work() as session:
        data = records.show(session, crf_id)
    if as_json:
        print_json(data)
        return
    typer.echo(f"Compte rendu financier {data['reference']} — {data['porteur']}")
    echo_fields(
        [
            ("Acte", data["acte"]),
            ("Année, département", f"{data['annee']}, {data['departement']}"),
            ("Statut", data["statut_libelle"]),
            ("Échéance", day(data["echeance"])),
            ("Subvention", eur(data["subvention_cents"])),
            ("Payé", eur(data["paye_cents"])),
            ("Transmis le", day(data["transmis_le"]) if data["transmis_le"] else None),
            ("Dépenses", eur(_cents(data["depenses_eur"])) if data["depenses_eur"] else None),
            (
                "Subvention utilisée",
                eur(_cents(data["subvention_utilisee_eur"])) if data["subvention_utilisee_eur"] else None,
            ),
            ("Compléments avant le", day(data["complements_avant_le"]) if data["complements_avant_le"] else None),
            ("À reverser", eur(_cents(data["a_reverser_eur"])) if data["a_reverser_eur"] else None),
            ("Compte rendu", data["compte_rendu"]),
        ]
    )
    print_decisions("crf", data["decisions"])


@command(report_app, "liste", "list")
def report_list(
    departement: DepOpt = None, annee: YearOpt = None, as_json: JsonOpt = False, as_csv: CsvOpt = False
) -> None:
    """Les comptes rendus financiers, par échéance ; « bloque » : l'association ne peut déposer de nouvelle
    demande (R14)."""
    from services.db import unit_of_work
    from services.financial_report import records

    dep = _checked_departement(departement, as_json)
    with user_errors(as_json), unit_of_work() as session:
        rows = records.listing(session, departement=dep, year=annee)
    if not (as_json or as_csv):
        rows = [row | {"echeance": day(row["echeance"])} for row in rows]
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
