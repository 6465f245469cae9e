"""The CTAI of the Ville de Poitiers, as seed 004 tells it, walked through the contract's state
machine from its creation to the Diair's review, each decision dated (``demo.history``).

From seed 004: the signature by the préfecture de la Vienne and the city on 21 October 2021;
200 000 € in 2021 = 150 000 € « pour financer le poste de coordonnateur et accompagner les actions
des opérateurs au profit des BPI » + 50 000 € « accordés à l'association Toit du monde » for the
primo-arrivants; the six porteurs of the BPI actions; the themes of those actions; Toit du Monde's
seven actions, titled as the seed lists them; 229 new BPI signed a CIR in the Vienne in 2021.

ILLUSTRATIVE (the seed gives neither): which of the six porteurs carries which theme (the seed names
the porteurs and the themes, not who does what), how the 150 000 € and the 50 000 € split between
actions (the totals are exact), the single domain given to each action. FICTITIOUS: every date but
the signature's, the coordinator's name, the contract's term (the campaign's three years).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from demo import history
from demo.history import on
from models.actors import Collectivite, Porteur
from models.ctai import (
    Action,
    CoordinateurDecision,
    Ctai,
    CtaiFunding,
    CtaiStatus,
    Diagnostic,
    DiagnosticDecision,
    DiairReview,
    EchangeDecision,
    EngagementDecision,
    PropositionDecision,
    RevueDiairDecision,
    SignatureDecision,
    check_diair_review,
    check_signatures,
    ctai_reference,
)
from models.money import euros_to_cents
from models.reference import Domain, P104Action, Public
from services.ctai.handlers import contract_checks
from services.ctai.records import contract_records
from services.ctai.steps import apply_decision
from services.engine.audit import Actor, record_decision
from services.finance.acts import recompute_legal_acts

SIGNED_ON = date(2021, 10, 21)  # seed 004: « ont signé le CTAI de Poitiers le 21 octobre 2021 »
LETTER_ON = date(2020, 12, 15)  # FICTITIOUS
SOCLE_EUR, TOIT_DU_MONDE_EUR = "150000", "50000"  # seed 004

# The BPI actions (P104 action 15), on the socle: the six porteurs of seed 004, each given one of
# the seed's themes (ILLUSTRATIVE attribution and amounts), and the coordinator's post, carried by
# the city itself. Total: 150 000 €.
BPI_ACTIONS = [
    ("Coallia", "Accès au logement en colocation", Domain.LOGEMENT, "40000"),
    (
        "Audacia",
        "Accompagnement vers la formation et l'emploi, en articulation avec le logement en colocation",
        Domain.EMPLOI,
        "30000",
    ),
    (
        "Indigo Formation",
        "Ateliers linguistiques pour une meilleure maîtrise de langue à visée intégrative et "
        "d'insertion professionnelle",
        Domain.FRANCAIS,
        "30000",
    ),
    (
        "L'Astre en Moi",
        "Accompagnement des situations de vulnérabilité, avec une prise en charge des troubles "
        "éventuels de la santé mentale",
        Domain.SANTE,
        "15000",
    ),
    (
        "Ufolep de la Vienne",
        "Développement de la pratique sportive autour du « sport santé »",
        Domain.CULTURE_SPORT,
        "10000",
    ),
    ("Centre d'animation de Beaulieu", "Connaissance du patrimoine local", Domain.CULTURE_SPORT, "10000"),
    (None, "Poste de coordonnateur du contrat territorial", Domain.ACCES_DROITS, "15000"),
]
TOIT_DU_MONDE = "Toit du Monde"
# Toit du Monde's actions for the primo-arrivants (P104 action 12), titled as seed 004 lists them;
# the split of the 50 000 € is ILLUSTRATIVE.
PRIMO_ARRIVANTS_ACTIONS = [
    ("Accès aux droits", Domain.ACCES_DROITS, "8000"),
    ("Ateliers sociolinguistiques et médiation numérique", Domain.NUMERIQUE, "7000"),
    ("Ateliers sociolinguistiques : quartiers prioritaires de la ville", Domain.FRANCAIS, "7000"),
    ("Apprentissage de la langue et d'accès à l'emploi ouverte prioritairement aux femmes", Domain.EMPLOI, "8000"),
    (
        "Apprentissage de la langue et d'accès à l'emploi ouverte aux personnes en insertion dans le domaine du "
        "bâtiment",
        Domain.EMPLOI,
        "7000",
    ),
    (
        "Apprentissage de la langue et d'accès à l'emploi ouverte aux personnes en insertion dans le domaine de la "
        "restauration",
        Domain.EMPLOI,
        "7000",
    ),
    ("Université Populaire des Parents", Domain.PARENTALITE, "6000"),
]
PORTEURS = [p for p, *_ in BPI_ACTIONS if p] + [TOIT_DU_MONDE]

# seed 004: « lever les freins dans l'accès aux soins, aux droits, au logement, à la formation
# linguistique, à l'emploi et aux offres sportives et culturelles »
NEEDS = {
    "sante": "accès aux soins",
    "acces_droits": "accès aux droits",
    "logement": "accès au logement",
    "apprentissage_francais": "formation linguistique",
    "emploi": "accès à l'emploi",
    "culture_sport": "offres sportives et culturelles",
}

# Up to the signature (the préfet's acts follow it, then the Diair's review): step, decision, day,
# whether a source gives the day, comment.
TO_SIGNATURE = [
    ("engagement", EngagementDecision.RECEIVED, LETTER_ON, False, "lettre d'engagement de la maire de Poitiers"),
    ("echange", EchangeDecision.HELD, date(2021, 2, 9), False, "temps d'échange entre la préfecture et la Ville"),
    ("diagnostic", DiagnosticDecision.APPROVE, date(2021, 5, 18), False, "diagnostic territorial partagé validé"),
    ("coordinateur", CoordinateurDecision.RECORD, date(2021, 6, 15), False, "poste de coordonnateur créé par la Ville"),
    ("proposition", PropositionDecision.APPROVE, date(2021, 9, 14), False, "proposition complète : 200 000 € en 2021"),
    (
        "signature",
        SignatureDecision.SIGN,
        SIGNED_ON,
        True,
        "CTAI signé le 21/10/2021 par la préfecture de la Vienne et la Ville de Poitiers",
    ),
]
DIAIR_REVIEW = (
    "revue_diair",
    RevueDiairDecision.APPROVE,
    date(2021, 11, 16),
    False,
    "actions présentées à la Diair : conformes",
)


def create(session: Session, poitiers: Collectivite, porteurs: dict[str, Porteur]) -> Ctai:
    """The contract at its signature, the legal acts still to draw up (``demo.stages``)."""
    with on(LETTER_ON):
        ctai = Ctai(
            collectivite_id=poitiers.id,
            first_year=2021,
            last_year=2023,
            public_scope=Public.PRIMO_ARRIVANTS,
            status=CtaiStatus.AWAITING_LETTER,
            letter_received_on=LETTER_ON,
            letter_signatory="Maire de Poitiers",
            coordinator_name="Coordonnateur du CTAI (Ville de Poitiers, nom fictif)",
            prefet_signed_on=SIGNED_ON,
            elu_signed_on=SIGNED_ON,
        )
        session.add(ctai)
        session.flush()
        ctai.reference = ctai_reference("86", 2021, ctai.id)
        record_decision(
            session,
            entity_type="ctai",
            entity_id=ctai.id,
            step="creation",
            from_status=None,
            to_status=ctai.status,
            actor=Actor(f"collectivité : {poitiers.name} (démo, date fictive)"),
            decision="created",
            comment=history.note(None, False),
        )
    session.add(
        CtaiFunding(
            ctai_id=ctai.id,
            year=2021,
            socle_cents=euros_to_cents(SOCLE_EUR),
            complementary_cents=euros_to_cents(TOIT_DU_MONDE_EUR),
        )
    )
    session.add(Diagnostic(ctai_id=ctai.id, reference_year=2021, bpi_count=229, validated=True, needs_by_domain=NEEDS))
    for porteur_name, title, domain, amount in BPI_ACTIONS:
        session.add(
            Action(
                ctai_id=ctai.id,
                title=title,
                domain=domain,
                public=Public.BPI,
                porteur_id=porteurs[porteur_name].id if porteur_name else None,
                p104_action=P104Action.REFUGIES,
                amount_cents=euros_to_cents(amount),
                year=2021,
            )
        )
    for title, domain, amount in PRIMO_ARRIVANTS_ACTIONS:
        session.add(
            Action(
                ctai_id=ctai.id,
                title=title,
                domain=domain,
                public=Public.PRIMO_ARRIVANTS,
                porteur_id=porteurs[TOIT_DU_MONDE].id,
                p104_action=P104Action.PRIMO_ARRIVANTS,
                amount_cents=euros_to_cents(amount),
                year=2021,
            )
        )
    session.flush()
    recompute_legal_acts(session, ctai_ids=[ctai.id])  # R13: Toit du Monde's 50 000 € call for a convention
    for step in TO_SIGNATURE:
        _decide(session, ctai, *step)
    return ctai


def diair_review(session: Session, ctai: Ctai) -> None:
    """The actions presented to the Diair, found compliant (R12): the contract in execution."""
    _, actions, _ = contract_records(session, ctai)
    for a in actions:
        a.diair_review = DiairReview.COMPLIANT
        session.add(a)
    _decide(session, ctai, *DIAIR_REVIEW)


def _decide(session: Session, ctai: Ctai, step: str, decision: str, day: date, sourced: bool, comment: str) -> None:
    """One transition of the contract's machine, with the checks its flow would run, dated ``day``."""
    checks = None
    if (step, decision) in {("proposition", PropositionDecision.APPROVE), ("signature", SignatureDecision.SIGN)}:
        checks = contract_checks(session, ctai)
        if step == "signature":
            checks += check_signatures(
                prefet=ctai.prefet_signed_on, elu=ctai.elu_signed_on, cosignatory=None, cosigned_on=None
            )
    elif (step, decision) == ("revue_diair", RevueDiairDecision.APPROVE):
        checks = check_diair_review(contract_records(session, ctai)[1])
    before = ctai.status
    apply_decision(ctai, decision, checks=checks)
    session.add(ctai)
    funded = euros_to_cents(SOCLE_EUR) + euros_to_cents(TOIT_DU_MONDE_EUR)
    with on(day):
        record_decision(
            session,
            entity_type="ctai",
            entity_id=ctai.id,
            step=step,
            from_status=before,
            to_status=ctai.status,
            actor=history.actor(sourced),
            decision=decision,
            comment=history.note(comment, sourced),
            amount_cents=funded if step in {"proposition", "signature"} else None,
        )
