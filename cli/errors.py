"""The last net of the command line: whatever goes wrong reaches the user as a French message
with a stable code and exit status 2 (``--json``: the same as JSON), never as a traceback. The
traceback of an unexpected error goes to the logs folder, for the operators."""

from __future__ import annotations

import decimal
import traceback
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from typer._click import exceptions as click_errors  # Typer's own copy of click

from models.cerfa import french_reason, violations_from
from models.errors import DomainError, RuleViolation, TransitionNotAllowed, Violation
from models.types import utcnow


def usage_violation(exc: click_errors.UsageError) -> Violation:
    """Click's usage errors, in French."""
    param = getattr(exc, "param", None)
    name = (
        getattr(exc, "param_hint", None)
        or (param.opts[0] if param is not None and param.opts else None)
        or (param.name if param is not None else "")
    ) or ""
    if isinstance(name, (list, tuple)):
        name = " / ".join(name)
    name = str(name).strip("'\"")
    if isinstance(exc, click_errors.NoSuchOption):
        return Violation("USAGE_OPTION_INCONNUE", exc.option_name, f"option inconnue : {exc.option_name} (voir --help)")
    if isinstance(exc, click_errors.MissingParameter):
        return Violation("USAGE_PARAMETRE_MANQUANT", name, f"paramètre obligatoire manquant : {name} (voir --help)")
    if isinstance(exc, click_errors.BadParameter):
        cause = exc.__cause__  # Typer checks values with pydantic
        reason = ""
        if isinstance(cause, ValidationError) and cause.errors():
            error = cause.errors()[0]
            if error["type"] == "value_error" and " is not one of " in error["msg"]:
                reason = f" : choix possibles {error['msg'].split(' is not one of ', 1)[1].rstrip('.')}"
            elif error["type"] != "value_error":
                reason = f" : {french_reason(error)}"
        return Violation("USAGE_VALEUR_INVALIDE", name, f"valeur invalide pour {name}{reason}")
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if message.startswith("No such command"):
        command = message.split("'")[1] if "'" in message else message
        return Violation("USAGE_COMMANDE_INCONNUE", "commande", f"commande inconnue : {command} (voir --help)")
    if "Got unexpected extra argument" in message:
        return Violation("USAGE_ARGUMENT_EN_TROP", "", "argument en trop (voir --help)")
    return Violation("USAGE_INVALIDE", "", "utilisation incorrecte de la commande (voir --help)")


def violations_of(exc: BaseException, logs: Path | None = None) -> list[Violation]:
    """What to tell the user about ``exc``."""
    if isinstance(exc, RuleViolation):
        return exc.violations
    if isinstance(exc, ValidationError):
        return violations_from(exc)
    if isinstance(exc, TransitionNotAllowed):
        return [Violation(exc.code, "decision", exc.message)]
    if isinstance(exc, DomainError):
        return [Violation(exc.code, "", exc.message)]
    if isinstance(exc, DataError):
        return [
            Violation(
                "VALEUR_HORS_BORNES",
                "",
                "une valeur dépasse ce que la base de données peut enregistrer : rien n'a été enregistré",
            )
        ]
    if isinstance(exc, IntegrityError):
        return [
            Violation(
                "ENREGISTREMENT_EN_CONFLIT",
                "",
                "cet enregistrement entre en conflit avec un autre (doublon, "
                "référence inconnue) : rien n'a été enregistré",
            )
        ]
    if isinstance(exc, OperationalError) and any(m in str(exc.orig) for m in ("no such table", "does not exist")):
        return [
            Violation(
                "BASE_NON_INITIALISEE",
                "",
                "la base de données n'est pas initialisée ou pas à jour : lancez « territoires donnees migrer »",
            )
        ]
    if isinstance(exc, OperationalError):
        return [
            Violation(
                "BASE_INDISPONIBLE",
                "",
                "la base de données est injoignable ou occupée : réessayez ; rien n'a été enregistré",
            )
        ]
    if isinstance(exc, SQLAlchemyError):
        return [
            Violation(
                "ERREUR_BASE_DE_DONNEES",
                "",
                f"la base de données a refusé l'opération ({type(exc).__name__}) : rien n'a été enregistré",
            )
        ]
    if isinstance(exc, RecursionError):
        return [
            Violation("DONNEES_TROP_IMBRIQUEES", "", "données trop profondément imbriquées : rien n'a été enregistré")
        ]
    if isinstance(exc, (decimal.InvalidOperation, ArithmeticError)):
        return [
            Violation(
                "CALCUL_IMPOSSIBLE",
                "",
                "un montant ou un nombre est hors des bornes permises : rien n'a été enregistré",
            )
        ]
    if isinstance(exc, UnicodeError):
        return [Violation("ENCODAGE_INVALIDE", "", "texte illisible : un fichier en UTF-8 est attendu")]
    if isinstance(exc, OSError):
        return [Violation("ERREUR_SYSTEME", "", f"erreur du système ({exc.strerror or type(exc).__name__})")]
    where = _log(exc, logs)
    return [
        Violation(
            "ERREUR_INATTENDUE",
            "",
            f"erreur inattendue ({type(exc).__name__}) : rien n'a été enregistré"
            + (f" ; détail pour l'exploitant dans {where}" if where else ""),
        )
    ]


def _log(exc: BaseException, logs: Path | None) -> Path | None:
    if logs is None:
        return None
    try:
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / "erreurs-cli.log"
        with path.open("a", encoding="utf-8") as out:
            out.write(f"--- {utcnow().isoformat()}\n{''.join(traceback.format_exception(exc))}\n")
        return path
    except OSError:
        return None
