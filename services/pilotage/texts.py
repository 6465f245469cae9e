"""French texts about a comité: its run name, the compte rendu form's Markdown, the emails'
context and parties, and its dashboard (the Prefect artifact)."""

from __future__ import annotations

from sqlmodel import Session, select

from models.actors import ROLE_LABELS, Agent, Collectivite, Porteur, Role
from models.ctai import Action, Ctai
from models.errors import Violation
from models.french import pluriel
from models.money import format_eur
from models.pilotage import (
    COMITE_STATUS_LABELS,
    HELD_EARLIEST_BEFORE_PLANNED,
    LEVEL_LABELS,
    Comite,
    ComiteEvent,
    ComiteLevel,
    ComiteStatus,
)
from models.reference import Departement, departement_de
from services.engine.texts import (
    decision_footer,
    departement_place,
    history_lines,
    history_table,
    letterhead,
    md,
    refusal_banner,
    step_labels,
)
from services.pilotage import records, steps

# Every step a comité's history names: its planning and its compte rendu.
STEP_LABELS = step_labels(steps.STEPS, **steps.OTHER_STEP_LABELS)

DIAIR = "La délégation interministérielle à l'accueil et à l'intégration des réfugiés (Diair)"
DIAIR_LETTERHEAD = {
    "expediteur": DIAIR,
    "departement": "national",
    "autorite": "délégué interministériel",
    "signature": ["Le délégué interministériel à l'accueil et à l'intégration des réfugiés"],
}


def place(session: Session, comite: Comite) -> str:
    """« la Vienne (86) », or « national »."""
    if comite.level == ComiteLevel.NATIONAL:
        return "national"
    return departement_place(session, comite.departement_code)


def departement_de_of(session: Session, code: str) -> str:
    """« de la Vienne »."""
    dep = session.get(Departement, code)
    return departement_de(dep.code, dep.nom) if dep else code


def run_name(session: Session, comite: Comite, step: str | None = None) -> str:
    """« Comité de pilotage local — Vienne (86) — 15/03/2022 »: what the organiser sees in the UI."""
    when = f"{comite.planned_on:%d/%m/%Y}"
    if comite.level == ComiteLevel.NATIONAL:
        return f"Comité de pilotage national — {when}"
    return f"Comité de pilotage local — {place(session, comite)} — {when}"


def objet(session: Session, comite: Comite) -> str:
    if comite.level == ComiteLevel.NATIONAL:
        return "Comité de pilotage national des contrats territoriaux d'accueil et d'intégration"
    return (
        "Comité de pilotage local des contrats territoriaux d'accueil et d'intégration "
        f"{departement_de_of(session, comite.departement_code)}"
    )


def organiser(session: Session, comite: Comite) -> str:
    """Who holds the comité, as a letter names them."""
    if comite.level == ComiteLevel.NATIONAL:
        return "la délégation interministérielle à l'accueil et à l'intégration des réfugiés (Diair)"
    return f"le {letterhead(session, comite.departement_code)['autorite']}"


def email_base(session: Session, comite: Comite, destinataire: str) -> dict:
    head = DIAIR_LETTERHEAD if comite.level == ComiteLevel.NATIONAL else letterhead(session, comite.departement_code)
    return {"reference": comite.reference, "objet": objet(session, comite), "destinataire": destinataire, **head}


def summary(session: Session, comite: Comite) -> str:
    return (
        f"Comité {LEVEL_LABELS[ComiteLevel(comite.level)]} prévu le {comite.planned_on:%d/%m/%Y} : "
        f"{pluriel(len(records.contract_ids(session, comite.id)), 'contrat suivi')}, "
        f"{pluriel(len(records.actions(session, comite)), 'action')}."
    )


def action_label(action: Action, porteur: Porteur | None, ctai: Ctai | None) -> str:
    return f"n° {action.id} — {action.title} ({porteur.name if porteur else 'collectivité'})" + (
        f", {ctai.reference}" if ctai is not None and ctai.reference else ""
    )


