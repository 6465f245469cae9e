"""French texts about a legal act: its run name, the signature form's Markdown, the emails'
context, and its dashboard (the Prefect artifact)."""

from __future__ import annotations

from sqlmodel import Session

from models.acts import (
    ACT_KIND_LABELS,
    ACT_STATUS_LABELS,
    ActKind,
    ActStatus,
    LegalAct,
    act_policy,
    instalment_amounts,
)
from models.errors import Violation
from models.french import pluriel
from models.money import format_eur
from services.acts import records, steps
from services.engine.texts import (
    decision_footer,
    history_lines,
    letterhead,
    md,
    refusal_banner,
    step_labels,
)

# Every step an act's history names: its signature, its drafting, payments, replacement.
ACT_STEP_LABELS = step_labels(steps.STEPS, **steps.OTHER_STEP_LABELS)


def kind_label(act: LegalAct) -> str:
    return ACT_KIND_LABELS[ActKind(act.kind)]


def objet(session: Session, act: LegalAct) -> str:
    beneficiary = records.beneficiary_of(session, act)
    return f"{kind_label(act).capitalize()} {act.year} — {beneficiary.name}"


def run_name(session: Session, act: LegalAct, step: str | None = None) -> str:
    """« Acte AP-86-2021-0004 — Toit du Monde — signature »: what the préfet sees in the UI."""
    beneficiary = records.beneficiary_of(session, act)
    return f"Acte {act.reference} — {beneficiary.name} ({act.departement_code}) — signature"


def email_base(session: Session, act: LegalAct, destinataire: str) -> dict:
    return {
        "reference": act.reference,
        "objet": objet(session, act),
        "destinataire": destinataire,
        **letterhead(session, act.departement_code),
    }


def summary(session: Session, act: LegalAct) -> str:
    return (
        f"{kind_label(act).capitalize()} de {format_eur(act.total_cents)} pour "
        f"{records.beneficiary_of(session, act).name} "
        f"({act.year}, {pluriel(len(records.lines_of(session, act.id)), 'ligne')}) : à signer."
    )


def _body(session: Session, act: LegalAct) -> list[str]:
    beneficiary = records.beneficiary_of(session, act)
    policy = act_policy()
    lines = records.lines_of(session, act.id)
    out = [
        f"**Acte** : {md(kind_label(act))} n° {act.reference} (version {act.version})"
        + (f", remplace l'acte {session.get(LegalAct, act.replaces_act_id).reference}" if act.replaces_act_id else ""),
        f"**Bénéficiaire** : {md(beneficiary.name)}"
        + (f" — SIRET {beneficiary.siret}" if getattr(beneficiary, "siret", None) else "")
        + f" · **Année** : {act.year} · **Statut** : {ACT_STATUS_LABELS[ActStatus(act.status)]}",
        "",
        "| Référence | Objet | Programme 104 | Montant |",
        "|---|---|---|---:|",
    ]
    out += [
        f"| {md(line.reference)} | {md(line.title)} | action {line.p104_action} | {format_eur(line.amount_cents)} |"
        for line in lines
    ]
    out += [
        f"| | **Total** | | **{format_eur(act.total_cents)}** |",
        "",
        f"**Imputation** : programme 104 « Intégration et accès à la nationalité française », unité budgétaire "
        f"{policy.budget_unit_of(act.departement_code)} (AE = CP).",
        "",
    ]
    amounts = instalment_amounts(act.total_cents, policy.schedule(act.kind))
    out += [
        "**Échéancier** : "
        + " ; ".join(
            f"{i.label} de {format_eur(amounts[i.tranche])} ({i.share * 100:.0f} %) {i.condition_label}"
            for i in policy.schedule(act.kind)
        )
    ]
    if act.porteur_id:
        out += [f"**Compte rendu financier** (Cerfa n° 15059) dû le {policy.report_due_on(act.year):%d/%m/%Y}."]
    return out + [""]


def form_description(session: Session, act: LegalAct, step: str, role: str, refusal: list[Violation] | None) -> str:
    lines = [
        f"## {md(run_name(session, act))}",
        "",
        *refusal_banner(refusal),
        *_body(session, act),
        "Le projet d'acte est consultable avec `territoires acte pdf " + str(act.id) + " > projet.pdf`.",
        "",
    ]
    lines += history_lines(session, records.ENTITY, act.id, ACT_STEP_LABELS)
    return "\n".join(lines + decision_footer(steps.SIGNATURE))


def act_markdown(session: Session, entity_id: int) -> str:
    act = records.load(session, entity_id)
    stored = records.stored_document(session, act.id)
    lines = [f"# {md(objet(session, act))}", "", *_body(session, act)]
    if act.signed_on:
        lines += [f"**Signé le** {act.signed_on:%d/%m/%Y} par {md(act.signatory_name)}, {md(act.signatory_title)}."]
    if stored is not None:
        lines += [f"**Document** : {stored.filename}, SHA-256 `{stored.sha256}`."]
    return "\n".join(lines + [""] + history_lines(session, records.ENTITY, act.id, ACT_STEP_LABELS))
