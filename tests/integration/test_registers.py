"""Who reads what: an agent of the State gets a service notice, a collectivité a letter opening
with its appellation; a PTAI form shows the rules run again on the request as filed."""

import json

from sqlmodel import Session, select

from demo.data import fictitious_siren
from models.actors import AgentCreate, CollectiviteCreate, Porteur
from models.outbox import OutboxMessage
from notifications.outbox import Email, queue_many
from notifications.render import render_parts
from services import registry
from services.db import unit_of_work
from services.ptai.records import checks_now, submit
from tests.email_samples import SAMPLES
from tests.factories import valid_request

AGENT, CITY = "instructeur.86@prefecture-86.example", "integration@poitiers.example"


def _world(engine) -> dict:
    with unit_of_work(engine) as s:
        registry.seed_reference(s)
        registry.add_agent(
            s,
            AgentCreate(
                email=AGENT,
                name="Camille Durand",
                role="instructeur",
                departement_code="86",
                title="la cheffe du bureau de l'intégration",
            ),
        )
        city = registry.add_collectivite(
            s,
            CollectiviteCreate(
                name="Ville de Poitiers",
                type="commune",
                siren=fictitious_siren(1),
                departement_code="86",
                email=CITY,
                appellation="Madame la maire",
            ),
        )
        return {"city": city.id}


def test_an_agent_gets_a_service_notice_and_a_collectivite_a_letter_with_its_appellation(engine):
    _world(engine)
    with unit_of_work(engine) as s:
        queue_many(
            s, [Email("step_started", address, SAMPLES["step_started"], f"test:{address}") for address in (AGENT, CITY)]
        )
    with Session(engine) as s:
        rows = {r.recipient: r for r in s.exec(select(OutboxMessage))}
    assert rows[AGENT].context["registre"] == "avis" and rows[CITY].context["registre"] == "lettre"
    notice, letter = (
        render_parts("step_started", rows[AGENT].context)[1],
        render_parts("step_started", rows[CITY].context)[1],
    )
    assert "avis de service" in notice and "Madame" not in notice and "salutations" not in notice
    assert letter.splitlines()[4] == "Madame la maire," and "Je vous prie d'agréer, Madame la maire," in letter


def test_an_appellation_is_a_form_of_address_not_a_name(engine):
    import pytest
    from pydantic import ValidationError

    for wrong in ("Chère Léonore", "Madame Moncond'huy la maire", "<b>Madame</b>"):
        with pytest.raises(ValidationError):
            CollectiviteCreate(
                name="Ville",
                type="commune",
                siren=fictitious_siren(2),
                departement_code="86",
                email="v@x.example",
                appellation=wrong,
            )


def test_the_ptai_form_shows_the_rules_run_on_this_request_and_their_result_today(engine):
    _world(engine)
    with unit_of_work(engine) as s:
        with_porteur = submit(s, json.dumps(valid_request(**{"demandeur.siren": fictitious_siren(1)})))
        alone = submit(
            s,
            json.dumps(
                valid_request(
                    **{
                        "demandeur.siren": fictitious_siren(1),
                        "porteur": None,
                        "projet.intitule": "Un autre projet de la ville",
                    }
                )
            ),
        )
        ids = with_porteur.id, alone.id
    with unit_of_work(engine) as s:
        checks = {c.rule: c for c in checks_now(s, s.get(type(with_porteur), ids[0]))}
        assert all(c.passed for c in checks.values()) and {"R3", "R7", "R14", "R15", "R16", "R17"} <= set(checks)
        assert not {"R14", "R15"} & {c.rule for c in checks_now(s, s.get(type(alone), ids[1]))}  # no association
        porteur = s.get(Porteur, with_porteur.porteur_id)
        porteur.compte_rendu_manquant = True  # a compte rendu found missing since the request was filed
        s.add(porteur)
    with unit_of_work(engine) as s:
        checks = {c.rule: c for c in checks_now(s, s.get(type(with_porteur), ids[0]))}
        assert not checks["R14"].passed and checks["R14"].violations[0].code.startswith("R14_")
        assert checks["R3"].passed
