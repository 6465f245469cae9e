"""The platform's deployments: one per flow, all named ``territoires``.

``territoires serve`` serves them from one process (the default, for one machine);
``prefect.yaml`` declares the same ones for ``prefect deploy --all`` on a process work pool.
"""

from __future__ import annotations

import asyncio

from prefect.schedules import Cron

from services.engine.prefect_api import DEPLOYMENT_NAME


def platform_flows() -> list:
    from flows.acts import ACT_FLOWS
    from flows.ctai import CTAI_FLOWS
    from flows.pilotage import PILOTAGE_FLOWS
    from flows.ptai import PTAI_FLOWS

    return [*CTAI_FLOWS, *PTAI_FLOWS, *PILOTAGE_FLOWS, *ACT_FLOWS]


# The ministry's batch: monthly, on the 1st at 08:00 Paris time, and on demand.
# Reminders every day at 08:00 (they act on business days only); the national dashboard at 07:30.
SCHEDULES = {
    "delegation-credits": Cron("0 8 1 * *", timezone="Europe/Paris"),
    "relances": Cron("0 8 * * *", timezone="Europe/Paris"),
    "tableau-de-bord-national": Cron("30 7 * * *", timezone="Europe/Paris"),
}


def scheduled_flows() -> list:
    from flows.dashboard import tableau_de_bord_national
    from flows.delegation import delegation_credits
    from flows.reminders import relances

    return [delegation_credits, relances, tableau_de_bord_national]


def deployment_options(flow) -> dict:
    """The deployment of a flow: its name, its tags and, for the scheduled ones, its schedule."""
    return {"name": DEPLOYMENT_NAME, "tags": ["territoires"], "schedule": SCHEDULES.get(flow.name)}


def platform_deployments() -> list[tuple]:
    """Each served flow with its deployment (the scheduled ones with their schedule): what
    ``serve_all`` serves, and what the tests run in their own process."""
    return [(f, f.to_deployment(**deployment_options(f))) for f in [*platform_flows(), *scheduled_flows()]]


def serve_all(limit: int | None = None, announce=print) -> None:
    """Blocks, running each deployment's runs in a process of its own. The runner is given the
    flows themselves (not only their deployments), so that a run is forked from a process that
    has them imported already (``forked_runs``) instead of importing Prefect and the platform
    again through ``python -m prefect.engine``. Not pausing the deployments on shutdown lets a
    restarted server pick up where it stopped (runs resumed meanwhile wait). ``announce`` is
    given the deployments' names once they exist, before their runs are polled."""
    from prefect.runner import Runner

    from deployments.forked_runs import use_forked_runs

    flows = [*platform_flows(), *scheduled_flows()]
    use_forked_runs([f.fn.__module__ for f in flows])
    runner = Runner(pause_on_shutdown=False, limit=limit)
    for flow in flows:
        runner.add_flow(flow, **deployment_options(flow))
    announce([f"{f.name}/{DEPLOYMENT_NAME}" for f in flows])
    asyncio.run(runner.start())
