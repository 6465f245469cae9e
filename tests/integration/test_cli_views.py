"""Every command shows a French view by default and JSON with ``--json``: dates in Paris time
(« 7 déc. 2026 14:05 »), amounts with their cents (« 20 000,00 € »), roles with their accents,
states in French. On both databases."""

import json

from notifications.outbox import queue_many
from services.db import unit_of_work
from tests.acts import act_of, delegated, sign
from tests.cli import run
from tests.integration.test_outbox_delivery import email as outbox_email

NNBSP, NBSP = "\u202f", "\u00a0"


def test_an_act_is_shown_in_french_by_default_and_in_json_when_asked(engine, app_env):
    act = act_of(engine, delegated(engine, "Ateliers parents-enfants", "20000.00"))
    sign(engine, act.id)
    shown = run("acte", "voir", str(act.id))
    assert shown.exit_code == 0, shown.output
    assert not shown.stdout.lstrip().startswith("{")
    assert "Montant" in shown.stdout and f"20{NNBSP}000,00{NBSP}€" in shown.stdout
    assert "Claire Dumont" in shown.stdout and "Échéancier" in shown.stdout
    data = json.loads(run("acte", "voir", str(act.id), "--json").stdout)
    assert data["montant_cents"] == 2_000_000 and data["signature"]["signataire"] == "Claire Dumont"


def test_the_payments_list_reads_in_french_and_gives_every_field_in_json(engine, app_env):
    listed = run("paiements", "liste")
    assert listed.exit_code == 0 and listed.stdout.strip() == "(aucun enregistrement)"
    assert json.loads(run("paiements", "liste", "--json").stdout) == []


def test_the_outbox_states_are_french_on_the_terminal_and_codes_in_json(engine, app_env):
    with unit_of_work(engine) as s:
        queue_many(s, [outbox_email(1), outbox_email(2)])
    shown = run("courriels", "etat")
    assert shown.exit_code == 0 and "en attente" in shown.stdout and "pending" not in shown.stdout
    assert json.loads(run("mail", "status", "--json").stdout) == {"pending": 2}


def test_the_agents_roles_keep_their_accents(engine, app_env):
    assert run("charger", "reference").exit_code == 0
    added = run(
        "agent",
        "ajouter",
        "--email",
        "prefet@prefecture-86.example",
        "--nom",
        "Préfète",
        "--role",
        "prefet",
        "--departement",
        "86",
    )
    assert added.exit_code == 0, added.output
    listed = run("agent", "liste").stdout
    assert "préfet" in listed and " prefet " not in listed
    assert json.loads(run("agent", "list", "--json").stdout)[0]["role"] == "prefet"  # the stable code for scripts


def test_a_contracts_history_names_its_steps_and_decisions_in_french(engine, app_env):
    from sqlmodel import Session, select

    from demo.data import seed_demo
    from models.ctai import Ctai, CtaiKind

    with unit_of_work(engine) as s:
        seed_demo(s)
    with Session(engine) as s:
        ctair = s.exec(select(Ctai.id).where(Ctai.kind == CtaiKind.CTAIR).order_by(Ctai.id)).first()
        poitiers = s.exec(select(Ctai.id).where(Ctai.reference.like("CTAI-86-%"))).one()
    shown = run("ctai", "voir", str(ctair))
    assert shown.exit_code == 0, shown.output
    assert "création du dossier : CTAIR existant enregistré" in shown.stdout
    assert "registered" not in shown.stdout and "creation" not in shown.stdout
    history = run("ctai", "voir", str(poitiers)).stdout
    assert "revue des actions par la Diair : actions conformes" in history and "revue_diair" not in history
