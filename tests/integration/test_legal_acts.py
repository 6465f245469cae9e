"""R13 on the stored records: the act of each PTAI request and CTAI action follows what its
beneficiary is granted that year, recomputed when an amount changes (both databases)."""

from datetime import date

from sqlmodel import Session, select

from demo.data import fictitious_siren, fictitious_siret
from models.actors import CollectiviteCreate, PorteurCreate
from models.ctai import Action, Ctai, CtaiStatus
from models.ptai import PtaiRequest, PtaiStatus
from models.reference import Domain, P104Action, Public
from services import registry
from services.db import unit_of_work
from services.finance.acts import recompute_legal_acts


def _world(engine) -> dict:
    with unit_of_work(engine) as s:
        registry.seed_reference(s)
        poitiers = registry.add_collectivite(
            s,
            CollectiviteCreate(
                name="Ville de Poitiers",
                type="commune",
                siren=fictitious_siren(1),
                departement_code="86",
                email="integration@poitiers.example",
            ),
        )
        coallia = registry.add_porteur(
            s, PorteurCreate(name="Coallia", siret=fictitious_siret(1), email="c@coallia.example")
        )
        toit = registry.add_porteur(
            s, PorteurCreate(name="Toit du Monde", siret=fictitious_siret(2), email="t@toit.example")
        )
        return {"poitiers": poitiers.id, "coallia": coallia.id, "toit": toit.id}


def _request(s: Session, ids: dict, porteur: str | None, cents: int, year: int = 2021, n: int = 1, **columns) -> int:
    row = PtaiRequest(
        campaign_year=year,
        collectivite_id=ids["poitiers"],
        porteur_id=ids[porteur] if porteur else None,
        title=f"Projet {n}",
        objectives="…",
        domains=["emploi"],
        public_categories=["primo_arrivant"],
        public=Public.PRIMO_ARRIVANTS,
        cir_complementarity="…",
        p104_action=12,
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
        total_cost_cents=cents * 2,
        requested_cents=cents,
        legal_act="arrete",
        **columns,
    )
    s.add(row)
    s.flush()
    return row.id


def _contract(
    s: Session,
    ids: dict,
    actions: list[tuple[str | None, int]],
    year: int = 2021,
    status: CtaiStatus = CtaiStatus.PROPOSAL,
) -> int:
    ctai = Ctai(
        collectivite_id=ids["poitiers"],
        first_year=year,
        last_year=year + 2,
        status=status,
        public_scope=Public.PRIMO_ARRIVANTS,
    )
    s.add(ctai)
    s.flush()
    for i, (porteur, cents) in enumerate(actions):
        s.add(
            Action(
                ctai_id=ctai.id,
                title=f"Action {i}",
                domain=Domain.LOGEMENT,
                public=Public.BPI,
                porteur_id=ids[porteur] if porteur else None,
                p104_action=P104Action.REFUGIES,
                amount_cents=cents,
                year=year,
            )
        )
    s.flush()
    return ctai.id


def _acts(engine) -> dict:
    with Session(engine) as s:
        out = {("ptai", r.id): r.legal_act for r in s.exec(select(PtaiRequest))}
        out |= {("action", a.id): a.legal_act for a in s.exec(select(Action))}
        return out


def test_the_poitiers_actions_of_coallia_and_toit_du_monde_are_conventions_and_the_small_ones_arretes(engine):
    ids = _world(engine)
    with unit_of_work(engine) as s:
        ctai_id = _contract(s, ids, [("coallia", 4_000_000), ("toit", 5_000_000), (None, 1_500_000)])
        recompute_legal_acts(s, ctai_ids=[ctai_id])
    with Session(engine) as s:
        acts = {a.porteur_id: a.legal_act for a in s.exec(select(Action))}
    assert acts == {ids["coallia"]: "convention", ids["toit"]: "convention", None: "arrete"}


def test_two_requests_of_one_porteur_in_one_year_become_conventions_together(engine):
    ids = _world(engine)
    with unit_of_work(engine) as s:
        first = _request(s, ids, "coallia", 1_500_000, n=1)
        recompute_legal_acts(s, ptai_request_ids=[first])
    assert set(_acts(engine).values()) == {"arrete"}
    with unit_of_work(engine) as s:
        second = _request(s, ids, "coallia", 1_000_000, n=2)
        recompute_legal_acts(s, ptai_request_ids=[second])
    assert _acts(engine) == {("ptai", first): "convention", ("ptai", second): "convention"}


