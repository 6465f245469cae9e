"""French texts about a contract: the approval form's Markdown and the emails' shared context."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.actors import COLLECTIVITE_TYPE_LABELS, ROLE_LABELS, Collectivite, Porteur, Role
from models.ctai import CTAI_MACHINE, DIAIR_REVIEW_LABELS, STATUS_OF_STEP, STEP_LABELS, Ctai, DiairReview
from models.errors import Violation
from models.money import format_eur
from models.reference import DOMAIN_LABELS, PUBLIC_LABELS, Departement, Domain, Public
from models.types import to_paris
from services.ctai.records import contract_records, show
from services.ctai.handlers import contract_checks
from services.engine.texts import decision_footer, history_lines, md, place, refusal_banner, short_name

RULES_SHOWN = [
    ("R1", "collectivité habilitée à signer"),
    ("R2", "public du contrat cohérent avec ses actions"),
    ("R4", "socle entre 150 000 € et 300 000 € par an, crédits complémentaires justifiés"),
    ("R5", "au moins une action de logement"),
    ("R6", "diagnostic partagé validé"),
    ("R17", "chaque ligne codée en action P104 12 ou 15"),
]


def run_name(session: Session, ctai: Ctai, step: str) -> str:
    """``CTAI Poitiers (86) — signature``: what an agent sees in the Prefect UI."""
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    return f"CTAI {short_name(collectivite)} ({collectivite.departement_code}) — {STEP_LABELS[step]}"


def email_base(session: Session, ctai: Ctai, destinataire: str) -> dict:
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    dep = session.get(Departement, collectivite.departement_code)
    return {
        "reference": ctai.reference,
        "objet": f"Contrat territorial d'accueil et d'intégration — {collectivite.name}",
        "destinataire": destinataire,
        "departement": place(session, collectivite),
        "expediteur": f"La préfecture — {dep.nom}" if dep else "La préfecture",
    }


def summary(session: Session, ctai: Ctai) -> str:
    funding, actions, _ = contract_records(session, ctai)
    if not funding and not actions:
        return "Contrat en préparation : ni financement ni action encore proposés."
    years = " ; ".join(f"{f.year} : socle {format_eur(f.socle_cents)}, complémentaire {format_eur(f.complementary_cents)}"
                       for f in funding)
    return f"{len(actions)} action(s). {years}."


def form_description(session: Session, ctai: Ctai, step: str, role: str, refusal: list[Violation] | None) -> str:
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    funding, actions, diagnostic = contract_records(session, ctai)
    lines = [f"## {md(run_name(session, ctai, step))}", "", *refusal_banner(refusal)]
    lines += [
        f"**Référence** : {ctai.reference} · **Collectivité** : {md(collectivite.name)} "
        f"({COLLECTIVITE_TYPE_LABELS.get(collectivite.type, collectivite.type)}, {place(session, collectivite)})",
        f"**Public** : {PUBLIC_LABELS[Public(ctai.public_scope)]} · **Années** : {ctai.first_year}–{ctai.last_year}",
        f"**Décision attendue de** : {ROLE_LABELS[Role(role)]}", "",
    ]
    if funding:
        lines += ["### Financement", "", "| Année | Socle | Complémentaire | Total |", "|---|---:|---:|---:|"]
        lines += [f"| {f.year} | {format_eur(f.socle_cents)} | {format_eur(f.complementary_cents)} | "
                  f"{format_eur(f.socle_cents + f.complementary_cents)} |" for f in funding]
        lines += [""]
    if actions:
        porteurs = {a.porteur_id: session.get(Porteur, a.porteur_id) for a in actions if a.porteur_id}
        lines += ["### Actions", "", "| n° | Domaine | Action | Porteur | Public | P104 | Année | Montant | Diair |",
                  "|---|---|---|---|---|---|---|---:|---|"]
        for a in actions:
            porteur = porteurs.get(a.porteur_id)
            lines.append(f"| {a.id} | {DOMAIN_LABELS[Domain(a.domain)]} | {md(a.title)} | {md(porteur.name) if porteur else 'collectivité'} "
                         f"| {PUBLIC_LABELS[Public(a.public)]} | {a.p104_action} | {a.year} | {format_eur(a.amount_cents)} | {DIAIR_REVIEW_LABELS[DiairReview(a.diair_review)]} |")
        lines += [""]
    if diagnostic:
        lines += [f"**Diagnostic** ({diagnostic.reference_year}) : {diagnostic.bpi_count} BPI visés"
                  + (f", {diagnostic.primo_arrivants_count} primo-arrivants" if diagnostic.primo_arrivants_count else "")
                  + (" — validé" if diagnostic.validated else " — à valider"), ""]
    if step in {"proposition", "signature", "elargissement"}:
        failed = {v.code.split("_")[0]: v for v in contract_checks(session, ctai)}
        lines += ["### Contrôle des règles", ""]
        for rule, label in RULES_SHOWN:
            v = failed.get(rule)
            lines.append(f"- ❌ **{rule}** {label} : `{v.code}` — {md(v.message)}" if v else f"- ✅ **{rule}** {label}")
        lines += [""]
    lines += history_lines(session, "ctai", ctai.id, STEP_LABELS)
    lines += decision_footer("ctai", step, [(t.decision, t.label) for t in CTAI_MACHINE.allowed(STATUS_OF_STEP[step])])
    return "\n".join(lines)


def contract_markdown(session: Session, ctai_id: int) -> str:
    """The contract's dashboard (Prefect artifact): the same facts as ``ctai show --json``."""
    data = show(session, ctai_id)
    lines = [f"# {data['reference']} — {md(data['collectivite']['nom'])} ({data['collectivite']['departement']})", "",
             f"**Statut** : {data['statut_libelle']} · **Public** : {PUBLIC_LABELS[Public(data['public'])]} · "
             f"**Années** : {data['annees'][0]}–{data['annees'][1]}", ""]
    if data["financement"]:
        lines += ["## Financement", "", "| Année | Socle | Complémentaire |", "|---|---:|---:|"]
        lines += [f"| {f['annee']} | {format_eur(f['socle_cents'])} | {format_eur(f['complementaire_cents'])} |"
                  for f in data["financement"]]
        lines += [""]
    if data["actions_par_domaine"]:
        lines += ["## Actions par domaine", ""]
        for domain, actions in data["actions_par_domaine"].items():
            lines.append(f"- **{domain}** : " + " ; ".join(f"{md(a['intitule'])} ({format_eur(a['montant_cents'])}, {a['annee']})" for a in actions))
        lines += [""]
    lines += ["## Chronologie des décisions", "", "| Date (Paris) | Étape | Décision | Par | Commentaire |", "|---|---|---|---|---|"]
    for d in data["decisions"]:
        when = to_paris(datetime.fromisoformat(d["horodatage"])).strftime("%d/%m/%Y %H:%M")
        lines.append(f"| {when} | {STEP_LABELS.get(d['etape'], d['etape'])} | {md(d['libelle'])} | {md(d['acteur'])} | {md(d['commentaire'])} |")
    return "\n".join(lines)
