"""Approval codes: derived from a reference and the key, hashed with the key, and one answer for
every decider who is not entitled."""

import re

from models.approval import NOT_ENTITLED, check_decider, check_four_eyes, code_matches, derive_code, hash_code

KEY, OTHER = b"cle-de-la-plateforme-assez-longue-pour-le-test", b"une-autre-cle-entierement-differente-de-la-premiere"


def test_a_code_is_eight_unambiguous_characters_derived_from_its_reference_and_the_key():
    code = derive_code(KEY, "ref-1")
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code)
    assert derive_code(KEY, "ref-1") == code != derive_code(KEY, "ref-2")
    assert derive_code(OTHER, "ref-1") != code  # the reference alone, without the key, gives nothing


def test_the_stored_hash_is_keyed_so_the_database_alone_cannot_be_searched_for_the_code():
    code = derive_code(KEY, "ref-1")
    stored = hash_code(code, "sel", KEY)
    assert code_matches(code.lower().replace("-", " "), "sel", stored, KEY)
    assert not code_matches(code, "sel", stored, OTHER)
    assert stored != hash_code(code, "sel", OTHER)


def decider(**changes):
    values = (
        dict(
            agent_found=True,
            agent_role="prefet",
            agent_departement="86",
            agent_active=True,
            awaited_role="prefet",
            departement="86",
            email="prefet.86@prefecture-86.example",
        )
        | changes
    )
    return check_decider(**values)


def test_an_entitled_agent_passes():
    assert decider() == [] and decider(awaited_role="diair", agent_role="diair", agent_departement=None) == []


def test_every_agent_not_entitled_gets_the_same_answer_revealing_neither_role_nor_departement():
    refusals = [
        decider(agent_found=False, agent_role=None, agent_departement=None),
        decider(agent_active=False),
        decider(agent_role="instructeur"),
        decider(agent_departement="37"),
        check_four_eyes(7, 7),
    ]
    assert all(r == [NOT_ENTITLED] for r in refusals)
    assert "instructeur" not in NOT_ENTITLED.message and "37" not in NOT_ENTITLED.message
    assert check_four_eyes(7, 8) == [] and check_four_eyes(7, None) == []
