"""The actions funded in 2020 that seed 003 gives as examples (« CTAI, PTAI : quelques exemples
d'actions financées en 2020 »), each with the State's amount, as contracts of the CTAIR generation.

Why CTAIRs: 2019 and 2020 are the CTAIR years (DOMAIN.md; the campaign data refuses a PTAI before
2021), so a 2020 grant is an action of a refugee-only contract (R2: public BPI, R17: P104 action
15), registered as ``territoires ctai register-ctair`` registers one: in force, signed, its actions
compliant, a diagnostic, no review (a CTAIR runs to its term or is widened). Each runs from the year
of its signature to the end of 2020, the CTAIR generation (``register-ctair`` would give it the
campaign's three-year term instead). Dijon Métropole's, signed in 2019, runs 2019–2020: it is the
one to widen (``territoires ctai start --collectivite N --from-ctair M --first-year Y``, then a
proposition and the préfet's signature), and every other one can be widened too.

From seed 003: the territory, the kind of collectivité (« une commune », « une métropole », « le
conseil régional, deux départements et trois métropoles »), what the action does, the State's amount
for 2020, and the public when it says so (BPI for Puy-de-Dôme, Côte-d'Or and Isère). Côte-d'Or's
and Isère's « une métropole » are Dijon Métropole and Grenoble-Alpes Métropole (each the only
métropole of its département).

Not in the sources, so ILLUSTRATIVE or FICTITIOUS, and said so here:
- the signature dates (FICTITIOUS), the diagnostics' numbers of BPI (FICTITIOUS);
- the names of the two communes and of Occitanie's partner (seed 003 names none);
- the public of Loire-Atlantique's and Occitanie's actions: BPI, because a CTAIR is for refugees;
- the socle (R4: 150 000 to 300 000 € a year for a contract's BPI actions): where the State's
  amount is below 150 000 € (Puy-de-Dôme, Isère, Loire-Atlantique), the contract's 2020 socle is
  R4's floor and the action, the amount the State committed, is the seed's (the rest of the
  envelope is allotted to no action); Occitanie's 420 000 € exceed one refugee-only contract's
  ceiling (300 000 €), so they are split between the Région and one of its partner métropoles
  (ILLUSTRATIVE split, the total is exact), both placed in the Haute-Garonne, the Région's seat
  (the source names neither the métropoles nor the départements).
The amounts committed for 2020 are therefore the actions', per département: 63 100 000 €, 21 300 000 €,
38 20 000 €, 44 50 000 €, 31 (Occitanie) 420 000 €.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from demo.history import FICTIVE_NOTE, on
from models.actors import Collectivite
from models.ctai import (
    Action,
    Ctai,
    CtaiFunding,
    CtaiKind,
    CtaiStatus,
    Diagnostic,
    DiairReview,
    check_action_porteurs,
    check_actions,
    check_ctair,
    check_funding,
    check_signatory,
)
from models.errors import raise_if_any
from models.money import euros_to_cents, format_eur
from models.reference import Domain, P104Action, Public
from services.ctai.proposal import ceilings
from services.ctai.records import rules_of
from services.engine.audit import Actor, record_decision
from services.finance.acts import recompute_legal_acts

YEAR = 2020
LAST_YEAR = 2020  # the CTAIR generation ends with 2020
R4_FLOOR_EUR = "150000"

# The collectivités seed 003 does not name, with FICTITIOUS names saying so (name, type, département).
UNNAMED = [
    ("Commune du Puy-de-Dôme (non nommée par la source)", "commune", "63"),
    ("Commune de la Loire-Atlantique (non nommée par la source)", "commune", "44"),
    ("Région Occitanie", "region", "31"),
    ("Métropole partenaire du réseau d'Occitanie (non nommée par la source)", "metropole", "31"),
]


@dataclass(frozen=True)
class Ctair:
    collectivite: str
    departement: str
    signed_on: date  # FICTITIOUS
    title: str
    domain: Domain
    amount_eur: str  # seed 003 (Occitanie: its split, ILLUSTRATIVE)
    socle_eur: str  # = the amount, or R4's floor when the amount is below it
    bpi_count: int  # FICTITIOUS


OCCITANIE = (
    "Réseau de plateformes d'accueil, d'évaluation et d'orientation linguistique pour favoriser des "
    "parcours cohérents d'apprentissage, développé par le conseil régional, deux départements et trois "
    "métropoles"
)
CTAIRS = [
    Ctair(
        "Dijon Métropole",
        "21",
        date(2019, 10, 15),
        "Accompagnement personnalisé des BPI dans l'appropriation de leur nouvel environnement ; rencontre et "
        "coopération des partenaires",
        Domain.ACCES_DROITS,
        "300000",
        "300000",
        350,
    ),
    Ctair(
        "Commune du Puy-de-Dôme (non nommée par la source)",
        "63",
        date(2020, 3, 10),
        "Développement d'une structure de soins spécialisée en santé mentale à destination des BPI en souffrance "
        "psychique du fait de parcours d'exil traumatiques",
        Domain.SANTE,
        "100000",
        R4_FLOOR_EUR,
        180,
    ),
    Ctair(
        "Grenoble-Alpes Métropole",
        "38",
        date(2020, 2, 4),
        "Formation pré-qualifiante alternant formation linguistique et immersion autour du métier d'auxiliaire de vie",
        Domain.FORMATION,
        "20000",
        R4_FLOOR_EUR,
        400,
    ),
    Ctair(
        "Commune de la Loire-Atlantique (non nommée par la source)",
        "44",
        date(2020, 5, 12),
        "Installation de populations nouvelles dans un territoire semi-rural, au milieu d'un important bassin d'emploi",
        Domain.LOGEMENT,
        "50000",
        R4_FLOOR_EUR,
        40,
    ),
    Ctair(
        "Région Occitanie",
        "31",
        date(2020, 6, 23),
        f"{OCCITANIE} (part de la Région)",
        Domain.FRANCAIS,
        "270000",
        "270000",
        1200,
    ),
    Ctair(
        "Métropole partenaire du réseau d'Occitanie (non nommée par la source)",
        "31",
        date(2020, 6, 23),
        f"{OCCITANIE} (part d'une métropole partenaire)",
        Domain.FRANCAIS,
        "150000",
        "150000",
        500,
    ),
]


def seed_ctairs(session: Session, collectivites: dict[str, Collectivite]) -> int:
    """Each CTAIR not registered yet, by its collectivité's name; returns how many were added."""
    added = 0
    for spec in CTAIRS:
        collectivite = collectivites[spec.collectivite]
        exists = session.exec(
            select(Ctai.id).where(Ctai.collectivite_id == collectivite.id, Ctai.kind == CtaiKind.CTAIR)
        ).first()
        if exists is None:
            _register(session, collectivite, spec)
            added += 1
    return added


