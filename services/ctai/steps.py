"""Every step of a CTAI contract, declared once: its status, label, awaited role, form, handler
and each decision (wording, history label, needed fields, transition, money, recourse, what the
collectivité is told). The state machine, the forms' choices, the texts and the flows derive
from these declarations.

The procedure (seed 003): lettre d'engagement → temps d'échange → diagnostic → coordinateur →
proposition → signature by the préfet → revue Diair (with a rework loop through the collectivité)
→ execution, with a yearly bilan that the préfet signs when it changes the contract; a CTAIR is
widened into a CTAI by the préfet's signature.
"""

from __future__ import annotations

from models.actors import Role
from models.ctai import (
    CoordinateurDecision,
    CtaiEvent,
    CtaiStatus,
    DiagnosticDecision,
    EchangeDecision,
    ElargissementDecision,
    EngagementDecision,
    PropositionDecision,
    ReviewProposal,
    ReviewSignatureDecision,
    RevueDiairDecision,
    SignatureDecision,
)
from models.state_machine import Transition
from services.ctai import forms, handlers
from services.engine.kind import Decision, Step, build_machine

CASE = "ctai"
S = CtaiStatus

ENGAGEMENT = Step(
    case=CASE,
    name="engagement",
    status=S.AWAITING_LETTER,
    label="lettre d'engagement",
    role=Role.INSTRUCTEUR,
    form=forms.EngagementForm,
    handler=handlers.engagement,
    expectation="Adresser au préfet (et à la Diair) la lettre d'engagement signée par l'exécutif, avant la fin "
    "de l'année précédant la signature.",
    decisions=(
        Decision(
            EngagementDecision.RECEIVED,
            wording="lettre reçue",
            label="lettre d'engagement reçue",
            target=S.EXCHANGE,
            needs=("letter_date", "signatory"),
        ),
    ),
)

ECHANGE = Step(
    case=CASE,
    name="echange",
    status=S.EXCHANGE,
    label="temps d'échange",
    role=Role.INSTRUCTEUR,
    form=forms.EchangeForm,
    handler=handlers.echange,
    expectation="Participer au temps d'échange avec les services de la préfecture.",
    decisions=(
        Decision(
            EchangeDecision.HELD,
            wording="temps d'échange tenu",
            label="temps d'échange tenu",
            target=S.DIAGNOSTIC,
            needs=("meeting_date",),
        ),
    ),
)

DIAGNOSTIC = Step(
    case=CASE,
    name="diagnostic",
    status=S.DIAGNOSTIC,
    label="diagnostic partagé",
    role=Role.INSTRUCTEUR,
    form=forms.DiagnosticForm,
    handler=handlers.diagnostic,
    expectation="Co-rédiger avec la préfecture le diagnostic territorial partagé : public visé et besoins par domaine.",
    decisions=(
        Decision(
            DiagnosticDecision.APPROVE,
            wording="valider le diagnostic",
            label="diagnostic validé",
            target=S.COORDINATOR,
            needs=("bpi_count",),
        ),
        Decision(
            DiagnosticDecision.REWORK,
            wording="faire retravailler le diagnostic",
            label="diagnostic à retravailler",
            target=S.DIAGNOSTIC,
            sends_back=True,
        ),
    ),
)

COORDINATEUR = Step(
    case=CASE,
    name="coordinateur",
    status=S.COORDINATOR,
    label="coordinateur",
    role=Role.INSTRUCTEUR,
    form=forms.CoordinateurForm,
    handler=handlers.coordinateur,
    expectation="Désigner ou recruter, si vous le souhaitez, un coordinateur du contrat.",
    decisions=(
        Decision(
            CoordinateurDecision.RECORD,
            wording="enregistrer le coordinateur",
            label="coordinateur enregistré",
            target=S.PROPOSAL,
            needs=("coordinator_name",),
        ),
        Decision(
            CoordinateurDecision.SKIP, wording="pas de coordinateur", label="pas de coordinateur", target=S.PROPOSAL
        ),
    ),
)

