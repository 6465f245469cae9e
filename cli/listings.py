"""``territoires ctai liste``, ``ptai liste``, ``lots liste`` and ``acte liste``: the cases of a
département (or the whole country), narrowed by status, year, awaited party and « en retard »;
a French table on a terminal (rich), ``--json`` or ``--csv`` (semicolons) for scripts."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer

from cli.output import YEAR, CsvOpt, JsonOpt, command, day, print_json, user_errors
from models.listing import AWAITED_LABELS

batches_app = typer.Typer()

DepOpt = Annotated[str | None, typer.Option("--departement", help="Code du département (86, 2A, 974…)")]
StatusOpt = Annotated[str | None, typer.Option("--statut", help="Code du statut (la liste est donnée en cas d'erreur)")]
YearOpt = Annotated[
    int | None, typer.Option("--annee", help="Année (couverte par le contrat, campagne, année financée)", **YEAR)
]
AwaitedOpt = Annotated[str | None, typer.Option("--attendu", help="Qui est attendu : " + ", ".join(AWAITED_LABELS))]
LateOpt = Annotated[bool, typer.Option("--en-retard", help="Seulement les dossiers dont l'étape a dépassé son délai")]

# (key, French header) of each list on a terminal; --json and --csv give every field.
COLUMNS = {
    "ctai": [
        ("id", "n°"),
        ("reference", "référence"),
        ("type", "type"),
        ("collectivite", "collectivité"),
        ("departement", "dépt"),
        ("annees", "années"),
        ("finance", "financement"),
        ("statut_libelle", "statut"),
    ],
    "ptai": [
        ("id", "n°"),
        ("reference", "référence"),
        ("campagne", "campagne"),
        ("demandeur", "demandeur"),
        ("departement", "dépt"),
        ("intitule", "intitulé"),
        ("demande", "demandé"),
        ("accorde", "accordé"),
        ("statut_libelle", "statut"),
    ],
    "lot": [
        ("id", "n°"),
        ("reference", "référence"),
        ("annee", "année"),
        ("demandes", "demandes"),
        ("montant", "montant"),
        ("departements", "départements"),
        ("statut_libelle", "statut"),
    ],
    "acte": [
        ("id", "n°"),
        ("reference", "numéro"),
        ("annee", "année"),
        ("departement", "dépt"),
        ("beneficiaire", "bénéficiaire"),
        ("montant", "montant"),
        ("statut_libelle", "statut"),
        ("signe_le", "signé le"),
    ],
}
WAIT_COLUMNS = [
    ("attendu_libelle", "attendu"),
    ("depuis", "depuis le"),
    ("echeance", "échéance"),
    ("retard_jours_ouvres", "retard"),
]
DATE_KEYS = {"signe_le", "depuis", "echeance", "retard_jours_ouvres"}
NOUNS = {"ctai": "contrat", "ptai": "demande", "lot": "lot", "acte": "acte"}
FEMININE = {"ptai"}


def register_cases(ctai_app: typer.Typer, ptai_app: typer.Typer) -> None:
    command(ctai_app, "liste", "list")(
        _command("ctai", "Les contrats (CTAI et CTAIR), leur étape en cours, qui est attendu et depuis quand.")
    )
    command(ptai_app, "liste", "list")(
        _command("ptai", "Les demandes de financement (PTAI), leur étape en cours, qui est attendu et depuis quand.")
    )


def register_acts(acte_app: typer.Typer) -> None:
    command(acte_app, "liste", "list")(
        _command("acte", "Les actes attributifs (arrêtés et conventions), leur signature attendue et depuis quand.")
    )


def _command(entity: str, help_text: str):
    """One list command: the same options for every kind of case (Typer reads the signature)."""

    def command(
        departement: DepOpt = None,
        statut: StatusOpt = None,
        annee: YearOpt = None,
        attendu: AwaitedOpt = None,
        en_retard: LateOpt = False,
        as_json: JsonOpt = False,
        as_csv: CsvOpt = False,
    ) -> None:
        _list(entity, locals())

    command.__doc__ = help_text
    command.__name__ = f"{entity}_list"
    return command


def _list(entity: str, given: dict) -> None:
    from models.types import paris_today
    from services.db import unit_of_work
    from services.reporting.listings import LISTS, list_filter

    as_json, as_csv = given["as_json"], given["as_csv"]
    today = paris_today()
    with user_errors(as_json), unit_of_work() as session:
        flt = list_filter(
            session,
            entity,
            departement=given["departement"],
            status=given["statut"],
            year=given["annee"],
            awaited=given["attendu"],
            late=given["en_retard"],
        )
        rows = LISTS[entity](session, flt, today)
    if as_json:
        print_json(rows)
    elif as_csv:
        from services.finance.exports import to_csv

        sys.stdout.write(to_csv(list(rows[0]) if rows else [k for k, _ in COLUMNS[entity] + WAIT_COLUMNS], rows))
    else:
        _table(entity, rows, today)


def _table(entity: str, rows: list[dict], today: date) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from models.french import pluriel

    console = Console(soft_wrap=False, width=max(Console().width, 160) if not sys.stdout.isatty() else None)
    late = sum(row["en_retard"] for row in rows)
    noun = NOUNS[entity]
    if not rows:
        console.print(f"Aucun{'e' if entity in FEMININE else ''} {noun} ne correspond à ces critères.")
        return
    title = f"{pluriel(len(rows), noun)} au {day(today)}" + (f", dont {late} en retard" if late else "")
    table = Table(title=title, title_justify="left", header_style="bold")
    for key, header in COLUMNS[entity] + WAIT_COLUMNS:
        table.add_column(header, overflow="fold", no_wrap=key in DATE_KEYS)  # « 7 déc. 2026 » on one line
    for row in rows:
        cells = [_cell(day(row[key])) if key == "signe_le" else _cell(row.get(key)) for key, _ in COLUMNS[entity]]
        waiting = [
            _cell(row["attendu_libelle"]),
            _cell(day(row["depuis"])),
            _cell(day(row["echeance"])),
            Text(f"{row['retard_jours_ouvres']} j. ouvrés", style="bold red") if row["en_retard"] else "—",
        ]
        table.add_row(*cells, *waiting)
    console.print(table)


def _cell(value):
    """A cell shown as typed: a title such as « [red]… » is text, not rich's markup."""
    from rich.text import Text

    return Text("—" if value is None or value == "" else str(value))


command(batches_app, "liste", "list")(
    _command("lot", "Les lots de délégation de crédits, leur arbitrage attendu et depuis quand.")
)