def _contracts_table(session: Session, comite: Comite) -> list[str]:
    rows = records.contracts(session, comite)
    if not rows:
        return []
    names = {
        c.id: c
        for c in session.exec(select(Collectivite).where(Collectivite.id.in_([r.collectivite_id for r in rows])))
    }
    lines = ["### Contrats suivis", "", "| n° | Référence | Collectivité | Dépt | Années |", "|---|---|---|---|---|"]
    lines += [
        f"| {c.id} | {c.reference} | {md(names[c.collectivite_id].name)} | {names[c.collectivite_id].departement_code} "
        f"| {c.first_year}–{c.last_year} |"
        for c in rows
    ]
    return lines + [""]


def _actions_table(session: Session, comite: Comite) -> list[str]:
    actions = records.actions(session, comite)
    if not actions:
        return ["Les contrats suivis n'ont encore aucune action.", ""]
    porteurs = {
        p.id: p
        for p in session.exec(
            select(Porteur).where(Porteur.id.in_([a.porteur_id for a in actions if a.porteur_id] or [-1]))
        )
    }
    refs = {c.id: c.reference for c in records.contracts(session, comite)}
    lines = [
        "### Actions des contrats (n° à reporter dans le formulaire)",
        "",
        "| n° | Contrat | Action | Porteur | Année | Montant |",
        "|---|---|---|---|---|---:|",
    ]
    for a in actions:
        porteur = porteurs.get(a.porteur_id)
        lines.append(
            f"| {a.id} | {refs.get(a.ctai_id, a.ctai_id)} | {md(a.title)} | "
            f"{md(porteur.name) if porteur else 'collectivité'} "
            f"| {a.year} | {format_eur(a.amount_cents)} |"
        )
    return lines + [""]


def form_description(session: Session, comite: Comite, step: str, role: str, refusal: list[Violation] | None) -> str:
    lines = [f"## {md(run_name(session, comite))}", "", *refusal_banner(refusal)]
    lines += [
        f"**Référence** : {comite.reference} · **Niveau** : {LEVEL_LABELS[ComiteLevel(comite.level)]} · "
        f"**Périmètre** : {md(place(session, comite))} · **Date prévue** : {comite.planned_on:%d/%m/%Y}",
        f"**Compte rendu attendu de** : {ROLE_LABELS[Role(role)]}",
        "",
    ]
    lines += _contracts_table(session, comite) + _actions_table(session, comite)
    earliest = comite.planned_on - HELD_EARLIEST_BEFORE_PLANNED
    lines += [
        "### Le compte rendu",
        "",
        "- **Date de tenue** : le jour où le comité s'est tenu (pas une date à venir, ni avant le "
        f"{earliest:%d/%m/%Y}).",
        "- **Participants** : au moins un (nom et fonction).",
        "- **N° des actions examinées** : des actions des contrats ci-dessus.",
        "- **Décisions par action** : pour chaque action, le texte de la décision ; cochez « à revoir au bilan "
        "annuel » pour une évaluation approfondie, avec son motif (le bilan annuel du contrat la reprendra).",
        "- **Compte rendu** : le relevé de conclusions, envoyé aux collectivités, aux porteurs des actions "
        "examinées, aux préfets" + (", à la Diair et au ministère." if comite.level == ComiteLevel.NATIONAL else "."),
        "- Pour **annuler** le comité, indiquez le motif en commentaire.",
        "",
    ]
    lines += history_lines(session, records.ENTITY, comite.id, STEP_LABELS)
    lines += decision_footer(steps.STEPS_BY_NAME[step])
    return "\n".join(lines)


# --- The parties and the minutes' email -----------------------------------------------------------


def parties(session: Session, comite: Comite, action_ids: list[int]) -> list[tuple[str, str]]:
    """(email, name) of everyone the compte rendu goes to, each once: the collectivité of each
    contract covered, the porteurs of the actions reviewed, the préfets of the départements
    concerned, and for a national comité the Diair and the ministry's agents."""
    found: dict[str, tuple[str, str]] = {}

    def add(address: str | None, name: str) -> None:
        if address and address.lower() not in found:
            found[address.lower()] = (address, name)

    contracts = records.contracts(session, comite)
    for c in session.exec(
        select(Collectivite)
        .where(Collectivite.id.in_([k.collectivite_id for k in contracts] or [-1]))
        .order_by(Collectivite.id)
    ):
        add(c.email, c.name)
    porteur_ids = sorted(
        {a.porteur_id for a in session.exec(select(Action).where(Action.id.in_(action_ids or [-1]))) if a.porteur_id}
    )
    for p in session.exec(select(Porteur).where(Porteur.id.in_(porteur_ids or [-1])).order_by(Porteur.id)):
        add(p.email, p.name)
    agents = select(Agent).where(Agent.active.is_(True))
    for a in session.exec(
        agents.where(
            Agent.role == Role.PREFET, Agent.departement_code.in_(records.departements_of(session, comite) or ["-"])
        ).order_by(Agent.id)
    ):
        add(a.email, a.name)
    if comite.level == ComiteLevel.NATIONAL:
        for a in session.exec(agents.where(Agent.role.in_([Role.DIAIR, Role.MINISTERE])).order_by(Agent.id)):
            add(a.email, a.name)
    return list(found.values())


