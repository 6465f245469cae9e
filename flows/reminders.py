"""The daily reminders run (08:00 Europe/Paris): late steps, unanswered requests, the outbox."""

from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from models.types import paris_today
from services.followup import reminders
from tasks.audit import publish_audit_head
from tasks.notify import send_outbox
from tasks.reporting import publish_followup
from tasks.runs import repair_steps, start_current_step


@task(name="relances-du-jour", cache_policy=NO_CACHE, persist_result=False)
def remind(*, today: date, simulate: bool) -> dict:
    return reminders.run(today, simulate=simulate)


def run_name() -> str:
    day = flow_run.parameters.get("day") or paris_today()
    return f"Relances du {date.fromisoformat(str(day)):%d/%m/%Y}"


@flow(name="relances", flow_run_name=run_name, persist_result=True, log_prints=True)
async def relances(day: date | None = None) -> dict:
    """Reminds and escalates late steps, reminds then closes unanswered requests, reminds of the
    lettre d'engagement deadline, opens the yearly reviews due (and starts their bilan step),
    mails a code to any entitled agent who lacks one, starts again the steps whose run died
    (the recovery sweep), sends whatever the email outbox still holds, publishes the audit
    trail's head outside the database, and each département's follow-up table (artifact
    ``suivi-<département>``: each open case, its step, since when, its service level, its next
    deadline, who is awaited).

    ``day`` runs it as if on that day; a day later than today only shows what would happen."""
    today = day or paris_today()
    simulate = today > paris_today()
    report = remind(today=today, simulate=simulate)
    if simulate:
        print(f"Simulation du {today:%d/%m/%Y} : rien n'est enregistré, envoyé ni lancé. {report}")
        return report
    for ctai_id in report["bilans_ouverts"]:
        await start_current_step("ctai", ctai_id, f"bilan-{today.year - 1}")
    report["reprise_des_etapes"] = await repair_steps()
    report["courriels"] = await send_outbox()
    report["tete_piste_audit"] = await publish_audit_head()
    report["tableaux_de_suivi"] = await publish_followup(today=today)
    print(report)
    return report
