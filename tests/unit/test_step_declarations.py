"""Each step of each kind of case is declared once, in its wing's ``steps`` module: its form's
choices and needed fields, its state machine's transitions, its labels and the texts told to the
applicants all come from that declaration, and no other production module spells them."""

import ast
import inspect
import re
from enum import StrEnum
from pathlib import Path

import pytest
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from deployments import platform_flows
from flows.forms import FORMS
from models.actors import Collectivite, CollectiviteType
from models.ctai import Ctai
from models.ptai import PtaiRequest
from models.reminders import policy
from services.cases import KINDS
from services.engine.kind import Step, declared_step, machine_of

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("cli", "deployments", "documents", "flows", "models", "notifications", "services", "tasks")
STEPS = [(entity, step) for entity, kind in KINDS.items() for step in kind.steps.values()]
IDS = [f"{entity}-{step.name}" for entity, step in STEPS]


def _home(step: Step) -> Path:
    """The module that declares ``step``: its wing's ``steps`` module."""
    module = step.form.__module__.rsplit(".", 1)[0] + ".steps"
    return ROOT / (module.replace(".", "/") + ".py")


def _strings(path: Path) -> set[str]:
    """Every string constant of a module (its parts of f-strings included)."""
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


PRODUCTION_STRINGS = {path: _strings(path) for package in PRODUCTION for path in sorted((ROOT / package).rglob("*.py"))}
PRODUCTION_TEXT = {path: path.read_text(encoding="utf-8") for path in PRODUCTION_STRINGS}


def test_the_kinds_of_case_declare_every_step_they_run():
    assert {entity for entity, _ in STEPS} == {"ctai", "ptai", "lot", "acte", "crf", "comite"}
    assert len(STEPS) == 10 + 2 + 1 + 1 + 1 + 2
    for entity, step in STEPS:
        assert step.case == entity and KINDS[entity].steps[step.name] is step
        assert declared_step(entity, step.name) is step
        assert _home(step).exists(), _home(step)


@pytest.mark.parametrize(("entity", "step"), STEPS, ids=IDS)
def test_the_form_offers_exactly_the_declared_wordings_in_their_order(entity, step):
    schema = FORMS[entity][step.name].model_json_schema()["properties"]["decision"]
    assert (schema.get("enum") or [schema["const"]]) == [d.wording for d in step.decisions]
    assert step.form.declaration is step


@pytest.mark.parametrize(("entity", "step"), STEPS, ids=IDS)
def test_the_fields_each_decision_needs_come_from_the_declaration(entity, step):
    assert step.form.needs == {d.code: d.needs for d in step.decisions if d.needs}
    assert not re.search(r"^\s+needs\s*=", inspect.getsource(step.form), flags=re.M)  # the form says none itself
    for decision in step.decisions:
        assert step.form.needed_titles(decision.code) == [
            step.form.model_fields[name].title.split(" (")[0] for name in decision.needs
        ]


@pytest.mark.parametrize(("entity", "step"), STEPS, ids=IDS)
def test_the_state_machine_moves_the_step_exactly_as_its_decisions_say(entity, step):
    machine = KINDS[entity].machine
    assert machine is machine_of(entity)
    by_agents = [t for t in machine.allowed(step.status) if t.role is not None]
    assert [(t.step, t.decision, t.target, t.role, t.label, t.guarded) for t in by_agents] == [
        (step.name, d.code, d.target, step.role, d.label, d.guarded) for d in step.decisions
    ]
    assert all(t.role is None for t in machine.allowed(step.status) if t.step != step.name)


@pytest.mark.parametrize(("entity", "step"), STEPS, ids=IDS)
def test_decisions_are_enumerations_whose_codes_stay_the_stored_strings(entity, step):
    for decision in step.decisions:
        assert isinstance(decision.code, StrEnum)
        assert decision.code == decision.code.value and re.fullmatch(r"[a-z_]+", decision.code.value)
        assert step.code_of(decision.wording) is decision.code and step.code_of(decision.code.value) is decision.code
        assert step.decision(decision.code.value) is decision


@pytest.mark.parametrize(("entity", "step"), STEPS, ids=IDS)
def test_who_is_awaited_the_flow_and_the_service_level_come_from_the_declaration(entity, step):
    kind = KINDS[entity]
    assert kind.awaited_role(step.name) == step.role
    assert kind.step_of(step.status) == step.name
    flows = {f.name for f in platform_flows()}
    if step.has_flow:
        assert kind.flow_name(step.name) == step.flow_name in flows
        assert step.flow_name == (step.flow or f"{entity}-{step.name.replace('_', '-')}")
    assert step.service_level == policy().sla_for(entity, step.name) > 0


