"""The platform's deployments: one per flow, all named ``territoires``.

``territoires serve`` serves them from one process (the default, for one machine);
``prefect.yaml`` declares the same ones for ``prefect deploy --all`` on a process work pool.
"""

from __future__ import annotations

from prefect import serve
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


def platform_deployments() -> list[tuple]:
    """Each served flow with its deployment (the scheduled ones with their schedule): what
    ``serve_all`` serves, and what the tests run in their own process."""
    found = [(f, f.to_deployment(name=DEPLOYMENT_NAME, tags=["territoires"])) for f in platform_flows()]
    found += [
        (f, f.to_deployment(name=DEPLOYMENT_NAME, tags=["territoires"], schedule=SCHEDULES.get(f.name)))
        for f in scheduled_flows()
    ]
    return found


def serve_all(limit: int | None = None) -> None:
    """Blocks, running each deployment's runs in a subprocess. Not pausing the deployments on
    shutdown lets a restarted server pick up where it stopped (runs resumed meanwhile wait)."""
    serve(*(deployment for _, deployment in platform_deployments()), pause_on_shutdown=False, limit=limit)
