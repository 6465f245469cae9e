"""French texts about a contract: the approval form's Markdown and the emails' shared context."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from models.actors import COLLECTIVITE_TYPE_LABELS, ROLE_LABELS, Collectivite, Porteur, Role
from models.ctai import (
    DIAIR_REVIEW_LABELS,
    REVIEW_PROPOSAL_LABELS,
    Ctai,
    CtaiActionReview,
    DiairReview,
    RevueDiairDecision,
)
from models.errors import Violation
from models.french import pluriel
from models.money import format_eur
from models.reference import DOMAIN_LABELS, PUBLIC_LABELS, Domain, Public
from services.ctai import steps
from services.ctai.handlers import contract_checks
from services.ctai.records import contract_records, flagged_for_review, review_of, show
from services.ctai.review import transmitted_lines
from services.engine.texts import (
    decision_footer,
    history_lines,
    history_table,
    letterhead,
    md,
    place,
    refusal_banner,
    short_name,
    step_labels,
)

# Every step a contract's history names: its approval steps, the collectivité's rework and the
# comités de pilotage that followed it.
STEP_LABELS = step_labels(steps.STEPS, **steps.OTHER_STEP_LABELS, pilotage="comité de pilotage")

RULES_SHOWN = [
    ("R1", "collectivité habilitée à signer"),
    ("R2", "public du contrat cohérent avec ses actions"),
    (
        "R4",
        "socle entre 150 000 € et 300 000 € par an, qui finance les actions BPI ; crédits complémentaires "
        "justifiés et au plus égaux aux actions pour les primo-arrivants",
    ),
    ("R5", "au moins une action de logement (et, dès 2022, les domaines exigés chaque année)"),
    ("R6", "diagnostic partagé validé"),
    ("R15", "porteurs au SIRET valide, aucune association cultuelle"),
    ("R16", "frais de fonctionnement uniquement"),
    ("R17", "chaque ligne codée en action P104 12 ou 15"),
]


def run_name(session: Session, ctai: Ctai, step: str) -> str:
    """``CTAI Poitiers (86) — signature``: what an agent sees in the Prefect UI."""
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    return f"CTAI {short_name(collectivite)} ({collectivite.departement_code}) — {STEP_LABELS[step]}"


def email_base(session: Session, ctai: Ctai, destinataire: str) -> dict:
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    return {
        "reference": ctai.reference,
        "objet": f"Contrat territorial d'accueil et d'intégration — {collectivite.name}",
        "destinataire": destinataire,
        **letterhead(session, collectivite.departement_code),
    }


def summary(session: Session, ctai: Ctai) -> str:
    funding, actions, _ = contract_records(session, ctai)
    if not funding and not actions:
        return "Contrat en préparation : ni financement ni action encore proposés."
    years = " ; ".join(
        f"{f.year} : socle {format_eur(f.socle_cents)}, complémentaire {format_eur(f.complementary_cents)}"
        for f in funding
    )
    return f"{pluriel(len(actions), 'action')}. {years}."


def form_description(session: Session, ctai: Ctai, step: str, role: str, refusal: list[Violation] | None) -> str:
    collectivite = session.get(Collectivite, ctai.collectivite_id)
    funding, actions, diagnostic = contract_records(session, ctai)
    lines = [f"## {md(run_name(session, ctai, step))}", "", *refusal_banner(refusal)]
    lines += [
        f"**Référence** : {ctai.reference} · **Collectivité** : {md(collectivite.name)} "
        f"— {COLLECTIVITE_TYPE_LABELS.get(collectivite.type, collectivite.type)}, {place(session, collectivite)}",
        f"**Public** : {PUBLIC_LABELS[Public(ctai.public_scope)]} · **Années** : {ctai.first_year}–{ctai.last_year}",
        f"**Décision attendue de** : {ROLE_LABELS[Role(role)]}",
        "",
    ]
    if funding:
        lines += ["### Financement", "", "| Année | Socle | Complémentaire | Total |", "|---|---:|---:|---:|"]
        lines += [
            f"| {f.year} | {format_eur(f.socle_cents)} | {format_eur(f.complementary_cents)} | "
            f"{format_eur(f.socle_cents + f.complementary_cents)} |"
            for f in funding
        ]
        lines += [""]
    if actions:
        porteurs = {a.porteur_id: session.get(Porteur, a.porteur_id) for a in actions if a.porteur_id}
        lines += [
            "### Actions",
            "",
            "| n° | Domaine | Action | Porteur | Public | P104 | Année | Montant | Diair |",
            "|---|---|---|---|---|---|---|---:|---|",
        ]
        for a in actions:
            porteur = porteurs.get(a.porteur_id)
            lines.append(
                f"| {a.id} | {DOMAIN_LABELS[Domain(a.domain)]} | {md(a.title)} | "
                f"{md(porteur.name) if porteur else 'collectivité'} "
                f"| {PUBLIC_LABELS[Public(a.public)]} | {a.p104_action} | {a.year} | {format_eur(a.amount_cents)} | "
                f"{DIAIR_REVIEW_LABELS[DiairReview(a.diair_review)]} |"
            )
        lines += [""]
    if diagnostic:
        lines += [
            f"**Diagnostic** ({diagnostic.reference_year}) : {diagnostic.bpi_count} BPI visés"
            + (f", {diagnostic.primo_arrivants_count} primo-arrivants" if diagnostic.primo_arrivants_count else "")
            + (" — validé" if diagnostic.validated else " — à valider"),
            "",
        ]
    lines += _step_details(session, ctai, step, actions)
    if step in {steps.PROPOSITION.name, steps.SIGNATURE.name, steps.ELARGISSEMENT.name}:
        failed = {v.code.split("_")[0]: v for v in contract_checks(session, ctai)}
        lines += ["### Contrôle des règles", ""]
        for rule, label in RULES_SHOWN:
            v = failed.get(rule)
            lines.append(f"- ❌ **{rule}** {label} : `{v.code}` — {md(v.message)}" if v else f"- ✅ **{rule}** {label}")
        lines += [""]
    lines += history_lines(session, steps.CASE, ctai.id, STEP_LABELS)
    lines += decision_footer(steps.STEPS_BY_NAME[step])
    return "\n".join(lines)


def _step_details(session: Session, ctai: Ctai, step: str, actions: list) -> list[str]:
    """What the step's decider needs beyond the contract: the Diair's flags, the bilan to fill in
    or to sign."""
    out: list[str] = []
    flagged = [a for a in actions if a.diair_review == DiairReview.REWORK]
    if step == steps.REVUE_DIAIR.name and flagged:
        out += ["### Actions signalées précédemment", ""]
        out += [f"- n° {a.id} « {md(a.title)} » : {md(a.diair_comment or '')}" for a in flagged] + [""]
    if step == steps.REVUE_DIAIR.name:
        out += [
            f"Pour « {steps.REVUE_DIAIR.wording(RevueDiairDecision.REWORK)} », indiquez les n° des actions "
            "concernées et le motif (commentaire) : elles seules retournent à la collectivité, le reste du "
            "contrat est maintenu.",
            "",
        ]
    if step in {steps.YEARLY_REVIEW.name, steps.REVIEW_SIGNATURE.name} and ctai.review_year is not None:
        year = ctai.review_year
        of_year = [a for a in actions if a.year == year]
        out += [f"### Bilan {year} (contrat {ctai.first_year}–{ctai.last_year})", ""]
        if step == steps.YEARLY_REVIEW.name:
            out += [
                f"Renseignez le bilan de chaque action {year} : n° de l'action, réalisée (oui/non), public atteint, "
                f"montant consommé (au plus le montant de l'action). Actions {year} : "
                + (
                    ", ".join(f"n° {a.id} « {md(a.title)} » ({format_eur(a.amount_cents)})" for a in of_year)
                    or "aucune"
                )
                + ".",
                "",
                f"« prolonger » reconduit les crédits et les actions en {year + 1} (décidé par l'instruction) ; "
                f"un avenant (socle et crédits complémentaires {year + 1}), la fin ou le renouvellement sont signés "
                "par le préfet."
                + (
                    f" {year} est la dernière année du contrat : il ne peut être que terminé ou renouvelé."
                    if year >= ctai.last_year
                    else ""
                ),
                "",
            ]
            sent = transmitted_lines(session, ctai.id, year)
            if sent:
                titles = {a.id: a.title for a in actions}
                out += [
                    "**Bilan transmis par la collectivité** (laissez le champ du bilan vide pour le retenir tel "
                    "quel, ou saisissez-le en entier pour le corriger) :",
                    "",
                    "| n° | Action | Réalisée | Public atteint | Consommé |",
                    "|---|---|---|---:|---:|",
                ]
                out += [
                    f"| {a} | {md(titles.get(a, '?'))} | {'oui' if done else 'non'} | {reached} | {format_eur(cents)} |"
                    for a, done, reached, cents in sent
                ] + [""]
            flags = flagged_for_review(session, ctai.id)
            if flags:
                out += ["**Actions signalées par les comités de pilotage** :", ""]
                out += [
                    f"- action n° {f['action_id']} (comité {md(str(f['comite']))}"
                    + (f", {f['date']:%d/%m/%Y}" if hasattr(f.get("date"), "strftime") else "")
                    + ")"
                    + (f" : {md(f['observation'])}" if f.get("observation") else "")
                    for f in flags
                ] + [""]
        review = review_of(session, ctai.id, year)
        if step == steps.REVIEW_SIGNATURE.name and review is not None:
            out.append(
                f"**Proposition de l'instruction** : {REVIEW_PROPOSAL_LABELS.get(review.proposal, review.proposal)}"
                + (
                    f" — avenant {year + 1} : socle {format_eur(review.socle_cents)}, complémentaire "
                    f"{format_eur(review.complementary_cents or 0)}"
                    if review.socle_cents is not None
                    else ""
                )
            )
            out += [""]
            rows = list(
                session.exec(
                    select(CtaiActionReview)
                    .where(CtaiActionReview.review_id == review.id)
                    .order_by(CtaiActionReview.action_id)
                )
            )
            titles = {a.id: a.title for a in actions}
            if rows:
                out += ["| n° | Action | Réalisée | Public atteint | Consommé |", "|---|---|---|---:|---:|"]
                out += [
                    f"| {r.action_id} | {md(titles.get(r.action_id, '?'))} | {'oui' if r.carried_out else 'non'} | "
                    f"{r.public_reached} | {format_eur(r.consumed_cents)} |"
                    for r in rows
                ] + [""]
    return out


def contract_markdown(session: Session, ctai_id: int) -> str:
    """The contract's dashboard (Prefect artifact): the same facts as ``ctai show --json``."""
    data = show(session, ctai_id)
    lines = [
        f"# {data['reference']} — {md(data['collectivite']['nom'])} ({data['collectivite']['departement']})",
        "",
        f"**Statut** : {data['statut_libelle']} · **Public** : {PUBLIC_LABELS[Public(data['public'])]} · "
        f"**Années** : {data['annees'][0]}–{data['annees'][1]}",
        "",
    ]
    signatures = []
    if data["signature_prefet"]:
        signatures.append(f"préfet le {date.fromisoformat(data['signature_prefet']):%d/%m/%Y}")
    if data["signature_elu"]:
        signatures.append(f"élu le {date.fromisoformat(data['signature_elu']):%d/%m/%Y}")
    if data["cosignature_diair"]:
        co = data["cosignature_diair"]
        signatures.append(
            f"co-signé par le délégué interministériel {md(co['nom'])} le {date.fromisoformat(co['date']):%d/%m/%Y}"
        )
    if signatures:
        lines += ["**Signatures** : " + " ; ".join(signatures), ""]
    if data["financement"]:
        lines += ["## Financement", "", "| Année | Socle | Complémentaire |", "|---|---:|---:|"]
        lines += [
            f"| {f['annee']} | {format_eur(f['socle_cents'])} | {format_eur(f['complementaire_cents'])} |"
            for f in data["financement"]
        ]
        lines += [""]
    if data["actions_par_domaine"]:
        lines += ["## Actions par domaine", ""]
        for domain, actions in data["actions_par_domaine"].items():
            lines.append(
                f"- **{domain}** : "
                + " ; ".join(
                    f"{md(a['intitule'])} ({format_eur(a['montant_cents'])}, {a['annee']}"
                    + (", à retravailler" if a["revue_diair"] == DiairReview.REWORK else "")
                    + ")"
                    for a in actions
                )
            )
        lines += [""]
    lines += history_table(data["decisions"], STEP_LABELS)
    return "\n".join(lines)
