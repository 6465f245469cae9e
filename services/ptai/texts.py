"""French texts about a PTAI request: form descriptions, run names, email context, dashboard."""

from __future__ import annotations

from sqlmodel import Session

from models.actors import ROLE_LABELS, Collectivite, Porteur, Role
from models.acts import ACT_KIND_LABELS, ActKind
from models.cerfa import RuleCheck
from models.errors import Violation
from models.money import format_eur
from models.ptai import InstructionDecision, PtaiRequest, ValidationDecision
from models.reference import DOMAIN_LABELS, PUBLIC_LABELS, Domain, Public
from services.engine.texts import (
    decision_footer,
    history_lines,
    letterhead,
    md,
    place,
    refusal_banner,
    short_name,
    step_labels,
)
from services.ptai import steps
from services.ptai.records import checks_now, show

# Every step a request's history names, approval steps or not.
HISTORY_LABELS = step_labels(steps.STEPS, **steps.OTHER_STEP_LABELS)


def run_name(session: Session, request: PtaiRequest, step: str) -> str:
    collectivite = session.get(Collectivite, request.collectivite_id)
    return (
        f"PTAI {short_name(collectivite)} ({collectivite.departement_code}) — {HISTORY_LABELS.get(step, step)} "
        f"— {request.reference}"
    )


def email_base(session: Session, request: PtaiRequest, destinataire: str) -> dict:
    collectivite = session.get(Collectivite, request.collectivite_id)
    return {
        "reference": request.reference,
        "objet": f"Projet territorial « {request.title} »",
        "destinataire": destinataire,
        **letterhead(session, collectivite.departement_code),
    }


def summary(session: Session, request: PtaiRequest) -> str:
    line = (
        f"Demande de {format_eur(request.requested_cents)} pour « {request.title} » "
        f"(coût total {format_eur(request.total_cost_cents)}, action P104 {request.p104_action})."
    )
    return line + (f" {opinion_line(request)}." if request.opinion else "")


def opinion_line(request: PtaiRequest) -> str:
    """The instructeur's opinion, as the préfet reads it (plain text: emails and forms)."""
    if request.opinion == InstructionDecision.FAVOURABLE:
        text = f"Avis de l'instruction : favorable, pour {format_eur(request.proposed_cents)}"
    else:
        text = "Avis de l'instruction : défavorable"
    return text + (f" (motifs : {request.opinion_reasons})" if request.opinion_reasons else "")


def validation_leads_to(request: PtaiRequest) -> dict[str, str]:
    """What validating leads to, as the préfet's form says it: it depends on the opinion."""
    if request.opinion == InstructionDecision.UNFAVOURABLE:
        validate = (
            "la demande est validée malgré l'avis défavorable et transmise au ministère : montant validé "
            "obligatoire (au plus le montant demandé) et motifs de votre décision obligatoires"
        )
    else:
        validate = (
            f"la demande est transmise au ministère au montant proposé ({format_eur(request.proposed_cents)}) "
            "ou au montant inférieur que vous indiquez"
        )
    return {ValidationDecision.VALIDATE: validate}


def description(session: Session, request: PtaiRequest, step: str, role: str, refusal: list[Violation] | None) -> str:
    collectivite = session.get(Collectivite, request.collectivite_id)
    porteur = session.get(Porteur, request.porteur_id) if request.porteur_id else None
    lines = [f"## {md(run_name(session, request, step))}", "", *refusal_banner(refusal)]
    lines += [
        f"**Demandeur** : {md(collectivite.name)}, {place(session, collectivite)}"
        + (f" · **Porteur** : {md(porteur.name)} (SIRET {porteur.siret})" if porteur else ""),
        f"**Projet** : {md(request.title)} — {md(request.objectives)}",
        "**Domaines** : "
        + ", ".join(DOMAIN_LABELS[Domain(d)] for d in request.domains)
        + f" · **Public** : {PUBLIC_LABELS[Public(request.public)]}",
        f"**Montant demandé** : {format_eur(request.requested_cents)} sur un coût total de "
        f"{format_eur(request.total_cost_cents)} · **P104** : action {request.p104_action} · **Acte** : "
        f"{ACT_KIND_LABELS[ActKind(request.legal_act)]}",
    ]
    if step == steps.VALIDATION.name and request.opinion:
        if request.opinion == InstructionDecision.FAVOURABLE:
            lines.append(
                f"**Avis de l'instruction** : ✅ favorable · **Montant proposé** : {format_eur(request.proposed_cents)}"
            )
        else:
            lines.append("**Avis de l'instruction** : ⚠ défavorable (aucun montant proposé)")
        if request.opinion_reasons:
            lines.append(f"**Motifs de l'avis** : {md(request.opinion_reasons)}")
    elif request.proposed_cents is not None:
        lines.append(f"**Montant proposé par l'instruction** : {format_eur(request.proposed_cents)}")
    lines += ["", f"**Décision attendue de** : {ROLE_LABELS[Role(role)]}", ""]
    lines += check_lines(checks_now(session, request))
    lines += history_lines(session, steps.CASE, request.id, HISTORY_LABELS)
    declared = steps.STEPS_BY_NAME[step]
    leads_to = validation_leads_to(request) if declared is steps.VALIDATION else None
    lines += decision_footer(declared, leads_to, status=request.status)
    return "\n".join(lines)


def check_lines(checks: list[RuleCheck]) -> list[str]:
    """The rules run again on the request as filed, today, each with its result."""
    lines = ["### Contrôles du dossier (refaits à l'ouverture de ce formulaire)", ""]
    for c in checks:
        if c.passed:
            lines.append(f"- ✅ **{c.rule}** {c.label}")
        else:
            lines.append(f"- ❌ **{c.rule}** {c.label} : " + " ; ".join(md(v.message) for v in c.violations))
    return lines + [""]


def request_markdown(session: Session, request_id: int) -> str:
    data = show(session, request_id)
    lines = [
        f"# {data['reference']} — {md(data['intitule'])}",
        "",
        f"**Statut** : {data['statut_libelle']} · **Demandeur** : {md(data['collectivite']['nom'])} "
        f"({data['collectivite']['departement']})",
        "",
        "| Montant | |",
        "|---|---:|",
        f"| demandé | {format_eur(data['montant_demande_cents'])} |",
    ]
    if data["avis"]:
        opinion = "favorable" if data["avis"] == InstructionDecision.FAVOURABLE else "défavorable"
        lines.insert(
            3,
            f"**Avis de l'instruction** : {opinion}"
            + (f" — {md(data['motifs_avis'])}" if data["motifs_avis"] else "")
            + "\n",
        )
    for key, label in (("montant_propose_cents", "proposé / validé"), ("montant_accorde_cents", "accordé (délégué)")):
        if data[key] is not None:
            lines.append(f"| {label} | {format_eur(data[key])} |")
    lines += ["", "## Décisions", ""]
    lines += [
        f"- {d['horodatage'][:16].replace('T', ' ')} UTC — {md(d['libelle'])} ({md(d['acteur'])})"
        for d in data["decisions"]
    ]
    return "\n".join(lines)