def test_money_recourse_and_rework_are_flags_of_the_decisions():
    flagged = {
        (entity, step.name, str(d.code)): (d.grants, d.unfavourable, d.sends_back)
        for entity, step in STEPS
        for d in step.decisions
        if d.grants or d.unfavourable or d.sends_back
    }
    assert {key for key, (grants, _, _) in flagged.items() if grants} == {
        ("ctai", "signature", "sign"),
        ("ctai", "elargissement", "sign"),
        ("ctai", "bilan", "prolong"),
        ("ctai", "bilan_signature", "sign_amendment"),
    }
    assert {key for key, (_, unfavourable, _) in flagged.items() if unfavourable} == {
        ("ctai", "signature", "reject"),
        ("ctai", "elargissement", "reject"),
        ("ctai", "bilan_signature", "sign_end"),
        ("ptai", "validation", "reject"),
        ("crf", "examen", "non_compliant"),
        ("acte", "signature", "reject"),
    }
    assert {key for key, (_, _, back) in flagged.items() if back} == {
        (entity, step.name, "rework") for entity, step in STEPS for d in step.decisions if d.code == "rework"
    }


def test_each_wing_names_its_steps_in_histories_with_the_declared_labels():
    from services.acts.texts import ACT_STEP_LABELS
    from services.ctai.texts import STEP_LABELS as CTAI_LABELS
    from services.financial_report.texts import REPORT_STEP_LABELS
    from services.pilotage.texts import STEP_LABELS as COMITE_LABELS
    from services.ptai.texts import HISTORY_LABELS

    histories = {"ctai": CTAI_LABELS, "ptai": HISTORY_LABELS, "acte": ACT_STEP_LABELS, "crf": REPORT_STEP_LABELS}
    histories["comite"] = COMITE_LABELS
    for entity, step in STEPS:
        if entity in histories:
            assert histories[entity][step.name] == step.label


@pytest.fixture
def session():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        s.add(
            Collectivite(
                id=1,
                name="Ville de Poitiers",
                type=CollectiviteType.COMMUNE,
                siren="218601946",
                departement_code="86",
                email="integration@poitiers.example",
            )
        )
        s.commit()
        yield s


@pytest.mark.parametrize(
    ("entity", "case"), [("ctai", Ctai(id=1, collectivite_id=1)), ("ptai", PtaiRequest(id=1, collectivite_id=1))]
)
def test_a_run_is_named_after_its_declared_step(session, entity, case):
    kind = KINDS[entity]
    for step in kind.steps.values():
        assert f" — {step.label}" in kind.run_name(session, case, step.name)


@pytest.mark.parametrize(("entity", "step"), STEPS, ids=IDS)
def test_no_other_production_module_spells_a_wording_a_label_or_what_applicants_are_told(entity, step):
    home = _home(step)
    # Whole strings: a wording, a decision's label, what a decision leads to or asks of the applicants.
    spelled = [d.wording for d in step.decisions] + [d.label for d in step.decisions]
    spelled += [text for d in step.decisions for text in (d.asks, d.leads_to) if text]
    spelled += [text for text in (step.expectation, step.expectation_again) if text]
    declarations = {_home(s) for _, s in STEPS}
    found = [
        f"{path.relative_to(ROOT)} : « {text} »"
        for path, strings in PRODUCTION_STRINGS.items()
        if path not in declarations
        for text in spelled
        if text in strings and not _a_status_label(path, text)
    ]
    # A wording quoted in a sentence (« choisissez « actions à retravailler » ») is spelled too.
    found += [
        f"{path.relative_to(ROOT)} : « {d.wording} » cité"
        for path, text in PRODUCTION_TEXT.items()
        if path != home
        for d in step.decisions
        if f"« {d.wording} »" in text
    ]
    assert found == []


def _a_status_label(path: Path, text: str) -> bool:
    """A status may read like the decision that leads to it (« signature refusée »): the models'
    ``*_STATUS_LABELS`` name statuses, not decisions."""
    source = PRODUCTION_TEXT[path]
    return any(
        f'"{text}"' in block for block in re.findall(r"^[A-Z_]*STATUS_LABELS = \{.*?^\}", source, flags=re.S | re.M)
    )


WHO = {"instructeur": "instructeur", "prefet": "préfet", "diair": "Diair", "ministere": "ministry"}


@pytest.mark.parametrize(
    ("entity", "step"), [(e, s) for e, s in STEPS if s.has_flow], ids=lambda v: getattr(v, "name", v)
)
def test_each_step_flow_says_who_decides_it_and_where_its_decisions_lead(entity, step):
    """The flows read like the procedure: each docstring names who decides and the steps a decision
    leads to, as the declaration says."""
    kind = KINDS[entity]
    flow = next(f for f in platform_flows() if f.name == step.flow_name)
    doc = " ".join((flow.fn.__doc__ or "").split())
    assert WHO[str(step.role)] in doc or (entity == "comite" and "Diair" in doc and "préfet" in doc), doc
    for decision in step.decisions:
        following = kind.step_of(decision.target)
        if following is not None and following != step.name and kind.flow_name(following):
            assert following in doc, (decision.code, following, doc)
