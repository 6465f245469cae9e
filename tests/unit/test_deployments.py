"""``prefect.yaml`` (workers on a work pool) and ``territoires serve``/``up`` (one machine) must
declare the same deployments with the same schedules."""

import importlib
from pathlib import Path

import yaml

from deployments import SCHEDULES, platform_flows, scheduled_flows
from services.engine.prefect_api import DEPLOYMENT_NAME

PREFECT_YAML = Path(__file__).resolve().parents[2] / "prefect.yaml"


def _declared() -> dict[str, list]:
    declared = {}
    for d in yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]:
        path, attr = d["entrypoint"].split(":")
        flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), attr)
        assert d["name"] == DEPLOYMENT_NAME and d["work_pool"]["name"] == "territoires"
        declared[flow.name] = [(s["cron"], s["timezone"]) for s in d.get("schedules", [])]
    return declared


def test_prefect_yaml_declares_every_served_flow_with_the_same_schedules():
    served = {f.name: [] for f in platform_flows()}
    served |= {f.name: [(SCHEDULES[f.name].cron, SCHEDULES[f.name].timezone)] for f in scheduled_flows()}
    assert _declared() == served
    # 10 CTAI steps, 2 PTAI steps, the comités, the act's signature, the compte rendu, the batch, the reminders,
    # the dashboard
    assert len(served) == 18
