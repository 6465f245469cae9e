"""What a flow does when its run fails or crashes: the incident is written on its step, so an
operator sees it in ``territoires approvals list`` and in the run's logs; the recovery sweep
(daily, at start-up, or ``territoires steps repair``) then starts the step again."""

from __future__ import annotations

import logging

from tasks.runs import note_incident

log = logging.getLogger("territoires.reprise")


def record_incident(flow, flow_run, state) -> None:
    kind = "plantée" if state.is_crashed() else "en échec"
    text = f"exécution {kind} : {state.message or state.name}"
    try:
        inscribed = note_incident(str(flow_run.id), text)
    except Exception:  # noqa: BLE001 - the database itself may be what failed; the sweep will see the run
        log.exception("incident non enregistré pour l'exécution %s", flow_run.id)
        return
    if inscribed:
        log.error(
            "Étape interrompue (%s). Elle sera reprise par le contrôle des étapes, chaque jour, au démarrage "
            "de la plateforme ou par « territoires steps repair ».",
            text,
        )


HOOKS = {"on_failure": [record_incident], "on_crashed": [record_incident]}
