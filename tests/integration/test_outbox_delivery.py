"""The outbox on a real database, delivered through aiosmtplib to a real aiosmtpd server."""

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from models.approval import derive_code
from models.keys import APPROVAL_CODES, subkey
from models.outbox import OutboxMessage, OutboxStatus
from models.types import utcnow
from notifications.outbox import Email, message_key, queue, queue_many
from notifications.sender import OutboxSender
from notifications.sink import SinkServer
from notifications.smtp import SmtpTarget
from services.db import unit_of_work
from settings import get_settings
from tests.email_samples import SAMPLES


def email(n: int, recipient: str | None = None, **context) -> Email:
    recipient = recipient or f"agent{n}@prefecture-86.example"
    return Email(
        "step_decided",
        recipient,
        {**SAMPLES["step_decided"], **context},
        message_key("ctai", n, "signature:sign", recipient, "step_decided"),
    )


def sender(engine, target, **kw) -> OutboxSender:
    return OutboxSender(engine, target, connect_attempts=1, connect_backoff_seconds=0.01, **kw)


def rows(engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_queued_email_is_delivered_once_and_marked_sent(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue(s, email(1))
    report = await sender(engine, smtp_target_for).send_pending()
    again = await sender(engine, smtp_target_for).send_pending()
    assert (report.sent, again.claimed) == (1, 0)
    [received] = handler.received
    assert received.to == ("agent1@prefecture-86.example",)
    assert received.subject == "[CTAI-86-2021-0001] Validation et signature\u202f: contrat signé"  # French spacing
    assert "200\u202f000\u00a0€" in received.text()
    [row] = rows(engine)
    assert row.status == OutboxStatus.SENT and row.sent_at is not None and row.attempts == 1


async def test_a_script_value_arrives_escaped_in_the_html_part(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue(s, email(1, commentaire="<script>alert('piège')</script>", objet="Contrat <script>x</script>"))
    await sender(engine, smtp_target_for).send_pending()
    html = handler.received[0].html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;piège&#39;)&lt;/script&gt;" in html


async def test_emails_queued_in_a_rolled_back_transaction_are_never_sent(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    with pytest.raises(RuntimeError):
        with unit_of_work(engine) as s:
            queue(s, email(1))
            raise RuntimeError("the decision could not be recorded")
    report = await sender(engine, smtp_target_for).send_pending()
    assert report.claimed == 0 and handler.received == [] and rows(engine) == []


async def test_the_same_idempotency_key_queued_twice_is_sent_once(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        assert queue(s, email(1)) is True
        assert queue(s, email(1)) is False
    with unit_of_work(engine) as s:  # a resumed flow queueing it again, later
        assert queue(s, email(1)) is False
    await sender(engine, smtp_target_for).send_pending()
    with unit_of_work(engine) as s:  # even after it was sent
        assert queue(s, email(1)) is False
    await sender(engine, smtp_target_for).send_pending()
    assert len(handler.received) == 1 and len(rows(engine)) == 1


async def test_two_senders_at_the_same_time_send_each_message_exactly_once(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    handler.delay = 0.003  # a slow server: both senders are surely at work at the same time
    with unit_of_work(engine) as s:
        assert queue_many(s, [email(n) for n in range(300)]) == 300
    a = sender(engine, smtp_target_for, worker_id="a", batch_size=7)
    b = sender(engine, smtp_target_for, worker_id="b", batch_size=7)
    ra, rb = await asyncio.gather(a.send_pending(), b.send_pending())
    assert ra.sent > 0 and rb.sent > 0, "both senders should have taken part"
    assert ra.sent + rb.sent == 300
    recipients = [r.to[0] for r in handler.received]
    assert len(recipients) == 300 and len(set(recipients)) == 300
    assert {r.status for r in rows(engine)} == {OutboxStatus.SENT}


async def test_with_the_smtp_server_down_nothing_is_lost_and_all_is_delivered_once_after_restart(engine, tmp_path):
    from tests.conftest import ScriptedSink

    handler = ScriptedSink()
    server = SinkServer(handler).start()
    port = server.port
    server.stop()  # the server is down
    target = SmtpTarget(host="127.0.0.1", port=port)
    with unit_of_work(engine) as s:
        queue_many(s, [email(n) for n in range(5)])

    report = await sender(engine, target).send_pending()
    assert (report.sent, report.deferred, report.failed) == (0, 5, 0)
    assert "injoignable" in report.errors[0] or "impossible" in report.errors[0]
    stored = rows(engine)
    assert {r.status for r in stored} == {OutboxStatus.PENDING}
    assert all(r.attempts == 1 and r.last_error and r.next_attempt_at > utcnow() for r in stored)

    early = await sender(engine, target).send_pending()  # backoff: not due yet
    assert early.claimed == 0

    server = SinkServer(handler, port=port).start()
    try:
        later = utcnow() + timedelta(minutes=5)
        report = await sender(engine, target).send_pending(now=later)
        again = await sender(engine, target).send_pending(now=later + timedelta(hours=2))
    finally:
        server.stop()
    assert report.sent == 5 and again.claimed == 0
    assert sorted(r.to[0] for r in handler.received) == sorted(f"agent{n}@prefecture-86.example" for n in range(5))
    assert {r.status for r in rows(engine)} == {OutboxStatus.SENT}


async def test_a_5xx_reply_marks_the_row_failed_with_the_error_and_the_sender_moves_on(
    engine, smtp_sink, smtp_target_for
):
    handler, _ = smtp_sink
    handler.replies["inconnu@prefecture-86.example"] = "550 5.1.1 Mailbox unavailable"
    with unit_of_work(engine) as s:
        queue_many(s, [email(1), email(2, "inconnu@prefecture-86.example"), email(3)])
    report = await sender(engine, smtp_target_for).send_pending()
    assert (report.sent, report.failed) == (2, 1)
    by_recipient = {r.recipient: r for r in rows(engine)}
    failed = by_recipient["inconnu@prefecture-86.example"]
    assert (
        failed.status == OutboxStatus.FAILED
        and "550" in failed.last_error
        and "Mailbox unavailable" in failed.last_error
    )
    assert {r.to[0] for r in handler.received} == {"agent1@prefecture-86.example", "agent3@prefecture-86.example"}


async def test_a_4xx_reply_defers_the_row_with_backoff_and_it_is_sent_later(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    handler.replies["plein@prefecture-86.example"] = "452 4.2.2 Mailbox full"
    with unit_of_work(engine) as s:
        queue_many(s, [email(1, "plein@prefecture-86.example"), email(2)])
    report = await sender(engine, smtp_target_for).send_pending()
    assert (report.sent, report.deferred) == (1, 1)
    deferred = next(r for r in rows(engine) if r.recipient.startswith("plein"))
    assert deferred.status == OutboxStatus.PENDING and "452" in deferred.last_error
    del handler.replies["plein@prefecture-86.example"]
    report = await sender(engine, smtp_target_for).send_pending(now=utcnow() + timedelta(minutes=1))
    assert report.sent == 1 and len(handler.to("plein@prefecture-86.example")) == 1


async def test_an_invalid_address_fails_permanently_without_blocking_the_others(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue_many(s, [email(1, "pas-une-adresse"), email(2)])
    report = await sender(engine, smtp_target_for).send_pending()
    assert (report.sent, report.failed) == (1, 1)
    bad = next(r for r in rows(engine) if r.recipient == "pas-une-adresse")
    assert bad.status == OutboxStatus.FAILED and "adresse invalide" in bad.last_error


async def test_each_smtp_connection_is_reused_for_batch_after_batch(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue_many(s, [email(n) for n in range(60)])
    await sender(engine, smtp_target_for, batch_size=10).send_pending()
    assert len(handler.received) == 60 and handler.sessions == 1
    with unit_of_work(engine) as s:
        queue_many(s, [email(n) for n in range(60, 120)])
    await sender(engine, smtp_target_for, batch_size=10).send_pending()
    assert len(handler.received) == 120 and handler.sessions == 2  # one connection per run


async def test_a_claim_abandoned_by_a_dead_sender_is_taken_over_after_its_lease(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue(s, email(1))
    crashed = sender(engine, smtp_target_for, worker_id="crashed")
    assert len(crashed._claim(utcnow(), 10)) == 1  # claimed, then the process died
    assert (await sender(engine, smtp_target_for).send_pending()).claimed == 0
    report = await sender(engine, smtp_target_for).send_pending(now=utcnow() + timedelta(minutes=11))
    assert report.sent == 1 and len(handler.received) == 1


async def test_a_claim_of_a_sender_whose_process_is_gone_is_taken_over_at_once(engine, smtp_sink, smtp_target_for):
    import socket
    import subprocess
    import sys

    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue_many(s, [email(n) for n in range(3)])
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    crashed = sender(engine, smtp_target_for, worker_id=f"{socket.gethostname()}:{gone.stdout.strip()}:0")
    assert len(crashed._claim(utcnow(), 10)) == 3  # claimed, then the process died
    report = await sender(engine, smtp_target_for).send_pending()
    assert report.sent == 3 and len(handler.received) == 3


async def test_claims_left_by_an_ended_run_of_this_process_are_taken_over_at_once(engine, smtp_sink, smtp_target_for):
    """A task that failed on a database error and is retried in the same process must not wait
    for the lease to send what its first try had claimed."""
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue_many(s, [email(n) for n in range(3)])
    first_try = sender(engine, smtp_target_for)
    assert len(first_try._claim(utcnow(), 10)) == 3  # claimed, then its run ended on an error
    retry = sender(engine, smtp_target_for)
    assert first_try.worker_id != retry.worker_id and first_try.process == retry.process
    report = await retry.send_pending()
    assert report.sent == 3 and len(handler.received) == 3


class _DatabaseBlinks(OutboxSender):
    """Marking a message sent meets a lost connection twice, as while PostgreSQL restarts."""

    blinks = 2

    def _mark_sent(self, row, report):
        import sqlite3

        from sqlalchemy.exc import OperationalError

        if self.blinks:
            self.blinks -= 1
            raise OperationalError("UPDATE outbox_message", {}, sqlite3.OperationalError("database is locked"))
        return super()._mark_sent(row, report)


async def test_a_message_that_left_is_marked_sent_once_the_database_is_back_and_never_sent_again(
    engine, smtp_sink, smtp_target_for
):
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue_many(s, [email(n) for n in range(2)])
    report = await _DatabaseBlinks(engine, smtp_target_for, connect_attempts=1).send_pending()
    assert report.sent == 2 and [r.status for r in rows(engine)] == [OutboxStatus.SENT] * 2
    assert (await sender(engine, smtp_target_for).send_pending(now=utcnow() + timedelta(hours=1))).claimed == 0
    assert len(handler.received) == 2


async def test_each_message_is_marked_sent_in_the_database_before_the_next_one_leaves(
    engine, smtp_sink, smtp_target_for
):
    """At most the one message on the wire can be sent twice after a crash: when the server
    receives a message, every message received before it is already marked sent, durably."""
    handler, _ = smtp_sink
    with unit_of_work(engine) as s:
        queue_many(s, [email(n) for n in range(20)])
    seen = []

    def check(message_id: int) -> None:
        with Session(engine) as s:
            earlier = [r.status for r in s.exec(select(OutboxMessage).where(OutboxMessage.id < message_id))]
        seen.append(all(status == OutboxStatus.SENT for status in earlier))

    handler.on_message = lambda received: check(int(received.message["Message-ID"].split("-")[1].split(".")[0]))
    await sender(engine, smtp_target_for).send_pending()
    assert len(seen) == 20 and all(seen)


def _everywhere(engine, needle: str) -> list[str]:
    """Every table's rows, as text, that contain ``needle``."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    import models.tables  # noqa: F401 - registers every table on SQLModel.metadata

    found = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            found += [
                f"{table.name}: {row}"
                for row in conn.execute(text(f'SELECT * FROM "{table.name}"'))
                if needle in str(tuple(row))
            ]
    return found


async def test_an_approval_code_exists_only_in_the_delivered_email_and_its_reference_is_erased(
    engine, smtp_sink, smtp_target_for
):
    handler, _ = smtp_sink
    recipient = "prefet.86@prefecture-86.example"
    with unit_of_work(engine) as s:
        queue(
            s,
            Email(
                "approval_requested",
                recipient,
                SAMPLES["approval_requested"],
                message_key("ctai", 1, "signature:r1:open", recipient, "approval_requested"),
            ),
        )
    code = derive_code(
        subkey(get_settings().audit_key_bytes, APPROVAL_CODES), SAMPLES["approval_requested"]["code_ref"]
    )
    assert _everywhere(engine, code) == []  # queued: the outbox holds a reference, never the code
    await sender(engine, smtp_target_for).send_pending()
    assert f"Code d'approbation\u202f: {code}" in handler.received[0].text()
    [row] = rows(engine)
    assert row.status == OutboxStatus.SENT and row.context["code_ref"] == "(effacé)" and "code" not in row.context
    assert row.context["reference"] == SAMPLES["approval_requested"]["reference"]
    assert _everywhere(engine, code) == [] and _everywhere(engine, SAMPLES["approval_requested"]["code_ref"]) == []


async def test_after_a_failed_send_no_table_holds_the_code_nor_what_derives_it(engine, smtp_sink, smtp_target_for):
    handler, _ = smtp_sink
    recipient = "prefet.86@prefecture-86.example"
    handler.replies[recipient] = "550 5.1.1 boîte inconnue"
    reference = "reference-d-un-envoi-refuse"
    with unit_of_work(engine) as s:
        queue(
            s,
            Email(
                "approval_requested",
                recipient,
                {**SAMPLES["approval_requested"], "code_ref": reference},
                message_key("ctai", 1, "signature:r1:open", recipient, "approval_requested"),
            ),
        )
    await sender(engine, smtp_target_for).send_pending()
    [row] = rows(engine)
    code = derive_code(subkey(get_settings().audit_key_bytes, APPROVAL_CODES), reference)
    assert row.status == OutboxStatus.FAILED and handler.received == []
    assert _everywhere(engine, code) == [] and _everywhere(engine, reference) == []