PROPOSITION = Step(
    case=CASE,
    name="proposition",
    status=S.PROPOSAL,
    label="proposition de contrat et demande de financement",
    role=Role.INSTRUCTEUR,
    form=forms.PropositionForm,
    handler=handlers.proposition,
    expectation="Transmettre à la préfecture la proposition de contrat : ses actions, leurs porteurs et les "
    "montants demandés pour chaque année.",
    decisions=(
        Decision(
            PropositionDecision.APPROVE,
            wording="proposition complète",
            label="proposition complète",
            target=S.SIGNATURE,
            guarded=True,
        ),
        Decision(
            PropositionDecision.REWORK,
            wording="faire retravailler la proposition",
            label="proposition à retravailler",
            target=S.PROPOSAL,
            sends_back=True,
        ),
    ),
)

SIGNATURE = Step(
    case=CASE,
    name="signature",
    status=S.SIGNATURE,
    label="validation et signature",
    role=Role.PREFET,
    form=forms.SignatureForm,
    handler=handlers.signature,
    four_eyes=True,  # never the instructing agent
    decisions=(
        Decision(
            SignatureDecision.SIGN,
            wording="signer le contrat",
            label="contrat signé",
            target=S.DIAIR_REVIEW,
            needs=("signature_date", "elu_signature_date"),
            guarded=True,
            grants=True,
        ),
        Decision(
            SignatureDecision.REWORK,
            wording="renvoyer la proposition",
            label="proposition renvoyée pour reprise",
            target=S.PROPOSAL,
            sends_back=True,
            asks="Reprendre la proposition de contrat selon les observations du préfet, puis la transmettre à "
            "nouveau à la préfecture.",
        ),
        Decision(
            SignatureDecision.REJECT,
            wording="refuser la signature",
            label="signature refusée",
            target=S.REFUSED,
            unfavourable=True,
        ),
    ),
)

REVUE_DIAIR = Step(
    case=CASE,
    name="revue_diair",
    status=S.DIAIR_REVIEW,
    label="revue des actions par la Diair",
    role=Role.DIAIR,
    form=forms.RevueDiairForm,
    handler=handlers.revue_diair,
    expectation_again="Vos actions retravaillées ont bien été reçues : la Diair les examine à nouveau ; le reste "
    "du contrat est inchangé.",
    decisions=(
        Decision(
            RevueDiairDecision.APPROVE,
            wording="actions conformes",
            label="actions conformes",
            target=S.ACTIVE,
            guarded=True,
        ),
        Decision(
            RevueDiairDecision.REWORK,
            wording="actions à retravailler",
            label="actions à retravailler",
            target=S.DIAIR_REWORK,
            needs=("rework_action_ids", "comment"),
            sends_back=True,
            asks="La Diair vous renvoie les actions qu'elle a marquées « à retravailler » (voir son motif "
            "ci-dessus). Modifiez ces actions, et elles seules, puis transmettez-les à la préfecture en "
            "rappelant leur numéro. Le reste du contrat est maintenu : les actions conformes le restent et le "
            "financement est inchangé. La Diair examinera ensuite à nouveau les actions retravaillées.",
        ),
    ),
)

YEARLY_REVIEW = Step(
    case=CASE,
    name="bilan",
    status=S.YEARLY_REVIEW,
    label="bilan annuel et avenant",
    role=Role.INSTRUCTEUR,
    form=forms.ReviewForm,
    handler=handlers.yearly_review,
    expectation="Transmettre le bilan de l'année écoulée et, le cas échéant, les actions à prolonger ou à modifier.",
    decisions=(
        Decision(
            ReviewProposal.PROLONG,
            wording="prolonger les actions",
            label="actions prolongées",
            target=S.ACTIVE,
            grants=True,
        ),
        Decision(
            ReviewProposal.AMEND,
            wording="proposer un avenant",
            label="avenant proposé au préfet",
            target=S.REVIEW_SIGNATURE,
            needs=("amount_eur",),
        ),
        Decision(
            ReviewProposal.END,
            wording="proposer la fin du contrat",
            label="fin du contrat proposée au préfet",
            target=S.REVIEW_SIGNATURE,
        ),
        Decision(
            ReviewProposal.RENEW,
            wording="proposer le renouvellement du contrat",
            label="renouvellement proposé au préfet",
            target=S.REVIEW_SIGNATURE,
        ),
    ),
)