def minutes_context(session: Session, comite: Comite, link: str | None = None) -> dict:
    """What the minutes' email says (the same for every party)."""
    reviews = records.reviews(session, comite.id)
    actions = {a.id: a for a in records.actions(session, comite)}
    porteurs = {
        p.id: p
        for p in session.exec(
            select(Porteur).where(Porteur.id.in_([a.porteur_id for a in actions.values() if a.porteur_id] or [-1]))
        )
    }
    contracts = {c.id: c for c in records.contracts(session, comite)}
    names = {
        c.id: c.name
        for c in session.exec(
            select(Collectivite).where(Collectivite.id.in_([c.collectivite_id for c in contracts.values()] or [-1]))
        )
    }
    return {
        "niveau": LEVEL_LABELS[ComiteLevel(comite.level)],
        "date_prevue": comite.planned_on,
        "date_tenue": comite.held_on,
        "participants": [
            p.name + (f", {p.function}" if p.function else "") for p in records.participants(session, comite.id)
        ],
        "contrats": [f"{c.reference} — {names[c.collectivite_id]}" for c in contracts.values()],
        "actions": [
            {
                "action": action_label(
                    actions[r.action_id], porteurs.get(actions[r.action_id].porteur_id), contracts.get(r.ctai_id)
                ),
                "decision": r.decision,
                "a_revoir": r.flag_for_review,
                "motif": r.reason,
            }
            for r in reviews
        ],
        "compte_rendu": comite.minutes,
        "lien": link,
    }


def comite_markdown(session: Session, comite_id: int) -> str:
    """The comité's dashboard (Prefect artifact ``comite-<id>``): the same facts as ``comite show``."""
    comite = records.load(session, comite_id)
    data = records.show(session, comite_id)
    lines = [
        f"# {comite.reference} — {md(run_name(session, comite))}",
        "",
        f"**Statut** : {COMITE_STATUS_LABELS[ComiteStatus(comite.status)]} · **Date prévue** : "
        f"{comite.planned_on:%d/%m/%Y}" + (f" · **Tenu le** : {comite.held_on:%d/%m/%Y}" if comite.held_on else ""),
        "",
    ]
    lines += _contracts_table(session, comite)
    if data["participants"]:
        lines += (
            ["## Participants", ""]
            + [f"- {md(p['nom'])}" + (f", {md(p['fonction'])}" if p["fonction"] else "") for p in data["participants"]]
            + [""]
        )
    if data["actions_examinees"]:
        lines += [
            "## Actions examinées",
            "",
            "| n° | Action | Porteur | Décision | À revoir au bilan | Motif |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {a['action_id']} | {md(a['intitule'])} | {md(a['porteur'] or 'collectivité')} | {md(a['decision'])} "
            f"| {'oui' if a['a_revoir_au_bilan'] else 'non'} | {md(a['motif'])} |"
            for a in data["actions_examinees"]
        ]
        lines += [""]
    if comite.minutes:
        lines += (
            ["## Relevé de conclusions", ""] + [md(line) for line in comite.minutes.splitlines() if line.strip()] + [""]
        )
    if comite.cancel_reason:
        lines += [f"**Motif de l'annulation** : {md(comite.cancel_reason)}", ""]
    lines += history_table(data["decisions"], STEP_LABELS, DECISION_LABELS)
    return "\n".join(lines)


DECISION_LABELS = {
    ComiteEvent.PLANNED: "comité prévu",
    **{d.code: d.label for d in steps.COMPTE_RENDU.decisions},
    ComiteEvent.ACTION_REVIEWED: "action examinée",
    ComiteEvent.ACTION_FLAGGED: "action à revoir au bilan annuel",
    "refus": "réponse refusée",
}
