"""``territoires``: the operators' and agents' command line.

Command names are French (``approbations``, ``enveloppe``, ``relances``…); each former English
name (``approvals``, ``envelope``, ``reminders``…) is kept as a hidden alias, so scripts keep
working. Every command shows a French view by default and JSON with ``--json``.

The command line starts fast: the root knows each group by its name and help only (``GROUPS``),
and imports a group's module when that group is asked for. ``territoires --help`` imports no
group; ``territoires ctai list`` imports the ``ctai`` group, whose modules import the services
inside the commands that use them; only the commands that talk to the platform import Prefect
(``bench/cli_start.py``; a test checks that neither imports it).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import import_module

import typer
from typer.core import TyperGroup

from cli import french


@dataclass(frozen=True)
class Entry:
    """One command of the root: its French name, its former names (hidden aliases), its help, and
    where it is defined (``module:attribute``, a ``typer.Typer`` or a function for one command)."""

    name: str
    aliases: tuple[str, ...]
    help: str
    target: str


GROUPS = (
    Entry("donnees", ("db",), "Base de données : migrations, droits PostgreSQL.", "cli.setup:donnees_app"),
    Entry("charger", ("seed",), "Données de référence et de démonstration.", "cli.setup:charger_app"),
    Entry("agent", (), "Agents de l'État.", "cli.actors:agent_app"),
    Entry("collectivite", (), "Collectivités.", "cli.actors:collectivite_app"),
    Entry("porteur", (), "Porteurs (associations).", "cli.actors:porteur_app"),
    Entry("ctai", (), "Contrats territoriaux (CTAI).", "cli.cases:ctai_app"),
    Entry("ptai", (), "Projets territoriaux (PTAI).", "cli.cases:ptai_app"),
    Entry(
        "comite",
        (),
        "Comités de pilotage des contrats (national : Diair et ministère ; local : préfecture).",
        "cli.pilotage:comite_app",
    ),
    Entry(
        "approbations",
        ("approvals",),
        "Décisions en attente (le pendant scriptable de l'interface Prefect).",
        "cli.workflow:approbations_app",
    ),
    Entry("etapes", ("steps",), "Étapes en cours : contrôle et reprise après un incident.", "cli.steps:etapes_app"),
    Entry("enveloppe", ("envelope",), "Enveloppe nationale annuelle des crédits PTAI.", "cli.delegation:enveloppe_app"),
    Entry("delegation", (), "Délégation des crédits par lots (ministère).", "cli.delegation:delegation_app"),
    Entry("lots", (), "Lots de délégation de crédits du ministère.", "cli.listings:batches_app"),
    Entry("acte", ("actes",), "Actes attributifs : arrêtés et conventions (R13).", "cli.acts:acte_app"),
    Entry(
        "paiements", (), "Paiements des actes signés (avance, solde), avec leur EJ Chorus.", "cli.acts:paiements_app"
    ),
    Entry(
        "crf",
        (),
        "Comptes rendus financiers (Cerfa n° 15059) des associations subventionnées (R14).",
        "cli.acts:report_app",
    ),
    Entry("export", (), "Exports en données ouvertes.", "cli.delegation:export_app"),
    Entry(
        "tableau-de-bord",
        (),
        "Le tableau de bord national : chiffres clés, et sa page HTML.",
        "cli.dashboard:tableau_de_bord",
    ),
    Entry("relances", ("reminders",), "Relances quotidiennes.", "cli.reminders:relances_app"),
    Entry("courriels", ("mail",), "Courriels : aperçu, envoi de la file, état.", "cli.mail:courriels_app"),
    Entry(
        "puits-smtp",
        ("mail-sink",),
        "Puits SMTP local : chaque courriel reçu est enregistré en .eml.",
        "cli.mail:mail_sink",
    ),
    Entry("audit", (), "Piste d'audit des décisions.", "cli.audit:audit_app"),
    Entry("up", (), "Démarre toute la plateforme sur cette machine (Ctrl-C l'arrête).", "cli.up:up"),
    Entry(
        "servir", ("serve",), "Sert toutes les étapes (déploiements Prefect) depuis ce processus.", "cli.workflow:serve"
    ),
)
BY_NAME = {name: entry for entry in GROUPS for name in (entry.name, *entry.aliases)}


def _load(entry: Entry, name: str):
    """The click command of ``entry``, named ``name`` (its French name or a former one)."""
    module, attribute = entry.target.split(":")
    target = getattr(import_module(module), attribute)
    if isinstance(target, typer.Typer):
        target.info.help = target.info.help or entry.help
        target.info.no_args_is_help = True
        target._add_completion = False  # no English completion options (Typer's own texts)
        if target.registered_callback is None:  # a group even with one command (« export scdl »)
            target.callback()(_group)
        command = typer.main.get_command(target)
    else:  # a function: a command of the root itself
        single = typer.Typer(add_completion=False)
        single.command(name, help=target.__doc__ or entry.help)(target)
        command = typer.main.get_command(single)
    command.name = name
    command.hidden = name != entry.name
    return command


def _group() -> None:
    """A group's own callback: it does nothing, its commands do."""


def _placeholder(entry: Entry, name: str) -> typer.core.TyperCommand:
    """What the root's help lists: the name and the help, nothing imported."""
    return typer.core.TyperCommand(name, help=entry.help, hidden=name != entry.name)


class LazyRoot(TyperGroup):
    """The root group: a command's module is imported when the command is run or its help shown."""

    def list_commands(self, ctx) -> list[str]:
        return [*super().list_commands(ctx), *(name for name in BY_NAME if name not in self.commands)]

    def get_command(self, ctx, name: str):
        found = self.commands.get(name)
        if found is None and name in BY_NAME:
            return _placeholder(BY_NAME[name], name)
        return found

    def resolve_command(self, ctx, args):
        if args and args[0] in BY_NAME and args[0] not in self.commands:
            self.commands[args[0]] = _load(BY_NAME[args[0]], args[0])
        return super().resolve_command(ctx, args)


french.install()
app = typer.Typer(
    cls=LazyRoot,
    help="Territoires d'intégration : contrats (CTAI) et projets (PTAI).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root() -> None:
    """Territoires d'intégration : contrats (CTAI) et projets (PTAI)."""


def main(argv: list[str] | None = None) -> None:
    """The console script: every error ends as a French message, a stable code and exit 2."""
    from typer._click import exceptions as click_errors
    from typer.exceptions import Abort

    from cli import find_platform
    from cli.output import EXIT_INVALID, report_errors

    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    try:
        if args and args[0] in BY_NAME and not {"--help", "-h"} & set(args):
            find_platform()  # before anything imports Prefect
        result = app(args=args, standalone_mode=False, prog_name="territoires")
    except click_errors.NoArgsIsHelpError:
        sys.exit(EXIT_INVALID)  # the help was shown
    except click_errors.UsageError as exc:
        from cli.errors import usage_violation

        report_errors([usage_violation(exc)], as_json=as_json)
        sys.exit(EXIT_INVALID)
    except (Abort, KeyboardInterrupt):
        print("Interrompu.", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last net: never a traceback
        from cli.errors import violations_of

        report_errors(violations_of(exc, _logs_folder()), as_json=as_json)
        sys.exit(EXIT_INVALID)
    sys.exit(result if isinstance(result, int) else 0)


def _logs_folder():
    try:
        from settings import get_settings

        return get_settings().data_dir / "logs"
    except Exception:  # noqa: BLE001 - settings themselves may be what failed
        return None