def test_a_ctai_action_and_a_ptai_request_of_one_porteur_add_up(engine):
    ids = _world(engine)
    with unit_of_work(engine) as s:
        rid = _request(s, ids, "coallia", 2_000_000)
        ctai_id = _contract(s, ids, [("coallia", 500_000)])
        recompute_legal_acts(s, ctai_ids=[ctai_id])
    acts = _acts(engine)
    assert acts[("ptai", rid)] == "convention" and set(acts.values()) == {"convention"}


def test_the_amount_granted_decides_not_the_amount_requested(engine):
    ids = _world(engine)
    with unit_of_work(engine) as s:
        rid = _request(s, ids, "toit", 3_000_000)
        recompute_legal_acts(s, ptai_request_ids=[rid])
    assert _acts(engine)[("ptai", rid)] == "convention"
    with unit_of_work(engine) as s:
        request = s.get(PtaiRequest, rid)
        request.proposed_cents, request.granted_cents = 2_500_000, 2_000_000
        s.add(request)
        recompute_legal_acts(s, ptai_request_ids=[rid])
    assert _acts(engine)[("ptai", rid)] == "arrete"


def test_a_rejected_request_no_longer_counts_for_the_others(engine):
    ids = _world(engine)
    with unit_of_work(engine) as s:
        kept = _request(s, ids, "coallia", 1_500_000, n=1)
        dropped = _request(s, ids, "coallia", 1_500_000, n=2)
        recompute_legal_acts(s, ptai_request_ids=[kept, dropped])
    assert _acts(engine)[("ptai", kept)] == "convention"
    with unit_of_work(engine) as s:
        s.get(PtaiRequest, dropped).status = PtaiStatus.REJECTED  # as the state machine leaves it
        recompute_legal_acts(s, ptai_request_ids=[dropped])
    assert _acts(engine)[("ptai", kept)] == "arrete"


def test_a_collectivite_without_porteur_is_the_beneficiary_of_its_own_lines(engine):
    ids = _world(engine)
    with unit_of_work(engine) as s:
        rid = _request(s, ids, None, 2_000_000)
        ctai_id = _contract(s, ids, [(None, 1_000_000), ("coallia", 1_000_000)])
        recompute_legal_acts(s, ptai_request_ids=[rid], ctai_ids=[ctai_id])
    with Session(engine) as s:
        by_porteur = {a.porteur_id: a.legal_act for a in s.exec(select(Action))}
        request = s.get(PtaiRequest, rid)
    assert request.legal_act == "convention" and by_porteur == {None: "convention", ids["coallia"]: "arrete"}


def test_another_year_of_the_same_porteur_is_not_added(engine):
    ids = _world(engine)
    with unit_of_work(engine) as s:
        a = _request(s, ids, "coallia", 2_000_000, year=2021, n=1)
        b = _request(s, ids, "coallia", 2_000_000, year=2022, n=2)
        recompute_legal_acts(s, ptai_request_ids=[a, b])
    assert set(_acts(engine).values()) == {"arrete"}


def test_a_ctai_widening_a_ctair_does_not_count_the_copied_actions_twice(engine):
    ids = _world(engine)
    with unit_of_work(engine) as s:
        ctair_id = _contract(s, ids, [("coallia", 1_500_000)], status=CtaiStatus.ACTIVE)
        widening = _contract(s, ids, [("coallia", 1_500_000)], status=CtaiStatus.WIDENING)
        s.get(Ctai, widening).replaces_ctair_id = ctair_id
        recompute_legal_acts(s, ctai_ids=[widening, ctair_id])
    with Session(engine) as s:
        acts = {a.ctai_id: a.legal_act for a in s.exec(select(Action))}
    assert acts[widening] == "arrete"  # 15 000 € a year, not 30 000 €: the CTAIR's year is the CTAI's
    assert acts[ctair_id] is None  # the CTAIR's copied year counts for nothing
