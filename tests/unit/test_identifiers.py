import pytest
from pydantic import ValidationError

from demo.data import fictitious_siren, fictitious_siret
from models.actors import AgentCreate, CollectiviteCreate, PorteurCreate, Role, agent_may_act_in


def test_fictitious_demo_numbers_pass_the_stdnum_checks():
    assert CollectiviteCreate(
        name="Ville", type="commune", siren=fictitious_siren(1), departement_code="86", email="a@b.example"
    ).siren == fictitious_siren(1)
    assert PorteurCreate(name="Asso", siret=fictitious_siret(1), email="a@b.example").siret == fictitious_siret(1)


def test_a_siren_with_a_wrong_key_is_refused_in_french():
    bad = fictitious_siren(1)[:-1] + str((int(fictitious_siren(1)[-1]) + 1) % 10)
    with pytest.raises(ValidationError, match="SIREN invalide"):
        CollectiviteCreate(name="Ville", type="commune", siren=bad, departement_code="86", email="a@b.example")


def test_a_siret_with_a_wrong_key_is_refused_in_french():
    with pytest.raises(ValidationError, match="SIRET invalide"):
        PorteurCreate(name="Asso", siret="12345678901234", email="a@b.example")


def test_national_agents_have_no_departement_and_local_agents_need_one():
    with pytest.raises(ValidationError, match="national"):
        AgentCreate(email="d@interieur.example", name="Diair", role="diair", departement_code="86")
    with pytest.raises(ValidationError, match="exige un département"):
        AgentCreate(email="i@pref.example", name="Instructeur", role="instructeur")


def test_an_agent_acts_only_in_its_role_and_departement_unless_national():
    assert agent_may_act_in(Role.PREFET, "86", Role.PREFET, "86")
    assert not agent_may_act_in(Role.PREFET, "37", Role.PREFET, "86")
    assert not agent_may_act_in(Role.INSTRUCTEUR, "86", Role.PREFET, "86")
    assert agent_may_act_in(Role.DIAIR, None, Role.DIAIR, "86")
