"""The legal acts' records: drawing them up from what was granted, reading them, their document.

``prepare`` is called in the transaction that grants money (credits delegated for PTAI requests;
a contract signed, widened, prolonged or amended): for each beneficiary, département and year it
touches, it compares the lines granted with the family's live act and draws up what is needed
(a first act, the draft brought up to date, or a new version of a signed act). It is idempotent:
called again with nothing new, it changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func
from sqlmodel import Session, select

from documents.model import ActDocument, ActLine, PaymentTerm, Signature
from models.actors import Collectivite, Porteur
from models.acts import (
    ACT_KIND_LABELS,
    ACT_STATUS_LABELS,
    REPORT_STATUS_LABELS,
    ActEvent,
    ActKind,
    ActStatus,
    FinancialReport,
    LegalAct,
    LegalActDocument,
    LegalActLine,
    LineKey,
    Payment,
    act_kind_for,
    act_policy,
    act_reference,
    family_key,
    instalment_amounts,
    needs_new_version,
)
from models.ctai import Action, Ctai, CtaiKind, CtaiStatus
from models.errors import NotFound
from models.french import pluriel
from models.money import cents_to_euros
from models.ptai import PtaiRequest, PtaiStatus
from models.reference import DOMAIN_LABELS, Departement, rules_or_nearest
from services.engine.audit import SYSTEM, decision_view, decisions_for, record_decision
from services.engine.kind import machine_of

ENTITY = "acte"
# The contracts whose actions are granted: signed, in execution, or ended after their years.
SIGNED_CONTRACTS = (
    CtaiStatus.DIAIR_REVIEW,
    CtaiStatus.DIAIR_REWORK,
    CtaiStatus.ACTIVE,
    CtaiStatus.YEARLY_REVIEW,
    CtaiStatus.REVIEW_SIGNATURE,
    CtaiStatus.ENDED,
)
Beneficiary = tuple[str, int]
Family = tuple[Beneficiary, str, int]  # beneficiary, département, year


@dataclass(frozen=True)
class Granted:
    """A line granted: a PTAI request whose credits are delegated, or an action of a signed year."""

    source: str
    source_id: int
    reference: str
    title: str
    collectivite_id: int
    p104_action: int
    domain: str | None
    amount_cents: int
    period_start: date
    period_end: date

    @property
    def key(self) -> LineKey:
        return (self.source, self.source_id, self.amount_cents)


def _beneficiary(porteur_id: int | None, collectivite_id: int) -> Beneficiary:
    return ("porteur", porteur_id) if porteur_id is not None else ("collectivite", collectivite_id)


# --- Drawing the acts up -----------------------------------------------------------------------


def families_of(session: Session, *, ptai_request_ids: Iterable[int] = (), ctai_ids: Iterable[int] = ()) -> set[Family]:
    """The (beneficiary, département, year) that these requests and these contracts' actions touch."""
    out: set[Family] = set()
    request_ids, contract_ids = list(ptai_request_ids), list(ctai_ids)
    R = PtaiRequest
    if request_ids:
        for porteur, collectivite, dep, year in session.execute(
            select(R.porteur_id, R.collectivite_id, Collectivite.departement_code, R.campaign_year)
            .join(Collectivite, Collectivite.id == R.collectivite_id)
            .where(R.id.in_(request_ids))
        ):
            out.add((_beneficiary(porteur, collectivite), dep, year))
    if contract_ids:
        for porteur, collectivite, dep, year in session.execute(
            select(Action.porteur_id, Ctai.collectivite_id, Collectivite.departement_code, Action.year)
            .join(Ctai, Ctai.id == Action.ctai_id)
            .join(Collectivite, Collectivite.id == Ctai.collectivite_id)
            .where(Action.ctai_id.in_(contract_ids))
        ):
            out.add((_beneficiary(porteur, collectivite), dep, year))
    return out


