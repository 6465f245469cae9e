"""French texts every kind of case shares: where a collectivité is, the top and the end of an
approval form, the history of decisions; and ``md``, which every text typed by a person goes
through before it enters a form's or an artifact's Markdown."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlmodel import Session

from models.actors import Agent, Collectivite, Role
from models.errors import Violation
from models.reference import Departement, departement_avec_article, departement_de
from models.types import to_paris
from services.engine.audit import decision_label, decisions_for
from services.engine.kind import Step

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
    """« la Vienne (86) », « l'Isère (38) »: a département is never named without its article."""
    dep = session.get(Departement, code)
    return f"{departement_avec_article(dep.code, dep.nom)} ({dep.code})" if dep else code


def departement_named(session: Session, code: str | None) -> str:
    """« la Vienne », « le Rhône », « les Bouches-du-Rhône »; « national » for the national level."""
    dep = session.get(Departement, code) if code else None
    return departement_avec_article(dep.code, dep.nom) if dep else "national"


def prefecture_of(session: Session, code: str) -> str:
    """« la préfecture de la Vienne », « la préfecture du Rhône »."""
    dep = session.get(Departement, code)
    return f"la préfecture {departement_de(dep.code, dep.nom)}" if dep else "la préfecture"


def prefet_of(session: Session, code: str) -> str:
    """« préfet de la Vienne » (without its article: « le », « du », « au » are the sentence's)."""
    dep = session.get(Departement, code)
    return f"préfet {departement_de(dep.code, dep.nom)}" if dep else "préfet"


DELEGATION = "Pour le préfet et par délégation,"
# What an agent signs under when no title of their own is recorded.
OFFICE_TITLES = {Role.INSTRUCTEUR: "Le service instructeur", Role.ADMIN: "Le service instructeur"}


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def letterhead(session: Session, code: str, signer: Agent | None = None) -> dict:
    """The préfecture's letters: their head, their signature block (the préfet's own when the
    préfet signs, else « Pour le préfet et par délégation, » and the signatory's title), and
    the authority a recourse is addressed to."""
    if signer is not None and signer.role == Role.PREFET:
        signature = [_capitalized(f"le {prefet_of(session, code)}"), signer.name]
    elif signer is not None and signer.title:
        signature = [DELEGATION, _capitalized(signer.title), signer.name]
    else:
        signature = [
            DELEGATION,
            OFFICE_TITLES.get(signer.role if signer else Role.INSTRUCTEUR, "Le service instructeur"),
        ]
    return {
        "expediteur": _capitalized(prefecture_of(session, code)),
        "departement": departement_named(session, code),
        "signature": signature,
        "autorite": prefet_of(session, code),
    }


def decider_label(session: Session, agent: Agent, code: str | None) -> str:
    """Who decided, as a letter names them: an office, never a role's code."""
    role = Role(agent.role)
    if role == Role.PREFET:
        return f"le {prefet_of(session, code)}" if code else "le préfet"
    return {
        Role.INSTRUCTEUR: f"le service instructeur de {prefecture_of(session, code)}"
        if code
        else "le service instructeur",
        Role.DIAIR: "la délégation interministérielle à l'accueil et à l'intégration des réfugiés (Diair)",
        Role.MINISTERE: "le ministère de l'Intérieur (direction générale des étrangers en France)",
        Role.ADMIN: "l'administration de la plateforme",
    }[role]


def short_name(collectivite: Collectivite) -> str:
    for prefix in ("Ville de ", "Ville du ", "Ville d'"):
        if collectivite.name.startswith(prefix):
            return collectivite.name[len(prefix) :]
    return collectivite.name


def refusal_banner(refusal: list[Violation] | None) -> list[str]:
    """The top of a form that asks again: why the previous answer was refused."""
    if not refusal:
        return []
    return (
        ["> **⚠ Votre précédente réponse a été refusée ; rien n'a changé :**"]
        + [f"> - `{v.code}` — {md(v.message)}" for v in refusal]
        + [""]
    )


def decision_footer(step: Step, leads_to: Mapping[str, str] | None = None, status: str | None = None) -> list[str]:
    """The end of every approval form: the step's choices (as the form words them, with what each
    leads to, as declared or, where it depends on the case, as ``leads_to`` says) and how to sign
    the answer. Given the case's ``status``, a step the case is not at offers no choice."""
    lines = ["### Votre décision", ""]
    for decision in step.decisions if status is None or status == step.status else ():
        needed = step.form.needed_titles(decision.code)
        said = (leads_to or {}).get(decision.code) or decision.leads_to or decision.label
        lines.append(
            f"- **{decision.wording}** : {said}"
            + (" — à remplir : " + ", ".join(f"« {title} »" for title in needed) if needed else "")
        )
    return lines + [
        "",
        "Renseignez votre courriel professionnel et le **code d'approbation** personnel reçu par courriel. "
        "Les champs qu'une décision ne demande pas peuvent rester vides.",
    ]


CREATION_STEP = "creation"  # the step a case's first audit line names, in every wing


def step_labels(steps: Iterable[Step], **others: str) -> dict[str, str]:
    """The French label of each step a case's history names: its declared steps, and ``others``
    (the steps no agent decides: a creation, an applicant's answer)."""
    return {CREATION_STEP: "création du dossier", **{step.name: step.label for step in steps}, **others}


def history_lines(session: Session, entity_type: str, entity_id: int, step_labels: dict[str, str]) -> list[str]:
    history = decisions_for(session, entity_type, entity_id)
    if not history:
        return []
    lines = ["### Décisions précédentes", ""]
    for d in history[-10:]:
        when = to_paris(d.created_at).strftime("%d/%m/%Y %H:%M")
        lines.append(
            f"- {when} — {step_labels.get(d.step, d.step)} : {decision_label(entity_type, d.from_status, d.decision)} "
            f"({md(d.actor_label)})" + (f" — « {md(d.comment)} »" if d.comment else "")
        )
    return lines + [""]


def history_table(
    decisions: Iterable[dict], step_labels: Mapping[str, str], decision_labels: Mapping[str, str] | None = None
) -> list[str]:
    """A case's decisions as its dashboard shows them, one row each (as ``audit.decision_view``
    gives them), in Paris time; ``decision_labels`` words a code better than the audit's label."""
    lines = [
        "## Chronologie des décisions",
        "",
        "| Date (Paris) | Étape | Décision | Par | Commentaire |",
        "|---|---|---|---|---|",
    ]
    for d in decisions:
        when = to_paris(datetime.fromisoformat(d["horodatage"])).strftime("%d/%m/%Y %H:%M")
        label = (decision_labels or {}).get(d["decision"], d["libelle"])
        lines.append(
            f"| {when} | {step_labels.get(d['etape'], d['etape'])} | {md(label)} | {md(d['acteur'])} | "
            f"{md(d['commentaire'])} |"
        )
    return lines
