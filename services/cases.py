"""Every kind of case, by the name flows, tasks and the audit trail give it: the one place that
knows all the wings (each wing knows only the engine). It also wires the money chain: a decision
declared ``grants`` draws up the legal acts (``services.acts``), and a changed amount keeps R13
true (``services.finance.acts``), without the contract's or the request's wing importing them."""

from __future__ import annotations

from services.acts.records import prepare as prepare_acts
from services.acts.workflow import ACT
from services.ctai.workflow import CTAI
from services.engine import money
from services.engine.kind import CaseKind
from services.finance.acts import recompute_legal_acts
from services.finance.workflow import BATCH
from services.financial_report.workflow import REPORT
from services.pilotage.workflow import COMITE
from services.ptai.workflow import PTAI

money.connect(draw_up=prepare_acts, recompute=recompute_legal_acts)

KINDS: dict[str, CaseKind] = {kind.entity: kind for kind in (CTAI, PTAI, BATCH, COMITE, ACT, REPORT)}


def kind(name: str) -> CaseKind:
    return KINDS[name]