def granted_lines(session: Session, family: Family) -> list[Granted]:
    """What the beneficiary is granted in the département that year, line by line."""
    (who, whose_id), dep, year = family
    R = PtaiRequest
    requests = (
        select(R, Collectivite)
        .join(Collectivite, Collectivite.id == R.collectivite_id)
        .where(R.status == PtaiStatus.DELEGATED, R.campaign_year == year, Collectivite.departement_code == dep)
    )
    requests = (
        requests.where(R.porteur_id == whose_id)
        if who == "porteur"
        else requests.where(R.porteur_id.is_(None), R.collectivite_id == whose_id)
    )
    lines = [
        Granted(
            "ptai",
            r.id,
            r.reference,
            r.title,
            r.collectivite_id,
            r.p104_action,
            _domain(r.domains),
            r.granted_cents or 0,
            r.period_start,
            r.period_end,
        )
        for r, _ in session.exec(requests)
    ]
    actions = (
        select(Action, Ctai)
        .join(Ctai, Ctai.id == Action.ctai_id)
        .join(Collectivite, Collectivite.id == Ctai.collectivite_id)
        .where(Action.year == year, Collectivite.departement_code == dep, Ctai.status.in_(SIGNED_CONTRACTS))
    )
    actions = (
        actions.where(Action.porteur_id == whose_id)
        if who == "porteur"
        else actions.where(Action.porteur_id.is_(None), Ctai.collectivite_id == whose_id)
    )
    replaced = _replaced_years(session)
    for action, ctai in session.exec(actions.order_by(Action.id)):
        if ctai.kind == CtaiKind.CTAIR and year >= replaced.get(ctai.id, year + 1):
            continue  # the CTAI widening this CTAIR carries these years
        if ctai.status == CtaiStatus.REVIEW_SIGNATURE and ctai.review_year is not None and year > ctai.review_year:
            continue  # an avenant not yet signed by the préfet
        lines.append(
            Granted(
                "action",
                action.id,
                f"{ctai.reference}, action n° {action.id}",
                action.title,
                ctai.collectivite_id,
                action.p104_action,
                DOMAIN_LABELS.get(action.domain, action.domain),
                action.amount_cents,
                action.period_start or date(year, 1, 1),
                action.period_end or date(year, 12, 31),
            )
        )
    return sorted(lines, key=lambda g: (g.source, g.source_id))


def _domain(domains: list) -> str | None:
    return ", ".join(DOMAIN_LABELS.get(d, d) for d in domains) or None


def _replaced_years(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Ctai.replaces_ctair_id, func.min(Ctai.first_year))
        .where(Ctai.replaces_ctair_id.is_not(None), Ctai.status != CtaiStatus.REFUSED)
        .group_by(Ctai.replaces_ctair_id)
    )
    return {ctair: first for ctair, first in rows}


def live_acts(session: Session, key: str) -> tuple[LegalAct | None, LegalAct | None]:
    """The family's signed act in force and its draft awaiting signature (either may be None)."""
    acts = list(
        session.exec(
            select(LegalAct).where(
                LegalAct.family_key == key, LegalAct.status.in_([ActStatus.SIGNED, ActStatus.AWAITING_SIGNATURE])
            )
        )
    )
    signed = next((a for a in acts if a.status == ActStatus.SIGNED), None)
    draft = next((a for a in acts if a.status == ActStatus.AWAITING_SIGNATURE), None)
    return signed, draft


def lines_of(session: Session, act_id: int) -> list[LegalActLine]:
    return list(
        session.exec(
            select(LegalActLine)
            .where(LegalActLine.act_id == act_id)
            .order_by(LegalActLine.source, LegalActLine.source_id)
        )
    )


def prepare(session: Session, *, ptai_request_ids: Iterable[int] = (), ctai_ids: Iterable[int] = ()) -> list[int]:
    """Draws up the acts these grants call for; returns the ids of the drafts created or changed
    (their signature step is to be started). Call it in the granting transaction."""
    session.flush()
    changed = []
    for family in sorted(families_of(session, ptai_request_ids=ptai_request_ids, ctai_ids=ctai_ids)):
        act_id = _prepare_family(session, family)
        if act_id is not None:
            changed.append(act_id)
    return changed


