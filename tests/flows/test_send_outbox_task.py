"""The outbox sender as a Prefect task, inside a flow run on a real Prefect server."""

from prefect import flow

from notifications.outbox import queue
from services.db import unit_of_work
from tasks.notify import send_outbox
from tests.integration.test_outbox_delivery import email


@flow(name="test-notifier")
async def notify_flow() -> dict:
    return await send_outbox()


async def test_a_flow_delivers_the_outbox_and_a_second_run_sends_nothing_more(prefect_server, mail_env, engine):
    with unit_of_work(engine) as s:
        queue(s, email(1))
        queue(s, email(2))
    first = await notify_flow()
    second = await notify_flow()
    assert first["sent"] == 2 and second["claimed"] == 0
    assert sorted(r.to[0] for r in mail_env.received) == [
        "agent1@prefecture-86.example",
        "agent2@prefecture-86.example",
    ]