REVIEW_SIGNATURE = Step(
    case=CASE,
    name="bilan_signature",
    status=S.REVIEW_SIGNATURE,
    label="signature du bilan annuel par le préfet",
    role=Role.PREFET,
    form=forms.ReviewSignatureForm,
    handler=handlers.review_signature,
    four_eyes=True,  # never the instructeur who prepared the bilan
    decisions=(
        Decision(
            ReviewSignatureDecision.SIGN_AMENDMENT,
            wording="signer l'avenant",
            label="avenant signé",
            target=S.ACTIVE,
            needs=("signature_date",),
            guarded=True,
            grants=True,
        ),
        Decision(
            ReviewSignatureDecision.SIGN_END,
            wording="signer la fin du contrat",
            label="fin du contrat signée",
            target=S.ENDED,
            needs=("signature_date",),
            unfavourable=True,
        ),
        Decision(
            ReviewSignatureDecision.REWORK,
            wording="renvoyer le bilan à l'instruction",
            label="bilan renvoyé à l'instruction",
            target=S.YEARLY_REVIEW,
            sends_back=True,
        ),
    ),
)

ELARGISSEMENT = Step(
    case=CASE,
    name="elargissement",
    status=S.WIDENING,
    label="élargissement du CTAIR en CTAI",
    role=Role.PREFET,
    form=forms.ElargissementForm,
    handler=handlers.elargissement,
    four_eyes=True,
    decisions=(
        Decision(
            ElargissementDecision.SIGN,
            wording="signer le CTAI",
            label="CTAI signé en lieu et place du CTAIR",
            target=S.DIAIR_REVIEW,
            needs=("signature_date", "elu_signature_date"),
            guarded=True,
            grants=True,
        ),
        Decision(
            ElargissementDecision.REJECT,
            wording="refuser l'élargissement",
            label="élargissement refusé",
            target=S.REFUSED,
            unfavourable=True,
        ),
    ),
)

STEPS = (
    ENGAGEMENT,
    ECHANGE,
    DIAGNOSTIC,
    COORDINATEUR,
    PROPOSITION,
    SIGNATURE,
    REVUE_DIAIR,
    YEARLY_REVIEW,
    REVIEW_SIGNATURE,
    ELARGISSEMENT,
)
STEPS_BY_NAME = {step.name: step for step in STEPS}

# The steps no agent's form decides, as the history names them.
REWORK_STEP, OTHER_STEP_LABELS = "retravail", {"retravail": "actions retravaillées par la collectivité"}

CTAI_MACHINE = build_machine(
    CASE,
    "CTAI",
    STEPS,
    [
        # The collectivité sends its reworked actions (``territoires ctai rework``): the Diair reviews again.
        Transition(
            REWORK_STEP,
            S.DIAIR_REWORK,
            CtaiEvent.REWORKED,
            S.DIAIR_REVIEW,
            None,
            "actions retravaillées transmises",
            guarded=True,
        ),
        Transition(YEARLY_REVIEW.name, S.ACTIVE, CtaiEvent.OPEN_REVIEW, S.YEARLY_REVIEW, None, "bilan annuel ouvert"),
        Transition(
            ELARGISSEMENT.name, S.ACTIVE, CtaiEvent.REPLACED, S.REPLACED, Role.PREFET, "CTAIR remplacé par un CTAI"
        ),
    ],
)


def apply_decision(ctai, decision: str, *, checks=None) -> Transition:
    """Moves the contract along ``CTAI_MACHINE``: the only writer of its status. A guarded
    transition requires the rule checks (proposal, signature, Diair review, widening); any
    violation refuses the change."""
    return CTAI_MACHINE.apply(ctai, decision, checks=checks)
