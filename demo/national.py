"""A national dataset, FICTITIOUS, whose totals are the figures the ministry published for 2023:
44 territories engaged (28 communes, 13 métropoles or EPCI, 2 conseils départementaux,
1 conseil régional) and 11 000 000 € (DOMAIN.md « Volumes »; seeds 000 and 003).

Everything else is made up and says so: the names (« Commune fictive n° 07 »), the SIREN (prefix
998, valid key), the addresses (``.example``), the départements, the split of the 11 M€ between
territories and actions, the signature dates. The contracts are taken up as history (signed and
running, as a migration of the préfectures' files would bring them), not driven through the
steps: the dataset is for the dashboard and for sizing it, not for instruction.
"""

from __future__ import annotations

import random
from datetime import date

from sqlmodel import Session, select
from stdnum import luhn

from models.actors import Collectivite, CollectiviteCreate
from models.ctai import Action, Ctai, CtaiFunding, CtaiStatus, DiairReview, ctai_reference
from models.reference import Domain, P104Action, Public
from services.registry import add_collectivite, seed_reference

TOTAL_CENTS_2023 = 11_000_000_00
# (type, how many, name) as the ministry counts its 44 territories of 2023.
TERRITORIES = [
    ("commune", 28, "Commune fictive"),
    ("metropole", 9, "Métropole fictive"),
    ("epci", 3, "Communauté d'agglomération fictive"),
    ("communaute_urbaine", 1, "Communauté urbaine fictive"),
    ("departement", 2, "Conseil départemental fictif"),
    ("region", 1, "Conseil régional fictif"),
]
# Départements the fictitious territories sit in (one each, in this order, round the list).
DEPARTEMENTS = [
    "86",
    "76",
    "37",
    "38",
    "21",
    "63",
    "35",
    "67",
    "44",
    "31",
    "34",
    "33",
    "69",
    "13",
    "59",
    "06",
    "75",
    "93",
    "54",
    "57",
    "29",
    "49",
    "87",
    "25",
    "51",
    "14",
    "45",
    "64",
    "66",
    "30",
    "42",
    "68",
    "62",
    "80",
    "72",
    "18",
    "03",
    "11",
    "81",
    "24",
    "2A",
    "974",
    "971",
    "84",
]
DOMAINS = list(Domain)


def fictitious_siren(year: int, n: int) -> str:
    base = f"998{year % 100:02d}{n:03d}"
    return base + luhn.calc_check_digit(base)


def seed_national(session: Session, year: int) -> dict:
    """Idempotent per year: a second run adds nothing. Returns what it created."""
    seed_reference(session)
    rng = random.Random(year)  # the same dataset every time for a year
    territories = [(kind, f"{name} n° {i:02d}") for kind, count, name in TERRITORIES for i in range(1, count + 1)]
    shares = _split(TOTAL_CENTS_2023, [rng.randint(5, 30) for _ in territories])
    created = {"collectivites": 0, "ctai": 0, "actions": 0}
    for n, ((kind, name), cents) in enumerate(zip(territories, shares, strict=True), start=1):
        siren = fictitious_siren(year, n)
        if session.exec(select(Collectivite).where(Collectivite.siren == siren)).first() is not None:
            continue
        dep = DEPARTEMENTS[(n - 1) % len(DEPARTEMENTS)]
        coll = add_collectivite(
            session,
            CollectiviteCreate(
                name=f"{name} ({dep})",
                type=kind,
                siren=siren,
                departement_code=dep,
                email=f"integration@territoire-{year}-{n:02d}.example",
            ),
        )
        created["collectivites"] += 1
        created["actions"] += _contract(session, coll, year, cents, rng)
        created["ctai"] += 1
    return created


def _contract(session: Session, coll: Collectivite, year: int, cents: int, rng: random.Random) -> int:
    """A contract signed for ``year`` to ``year + 2`` (fictitious date), funded ``cents`` in
    ``year`` and split into 5 to 20 actions."""
    ctai = Ctai(
        collectivite_id=coll.id,
        first_year=year,
        last_year=year + 2,
        public_scope=Public.PRIMO_ARRIVANTS,
        status=CtaiStatus.ACTIVE,
        letter_received_on=date(year - 1, 11, 30),
        letter_signatory="Exécutif (fictif)",
        prefet_signed_on=date(year, 3, 15),
        elu_signed_on=date(year, 3, 15),
    )
    session.add(ctai)
    session.flush()
    ctai.reference = ctai_reference(coll.departement_code, year, ctai.id)
    socle = cents * 3 // 4
    session.add(CtaiFunding(ctai_id=ctai.id, year=year, socle_cents=socle, complementary_cents=cents - socle))
    amounts = _split(cents, [rng.randint(1, 4) for _ in range(rng.randint(5, 20))])
    for i, amount in enumerate(amounts):
        refugees = i % 3 == 0
        session.add(
            Action(
                ctai_id=ctai.id,
                title=f"Action fictive n° {i + 1:02d}",
                domain=DOMAINS[(ctai.id + i) % len(DOMAINS)],
                public=Public.BPI if refugees else Public.PRIMO_ARRIVANTS,
                p104_action=P104Action.REFUGIES if refugees else P104Action.PRIMO_ARRIVANTS,
                amount_cents=amount,
                year=year,
                diair_review=DiairReview.COMPLIANT,
            )
        )
    session.flush()
    return len(amounts)


def _split(total: int, weights: list[int]) -> list[int]:
    """``total`` cents in whole euros along ``weights``; the last part takes the rounding, so
    the parts add up to ``total`` exactly."""
    whole = sum(weights)
    parts = [total * w // whole // 100 * 100 for w in weights[:-1]]
    return parts + [total - sum(parts)]
