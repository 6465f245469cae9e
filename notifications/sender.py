"""Delivering the outbox through aiosmtplib: each message marked sent, durably, before the next.

- Rows are claimed with a conditional UPDATE (``status = 'pending'`` → ``'sending'``, with
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two senders never send the same row.
- Each message is sent, then marked in a transaction of its own, committed to disk, before
  the next one leaves: a crash can re-send at most the one message that was on the wire, and
  every row carries a stable ``Message-ID`` (``<outbox-ID.…@domain>``) by which a receiver
  recognises it. The next message is rendered in a worker thread meanwhile: rendering costs
  about as much as the SMTP exchange, and overlapping the two changes nothing of that order.
- A sender that died leaves its claimed rows: a sender on the same machine takes them back at
  once when their claimer's process is gone (or, in the same process, when that sender's run
  has ended, say on an error its task retries), others after the lease.
- Once a message has left, its mark waits out a transient database error (a lock, a restart):
  forgetting that it left would send it again.
- Temporary failures (connection refused, time-out, 4xx) put the row back with exponential
  backoff; it is never dropped. Permanent failures (5xx, invalid address) are marked on the
  row with the error, and the sender moves on. Either way, what derives an approval code is
  erased from a row once it has left or was given up.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache

import aiosmtplib
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, Engine, bindparam, select, update

import liveness
from faults import is_transient
from models.acts import LegalActDocument as D
from models.outbox import OutboxMessage, OutboxStatus
from models.types import utcnow
from notifications.events import ATTACHMENT_FIELD, SCRUBBED, SENSITIVE_FIELDS
from notifications.mime import encode_address
from notifications.render import render_bytes
from notifications.smtp import SmtpTarget

log = logging.getLogger(__name__)
T = OutboxMessage
_RUNNING: set[str] = set()  # the senders of this process that are sending now, by worker id
# The mark of every message, built once: a statement built per message costs a third of a
# millisecond of SQLAlchemy work (its cache key), about what the UPDATE itself costs on SQLite.
_MARK_SENT = (
    update(T)
    .where(T.id == bindparam("row_id"), T.claimed_by == bindparam("worker"), T.status == OutboxStatus.SENDING)
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("marked_at", type_=T.__table__.c.sent_at.type),
        attempts=T.attempts + 1,
        last_error=None,
    )
)
_MARK_SENT_SCRUBBED = _MARK_SENT.values(context=bindparam("scrubbed", type_=T.__table__.c.context.type))


class TemporaryFailure(Exception):
    """The server or the network may accept later: the message waits."""


@dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "failed": self.failed,
            "deferred": self.deferred,
            "errors": self.errors[:20],
        }


@dataclass(frozen=True)
class _Claimed:
    id: int
    event: str
    recipient: str
    context: dict
    attempts: int
    key: str


class OutboxSender:
    def __init__(
        self,
        engine: Engine,
        target: SmtpTarget,
        *,
        worker_id: str | None = None,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=10),
        connect_attempts: int = 3,
        connect_backoff_seconds: float = 0.2,
        retry_base: timedelta = timedelta(seconds=30),
        retry_max: timedelta = timedelta(hours=1),
        mark_patience_seconds: float = 120,
    ):
        self.engine, self.target = engine, target
        # host:pid:start:object — a sender on this host can tell that the process of a claim is gone
        self.process = liveness.identity()
        self.worker_id = worker_id or f"{self.process}:{id(self):x}"
        self.mark_patience_seconds = mark_patience_seconds
        self.batch_size, self.lease = batch_size, lease
        self.connect_attempts, self.connect_backoff_seconds = connect_attempts, connect_backoff_seconds
        self.retry_base, self.retry_max = retry_base, retry_max
        self.envelope_from = parseaddr(target.sender)[1]
        self.header_from = encode_address(target.sender)
        self.message_id_domain = target.message_id_domain
        # The marks of a run go through one connection (no pool checkout, no ping per message);
        # after an error it is dropped, and the retry takes a fresh one.
        self._mark_conn: Connection | None = None
        self._mark_lock = threading.Lock()  # a mark still running is never cut short by that closing

    # --- the run -------------------------------------------------------------------------------

    async def send_pending(self, *, now: datetime | None = None, limit: int | None = None) -> SendReport:
        """Sends every due message (up to ``limit``), one at a time; never raises for SMTP trouble."""
        report = SendReport()
        left = limit
        smtp: aiosmtplib.SMTP | None = None
        _RUNNING.add(self.worker_id)
        try:
            while left is None or left > 0:
                size = self.batch_size if left is None else min(self.batch_size, left)
                batch = await asyncio.to_thread(self._claim, now or utcnow(), size)
                if not batch:
                    break
                report.claimed += len(batch)
                if left is not None:
                    left -= len(batch)
                try:
                    if smtp is None:
                        smtp = await self._connect()
                    await self._deliver_batch(smtp, batch, report)
                except TemporaryFailure as exc:
                    report.deferred += await asyncio.to_thread(self._defer_unsent, batch, str(exc))
                    report.errors.append(str(exc))
                    log.warning("envoi suspendu, nouvel essai plus tard : %s", exc)
                    if smtp is not None:
                        smtp.close()
                        smtp = None
                    break
        finally:
            _RUNNING.discard(self.worker_id)
            if self._mark_lock.acquire(blocking=False):
                self._mark_lock.release()
                self._release_mark_conn()
            else:  # a cancelled run whose mark goes on in its thread: closed once that mark is committed
                asyncio.get_running_loop().run_in_executor(None, self._release_mark_conn)
            if smtp is not None:
                try:
                    await smtp.quit()
                except aiosmtplib.SMTPException:
                    smtp.close()
        return report

    async def _deliver_batch(self, smtp: aiosmtplib.SMTP, batch: list[_Claimed], report: SendReport) -> None:
        """The rows in order, each sent and its outcome committed before the next leaves; each
        next row is rendered in a worker thread while the one before is on the wire."""
        ahead = asyncio.ensure_future(asyncio.to_thread(self._prepared, batch[0]))
        try:
            for following in [*batch[1:], None]:
                row, prepared = await ahead
                ahead = (
                    None if following is None else asyncio.ensure_future(asyncio.to_thread(self._prepared, following))
                )
                await self._deliver(smtp, row, prepared, report)
        finally:
            if ahead is not None:  # the batch stopped (the server went away): that rendering is dropped
                ahead.cancel()

    def _prepared(self, row: _Claimed) -> tuple[_Claimed, bytes | Exception]:
        """The row and its wire form, or why it cannot have one (returned, raised by ``_deliver``)."""
        try:
            return row, self._message(row)
        except (_Permanent, TemporaryFailure) as exc:
            return row, exc

    async def _deliver(self, smtp: aiosmtplib.SMTP, row: _Claimed, data: bytes | Exception, report: SendReport) -> None:
        """One message: sent, and its outcome committed before the caller goes on."""
        if isinstance(data, _Permanent):
            await self._record(self._mark_failed, row, str(data), report)
            return
        if isinstance(data, Exception):
            raise data
        try:
            await smtp.sendmail(self.envelope_from, [row.recipient], data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self._record(self._classify, row, exc.recipients[0].code, exc.recipients[0].message, report)
        except aiosmtplib.SMTPResponseException as exc:
            await self._record(self._classify, row, exc.code, exc.message, report)
        except (aiosmtplib.SMTPException, OSError) as exc:  # disconnected, time-out, refused
            raise TemporaryFailure(f"serveur SMTP injoignable ({type(exc).__name__}: {exc})") from exc
        else:
            await self._record(self._mark_sent, row, report)

    async def _record(self, mark, *args) -> None:
        """Commits a message's outcome, waiting out a transient database error (a lock, a
        restart) with backoff for up to ``mark_patience_seconds``; any other error is raised."""
        deadline, delay = time.monotonic() + self.mark_patience_seconds, 0.5
        while True:
            try:
                return await asyncio.to_thread(mark, *args)
            except Exception as exc:
                if not is_transient(exc) or time.monotonic() + delay > deadline:
                    raise
                log.warning(
                    "base de données indisponible, l'envoi du message %s sera noté dans %.1f s : %s",
                    args[0].id,
                    delay,
                    type(exc).__name__,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    def _classify(self, row: _Claimed, code: int, text: str, report: SendReport) -> None:
        error = f"{code} {text}".strip()
        if 500 <= code < 600:
            self._mark_failed(row, f"refus définitif du serveur SMTP : {error}", report)
        else:
            self._mark_deferred(row, f"refus temporaire du serveur SMTP : {error}", report)

    async def _connect(self) -> aiosmtplib.SMTP:
        """Connects with a short exponential backoff; if the server stays down, the batch waits."""
        delay = self.connect_backoff_seconds
        last: Exception | None = None
        for attempt in range(self.connect_attempts):
            smtp = self.target.client()
            try:
                await smtp.connect()
                return smtp
            except (aiosmtplib.SMTPException, OSError) as exc:
                last = exc
                if attempt + 1 < self.connect_attempts:
                    await asyncio.sleep(delay)
                    delay *= 2
        raise TemporaryFailure(f"connexion SMTP impossible à {self.target.host}:{self.target.port} ({last})")

    def _message(self, row: _Claimed) -> bytes:
        problem = address_problem(row.recipient)
        if problem:
            raise _Permanent(f"adresse invalide « {row.recipient} » : {problem}")
        try:
            digest = hashlib.sha256(row.key.encode()).hexdigest()[:16]
            return render_bytes(
                row.event,
                row.context,
                to=row.recipient,
                sender=self.header_from,
                message_id=f"<outbox-{row.id}.{digest}@{self.message_id_domain}>",
                attachments=self._attachments(row),
            )
        except _Permanent:
            raise
        except Exception as exc:  # a template or context bug must not block the queue
            if is_transient(exc):  # the database, reading an attachment: try again later
                raise TemporaryFailure(f"pièce jointe illisible pour l'instant ({type(exc).__name__})") from exc
            raise _Permanent(f"rendu impossible : {type(exc).__name__}: {exc}") from None

    def _attachments(self, row: _Claimed) -> list[tuple[str, str, bytes]]:
        """The stored document a message carries (a signed act), checked against the SHA-256
        its context names: a document altered since it was sealed is never sent."""
        document_id = row.context.get(ATTACHMENT_FIELD)
        if document_id is None:
            return []
        with self.engine.connect() as conn:
            found = conn.execute(select(D.filename, D.sha256, D.content).where(D.id == document_id)).first()
        if found is None:
            raise _Permanent(f"pièce jointe n° {document_id} introuvable")
        if hashlib.sha256(found.content).hexdigest() != found.sha256 or found.sha256 != row.context.get("empreinte"):
            raise _Permanent(f"pièce jointe n° {document_id} altérée : son empreinte SHA-256 ne correspond plus")
        return [(found.filename, "application/pdf", bytes(found.content))]

    # --- database side (run in a worker thread), one committed transaction per message -----------

    def _claim(self, now: datetime, size: int) -> list[_Claimed]:
        with self.engine.begin() as conn:
            stale = conn.execute(select(T.id, T.claimed_by, T.claimed_at).where(T.status == OutboxStatus.SENDING)).all()
            released = [r.id for r in stale if self._abandoned(r.claimed_by, r.claimed_at, now)]
            if released:
                conn.execute(
                    update(T)
                    .where(T.id.in_(released), T.status == OutboxStatus.SENDING)
                    .values(status=OutboxStatus.PENDING, claimed_by=None)
                )
            due = (
                select(T.id)
                .where(T.status == OutboxStatus.PENDING, T.next_attempt_at <= now)
                .order_by(T.id)
                .limit(size)
            )
            if self.engine.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)  # rows another sender is claiming are skipped
            ids = conn.execute(due).scalars().all()
            if not ids:
                return []
            stmt = (
                update(T)
                .where(T.id.in_(ids), T.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, claimed_by=self.worker_id, claimed_at=now)
                .returning(T.id, T.event, T.recipient, T.context, T.attempts, T.idempotency_key)
            )
            rows = conn.execute(stmt).all()
        return sorted((_Claimed(*r) for r in rows), key=lambda c: c.id)

    def _abandoned(self, claimed_by: str | None, claimed_at: datetime | None, now: datetime) -> bool:
        """A claim whose sender is gone: its process on this host has ended, or, in this process,
        its run is over; else when its lease expired."""
        if claimed_by and claimed_by != self.worker_id and claimed_by.rpartition(":")[0] == self.process:
            return claimed_by not in _RUNNING
        state = liveness.alive(claimed_by) if claimed_by != self.worker_id else None
        if state is not None:
            return not state
        return claimed_at is None or claimed_at < now - self.lease

    def _mine(self):
        return T.claimed_by == self.worker_id, T.status == OutboxStatus.SENDING

    def _mark_sent(self, row: _Claimed, report: SendReport) -> None:
        scrubbed = _scrubbed(row)
        values = {"row_id": row.id, "worker": self.worker_id, "marked_at": utcnow()}
        with self._mark_lock:
            conn = self._mark_conn = self._mark_conn or self.engine.connect()
            try:
                with conn.begin():
                    if scrubbed:
                        conn.execute(_MARK_SENT_SCRUBBED, {**values, "scrubbed": scrubbed["context"]})
                    else:
                        conn.execute(_MARK_SENT, values)
            except BaseException:
                self._mark_conn = None
                conn.close()
                raise
        report.sent += 1

    def _release_mark_conn(self) -> None:
        with self._mark_lock:
            if self._mark_conn is not None:
                self._mark_conn.close()
                self._mark_conn = None

    def _mark_failed(self, row: _Claimed, error: str, report: SendReport) -> None:
        """Given up for good: what derives an approval code goes too, no email will carry it."""
        with self.engine.begin() as conn:
            conn.execute(
                update(T)
                .where(T.id == row.id, *self._mine())
                .values(status=OutboxStatus.FAILED, attempts=T.attempts + 1, last_error=error[:2000], **_scrubbed(row))
            )
        report.failed += 1
        report.errors.append(f"message {row.id} ({row.recipient}) : {error}")
        log.error("message %s définitivement refusé : %s", row.id, error)

    def _mark_deferred(self, row: _Claimed, error: str, report: SendReport) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(T)
                .where(T.id == row.id, *self._mine())
                .values(
                    status=OutboxStatus.PENDING,
                    claimed_by=None,
                    attempts=row.attempts + 1,
                    next_attempt_at=utcnow() + self.backoff(row.attempts + 1),
                    last_error=error[:2000],
                )
            )
        report.deferred += 1

    def _defer_unsent(self, batch: list[_Claimed], error: str) -> int:
        """The server went away: every row of the batch still claimed waits for the next try."""
        deferred = 0
        with self.engine.begin() as conn:
            for row in batch:
                deferred += conn.execute(
                    update(T)
                    .where(T.id == row.id, *self._mine())
                    .values(
                        status=OutboxStatus.PENDING,
                        claimed_by=None,
                        attempts=row.attempts + 1,
                        next_attempt_at=utcnow() + self.backoff(row.attempts + 1),
                        last_error=error[:2000],
                    )
                ).rowcount
        return deferred

    def backoff(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, … capped at one hour: temporary failures wait, never expire."""
        return min(self.retry_base * (2 ** max(attempts - 1, 0)), self.retry_max)


def _scrubbed(row: _Claimed) -> dict:
    """The row's new context, if it holds what must not outlive delivery."""
    sensitive = SENSITIVE_FIELDS.get(row.event)
    return {"context": {**row.context, **{f: SCRUBBED for f in sensitive}}} if sensitive else {}


class _Permanent(Exception):
    pass


@lru_cache(maxsize=4096)
def address_problem(address: str) -> str | None:
    """Why an address can never be delivered to, or None (syntax only, no DNS)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None