def _register(session: Session, collectivite: Collectivite, spec: Ctair) -> Ctai:
    """As ``services.ctai.rework.register_ctair`` does (the same checks), with the term of the
    CTAIR generation and the registration dated on the signature."""
    first_year = spec.signed_on.year
    funding = [CtaiFunding(year=YEAR, socle_cents=euros_to_cents(spec.socle_eur))]
    actions = [
        Action(
            title=spec.title,
            domain=spec.domain,
            public=Public.BPI,
            p104_action=P104Action.REFUGIES,
            amount_cents=euros_to_cents(spec.amount_eur),
            year=YEAR,
            diair_review=DiairReview.COMPLIANT,
        )
    ]
    raise_if_any(
        check_signatory(collectivite.type, rules_of(first_year))
        + check_ctair(
            signature_date=spec.signed_on,
            scope=Public.BPI,
            funding=funding,
            actions=actions,
            first_year=first_year,
            last_year=LAST_YEAR,
            already_active=None,
        )
        + check_funding(funding, Public.BPI, rules_of)
        + [v for v in check_actions(actions, Public.BPI, funding, rules_of) if not v.code.startswith("R5_")]
        + check_action_porteurs(actions, {})
        + ceilings(funding, actions)
    )
    ctair = Ctai(
        collectivite_id=collectivite.id,
        kind=CtaiKind.CTAIR,
        status=CtaiStatus.ACTIVE,
        first_year=first_year,
        last_year=LAST_YEAR,
        public_scope=Public.BPI,
        prefet_signed_on=spec.signed_on,
    )
    session.add(ctair)
    session.flush()
    ctair.reference = f"CTAIR-{collectivite.departement_code}-{first_year}-{ctair.id:04d}"
    for row in [*funding, *actions]:
        row.ctai_id = ctair.id
    session.add_all(
        [
            *funding,
            *actions,
            Diagnostic(
                ctai_id=ctair.id,
                reference_year=first_year - 1,
                bpi_count=spec.bpi_count,
                validated=True,
                needs_by_domain={str(spec.domain): spec.title, "synthese": "Nombre de BPI fictif (démonstration)."},
            ),
        ]
    )
    with on(spec.signed_on):
        record_decision(
            session,
            entity_type="ctai",
            entity_id=ctair.id,
            step="creation",
            from_status=None,
            to_status=ctair.status,
            actor=Actor(f"reprise d'un CTAIR existant : {collectivite.name} (démo, date fictive)"),
            decision="registered",
            amount_cents=euros_to_cents(spec.socle_eur),
            comment=f"CTAIR signé par le préfet le {spec.signed_on:%d/%m/%Y} ({FICTIVE_NOTE}) ; en {YEAR}, "
            f"l'État s'engage à hauteur de {format_eur(euros_to_cents(spec.amount_eur))} pour son "
            "action (source : exemples d'actions financées en 2020)",
        )
    recompute_legal_acts(session, ctai_ids=[ctair.id])
    return ctair