def _prepare_family(session: Session, family: Family) -> int | None:
    beneficiary, dep, year = family
    key = family_key(beneficiary, dep, year)
    granted = granted_lines(session, family)
    signed, draft = live_acts(session, key)
    current = {g.key for g in granted}
    if signed is not None and not needs_new_version(
        {(line.source, line.source_id, line.amount_cents) for line in lines_of(session, signed.id)}, current
    ):
        if draft is not None:  # the draft's changes were undone: the signed act stands
            _cancel_draft(session, draft, "les montants accordés sont revenus à ceux de l'acte signé")
        return None
    if not granted and signed is None:
        if draft is not None:
            _cancel_draft(session, draft, "plus aucune ligne accordée à ce bénéficiaire cette année")
        return None
    total = sum(g.amount_cents for g in granted)
    kind = act_kind_for(total, rules_or_nearest(year).seuil_convention_cents)
    if draft is not None:
        if {
            (line.source, line.source_id, line.amount_cents) for line in lines_of(session, draft.id)
        } == current and draft.kind == kind:
            return None
        session.execute(delete(LegalActLine).where(LegalActLine.act_id == draft.id))
    else:
        last = session.exec(select(func.max(LegalAct.version)).where(LegalAct.family_key == key)).one() or 0
        draft = LegalAct(
            family_key=key,
            version=last + 1,
            replaces_act_id=signed.id if signed else None,
            kind=kind,
            departement_code=dep,
            year=year,
            total_cents=total,
            porteur_id=beneficiary[1] if beneficiary[0] == "porteur" else None,
            collectivite_id=beneficiary[1] if beneficiary[0] == "collectivite" else None,
        )
        session.add(draft)
        session.flush()
    draft.kind, draft.total_cents = kind, total
    draft.reference = act_reference(kind, dep, year, draft.id)
    session.add(draft)
    session.add_all(
        [
            LegalActLine(
                act_id=draft.id,
                source=g.source,
                source_id=g.source_id,
                reference=g.reference[:80],
                title=g.title[:300],
                collectivite_id=g.collectivite_id,
                p104_action=g.p104_action,
                domain=(g.domain or None) and g.domain[:40],
                amount_cents=g.amount_cents,
                period_start=g.period_start,
                period_end=g.period_end,
            )
            for g in granted
        ]
    )
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=draft.id,
        step="redaction",
        from_status=None,
        to_status=draft.status,
        actor=SYSTEM,
        decision="drafted",
        amount_cents=total,
        comment=f"{ACT_KIND_LABELS[kind]} {draft.reference} (version {draft.version}) : "
        f"{pluriel(len(granted), 'ligne')}" + (f", remplace {signed.reference}" if signed else ""),
    )
    session.flush()
    return draft.id


def _cancel_draft(session: Session, draft: LegalAct, reason: str) -> None:
    """A draft nothing calls for any more is withdrawn (its run, if any, finds it gone)."""
    before = draft.status
    machine_of(ENTITY).apply(draft, ActEvent.WITHDRAWN)
    draft.refusal_reason = reason
    session.add(draft)
    record_decision(
        session,
        entity_type=ENTITY,
        entity_id=draft.id,
        step="redaction",
        from_status=before,
        to_status=ActStatus.CANCELLED,
        actor=SYSTEM,
        decision=ActEvent.WITHDRAWN,
        comment=reason,
    )


# --- Reading -----------------------------------------------------------------------------------


def load(session: Session, act_id: int) -> LegalAct:
    act = session.get(LegalAct, act_id)
    if act is None:
        raise NotFound(f"[{NotFound.code}] aucun acte n° {act_id}")
    return act


def beneficiary_of(session: Session, act: LegalAct) -> Porteur | Collectivite:
    return session.get(Porteur, act.porteur_id) if act.porteur_id else session.get(Collectivite, act.collectivite_id)


def collectivites_of(session: Session, act: LegalAct) -> list[Collectivite]:
    ids = sorted(
        {line.collectivite_id for line in lines_of(session, act.id)}
        | ({act.collectivite_id} if act.collectivite_id else set())
    )
    return list(session.exec(select(Collectivite).where(Collectivite.id.in_(ids or [-1])).order_by(Collectivite.id)))


def family_paid_cents(session: Session, key: str) -> int:
    return session.exec(select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(Payment.family_key == key)).one()


def report_of(session: Session, key: str) -> FinancialReport | None:
    return session.exec(select(FinancialReport).where(FinancialReport.family_key == key)).first()


