"""French texts every kind of case shares: where a collectivité is, the top and the end of an
approval form, the history of decisions; and ``md``, which every text typed by a person goes
through before it enters a form's or an artifact's Markdown."""

from __future__ import annotations

import re

from sqlmodel import Session

from models.actors import Collectivite
from models.choices import wording
from models.errors import Violation
from models.reference import Departement, departement_de
from models.types import to_paris
from services.engine.audit import decision_label, decisions_for


_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # ASCII punctuation: each may start Markdown or HTML


def md(text) -> str:
    """User text as Markdown shows it literally, on one line: no link, image, emphasis, heading,
    table cell break or raw HTML can come from it."""
    if text is None:
        return ""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def place(session: Session, collectivite: Collectivite) -> str:
    return departement_place(session, collectivite.departement_code)


def departement_place(session: Session, code: str) -> str:
    """« Vienne (86) »."""
    dep = session.get(Departement, code)
    return f"{dep.nom} ({dep.code})" if dep else code


def prefecture_of(session: Session, code: str) -> str:
    """« la préfecture de la Vienne », « la préfecture du Rhône »."""
    dep = session.get(Departement, code)
    return f"la préfecture {departement_de(dep.code, dep.nom)}" if dep else "la préfecture"


def short_name(collectivite: Collectivite) -> str:
    for prefix in ("Ville de ", "Ville du ", "Ville d'"):
        if collectivite.name.startswith(prefix):
            return collectivite.name[len(prefix):]
    return collectivite.name


def refusal_banner(refusal: list[Violation] | None) -> list[str]:
    """The top of a form that asks again: why the previous answer was refused."""
    if not refusal:
        return []
    return (["> **⚠ Votre précédente réponse a été refusée ; rien n'a changé :**"]
            + [f"> - `{v.code}` — {md(v.message)}" for v in refusal] + [""])


def decision_footer(case: str, step: str, choices: list[tuple[str, str]]) -> list[str]:
    """The end of every approval form: the step's choices (as the form words them, with what each
    leads to) and how to sign the answer."""
    return (["### Votre décision", ""] + [f"- **{wording(case, step, decision)}** : {label}" for decision, label in choices]
            + ["", "Renseignez votre courriel professionnel et le **code d'approbation** personnel reçu par courriel."])


def history_lines(session: Session, entity_type: str, entity_id: int, step_labels: dict[str, str]) -> list[str]:
    history = decisions_for(session, entity_type, entity_id)
    if not history:
        return []
    lines = ["### Décisions précédentes", ""]
    for d in history[-10:]:
        when = to_paris(d.created_at).strftime("%d/%m/%Y %H:%M")
        lines.append(f"- {when} — {step_labels.get(d.step, d.step)} : {decision_label(entity_type, d.from_status, d.decision)} "
                     f"({md(d.actor_label)})" + (f" — « {md(d.comment)} »" if d.comment else ""))
    return lines + [""]
