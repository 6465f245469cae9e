"""Every kind of case, by the name flows, tasks and the audit trail give it: the one place that
knows all the wings (each wing knows only the engine)."""

from __future__ import annotations

from services.acts.workflow import ACTE
from services.crf.workflow import CRF
from services.ctai.workflow import CTAI
from services.engine.kind import CaseKind
from services.finance.batches import BATCH
from services.pilotage.workflow import COMITE
from services.ptai.workflow import PTAI

KINDS: dict[str, CaseKind] = {kind.entity: kind for kind in (CTAI, PTAI, BATCH, COMITE, ACTE, CRF)}


def kind(name: str) -> CaseKind:
    return KINDS[name]
