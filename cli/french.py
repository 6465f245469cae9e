"""The command line's own words in French: help panels, the help option, the usage line, the type
of each value and the few messages Typer prints itself.

Typer (0.29) carries its own copy of Click, whose texts are English constants and f-strings,
not gettext catalogues: they are replaced here, once, before the first command is built.
Usage errors themselves never reach Typer's printer: ``cli.main.main`` turns them into French
messages with a stable code (``cli.errors.usage_violation``).
"""

from __future__ import annotations

from typer import core
from typer._click import core as click_core

HELP = "Affiche cette aide et quitte."
USAGE = "Utilisation : "
TYPES = {
    "bool": None,
    "boolean": None,
    "text": "texte",
    "str": "texte",
    "integer": "entier",
    "int": "entier",
    "float": "nombre",
    "path": "chemin",
    "file": "fichier",
    "datetime": "date",
    "date": "date",
    "decimal": "montant",
    "uuid": "identifiant",
    "choice": "choix",
    "int range": "entier",
    "float range": "nombre",
}
METAVARS = (
    ("[OPTIONS]", "[OPTIONS]"),
    ("COMMAND [ARGS]...", "COMMANDE [ARGUMENTS]..."),
    ("[ARGS]...", "[ARGUMENTS]..."),
)

_installed = False


def _french_type(text: str | None) -> str | None:
    """« <bool> » (a flag) shows nothing, « <integer> » shows « entier »."""
    if text is None:
        return None
    bare = text.strip("<>").rstrip(".")
    key = bare.lower()
    if key in TYPES:
        return None if TYPES[key] is None else f"<{TYPES[key]}>" + ("..." if text.endswith("...") else "")
    if key.startswith("list[") and key.endswith("]"):
        inner = TYPES.get(key[5:-1], key[5:-1])
        return f"<liste de {inner}>"
    return text


def install() -> None:
    """Idempotent: replaces Typer's English texts (see the module)."""
    global _installed
    if _installed:
        return
    _installed = True
    for cls in (core.TyperGroup, core.TyperCommand):
        original_format_help = cls.format_help

        def format_help(self, ctx, formatter, _original=original_format_help):
            _french_rich()
            return _original(self, ctx, formatter)

        cls.format_help = format_help

    original_help_option = click_core.Command.get_help_option

    def get_help_option(self, ctx):
        option = original_help_option(self, ctx)
        if option is not None:
            option.help = HELP
        return option

    click_core.Command.get_help_option = get_help_option

    original_usage = click_core.Command.get_usage

    def get_usage(self, ctx) -> str:
        text = original_usage(self, ctx).replace("Usage: ", USAGE)
        for english, french in METAVARS:
            text = text.replace(english, french)
        return text

    click_core.Command.get_usage = get_usage

    def number_range(self) -> str | None:
        low, high = getattr(self, "min", None), getattr(self, "max", None)
        if getattr(self, "count", False) and low == 0 and high is None:
            return None
        if low is not None and high is not None:
            return f"de {low} à {high}"
        if low is not None:
            return f"au moins {low}"
        return f"au plus {high}" if high is not None else None

    core.TyperOption._get_number_range_help_str = number_range

    for cls in (core.TyperOption, core.TyperArgument):
        original = cls.display_type_rich

        def display_type_rich(self, ctx, _original=original):
            return _french_type(_original(self, ctx))

        cls.display_type_rich = display_type_rich


_rich_done = False


def _french_rich() -> None:
    """Typer's rich help, in French: done when a help is first shown, so that a command that shows
    none does not import rich's help machinery (markdown, syntax highlighting)."""
    global _rich_done
    if _rich_done:
        return
    _rich_done = True
    from typer import rich_utils

    rich_utils.DEPRECATED_STRING = "(obsolète) "
    rich_utils.DEFAULT_STRING = "[par défaut : {}]"
    rich_utils.ENVVAR_STRING = "[variable d'environnement : {}]"
    rich_utils.REQUIRED_LONG_STRING = "[obligatoire]"
    rich_utils.ARGUMENTS_PANEL_TITLE = "Arguments"
    rich_utils.OPTIONS_PANEL_TITLE = "Options"
    rich_utils.COMMANDS_PANEL_TITLE = "Commandes"
    rich_utils.ERRORS_PANEL_TITLE = "Erreur"
    rich_utils.ABORTED_TEXT = "Interrompu."
    rich_utils.RICH_HELP = "Voir [blue]« {command_path} {help_option} »[/] pour l'aide."
    # The rich help highlights the usage line by its prefix.
    rich_utils.highlighter.highlights = [
        h.replace("(?P<usage>Usage: )", f"(?P<usage>{USAGE})") for h in rich_utils.highlighter.highlights
    ]