def document(
    session: Session, act: LegalAct, signature: Signature | None = None, *, today: date | None = None
) -> ActDocument:
    """What the act says, for its PDF (``signature`` None: the draft, or the act as signed)."""
    policy = act_policy()
    dep = session.get(Departement, act.departement_code)
    lines = lines_of(session, act.id)
    beneficiary = beneficiary_of(session, act)
    collectivites = collectivites_of(session, act)
    amounts = instalment_amounts(act.total_cents, policy.schedule(act.kind))
    replaced = session.get(LegalAct, act.replaces_act_id) if act.replaces_act_id else None
    if signature is None and act.status in (ActStatus.SIGNED, ActStatus.REPLACED) and act.signed_on:
        signature = Signature(act.signatory_name, act.signatory_title, act.signed_on)
    frames = sorted({line.reference.split(",")[0] for line in lines})
    cadre = (
        "du contrat territorial d'accueil et d'intégration "
        if lines and lines[0].source == "action"
        else "de la demande de subvention "
    ) + ", ".join(frames)
    return ActDocument(
        kind=act.kind,
        numero=act.reference,
        annee=act.year,
        departement_code=act.departement_code,
        departement_nom=dep.nom if dep else act.departement_code,
        beneficiaire_nom=beneficiary.name,
        beneficiaire_siret=getattr(beneficiary, "siret", None),
        beneficiaire_rna=getattr(beneficiary, "rna", None),
        beneficiaire_est_collectivite=act.porteur_id is None,
        collectivite_nom=", ".join(c.name for c in collectivites),
        cadre=cadre,
        lignes=[
            ActLine(line.title, line.reference, line.p104_action, line.amount_cents, line.domain) for line in lines
        ],
        total_cents=act.total_cents,
        unite_budgetaire=policy.budget_unit_of(act.departement_code),
        loi_de_finances=policy.finance_law(act.year),
        periode_debut=min((line.period_start for line in lines), default=date(act.year, 1, 1)),
        periode_fin=max((line.period_end for line in lines), default=date(act.year, 12, 31)),
        paiements=[
            PaymentTerm(i.tranche, i.label, i.share, amounts[i.tranche], i.condition_label)
            for i in policy.schedule(act.kind)
        ],
        compte_rendu_echeance=policy.report_due_on(act.year),
        version=act.version,
        remplace=replaced.reference if replaced else None,
        signature=signature,
        date_edition=today,
    )


def stored_document(session: Session, act_id: int) -> LegalActDocument | None:
    return session.exec(select(LegalActDocument).where(LegalActDocument.act_id == act_id)).first()


def show(session: Session, act_id: int) -> dict:
    act = load(session, act_id)
    beneficiary = beneficiary_of(session, act)
    report = report_of(session, act.family_key)
    stored = stored_document(session, act.id)
    paid = family_paid_cents(session, act.family_key)
    return {
        "id": act.id,
        "reference": act.reference,
        "type": act.kind,
        "type_libelle": ACT_KIND_LABELS[ActKind(act.kind)],
        "version": act.version,
        "remplace": (session.get(LegalAct, act.replaces_act_id).reference if act.replaces_act_id else None),
        "statut": act.status,
        "statut_libelle": ACT_STATUS_LABELS[ActStatus(act.status)],
        "departement": act.departement_code,
        "annee": act.year,
        "beneficiaire": {
            "nom": beneficiary.name,
            "siret": getattr(beneficiary, "siret", None),
            "rna": getattr(beneficiary, "rna", None),
            "association": act.porteur_id is not None,
        },
        "collectivites": [c.name for c in collectivites_of(session, act)],
        "montant_eur": str(cents_to_euros(act.total_cents)),
        "montant_cents": act.total_cents,
        "lignes": [
            {
                "reference": line.reference,
                "objet": line.title,
                "action_p104": line.p104_action,
                "montant_cents": line.amount_cents,
            }
            for line in lines_of(session, act.id)
        ],
        "signature": None
        if not act.signed_on
        else {"date": act.signed_on.isoformat(), "signataire": act.signatory_name, "qualite": act.signatory_title},
        "document": None
        if stored is None
        else {"fichier": stored.filename, "sha256": stored.sha256, "taille_octets": len(stored.content)},
        "ej": act.ej_number,
        "paye_cents": paid,
        "compte_rendu": None
        if report is None
        else {
            "reference": report.reference,
            "echeance": report.due_on.isoformat(),
            "statut": report.status,
            "statut_libelle": REPORT_STATUS_LABELS[report.status],
        },
        "motif_refus": act.refusal_reason,
        "decisions": [decision_view(d) for d in decisions_for(session, ENTITY, act.id)],
    }
