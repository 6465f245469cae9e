from datetime import UTC, datetime

from models.decision import GENESIS_HASH, AuditHead, Decision, decision_hash, verify_chain


def _chain(n=3):
    rows, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        row = Decision(id=i, entity_type="ctai", entity_id=1, step="signature", from_status="signature",
                       to_status="diair_review", actor_label="prefet.86@prefecture-86.example", decision="sign",
                       amount_cents=20_000_000, created_at=datetime(2021, 10, 21, 10, i, tzinfo=UTC), prev_hash=prev)
        row.row_hash = decision_hash(row)
        rows.append(row)
        prev = row.row_hash
    return rows, AuditHead(last_decision_id=n, last_hash=prev)


def test_an_intact_chain_verifies():
    rows, head = _chain()
    assert verify_chain(rows, head) == []


def test_an_edited_amount_breaks_the_chain_at_that_row():
    rows, head = _chain()
    rows[1].amount_cents = 30_000_000
    assert [b.decision_id for b in verify_chain(rows, head)] == [2]


def test_a_deleted_middle_row_breaks_the_next_link():
    rows, head = _chain()
    del rows[1]
    assert [b.decision_id for b in verify_chain(rows, head)] == [3]


def test_a_deleted_last_row_is_caught_by_the_head():
    rows, head = _chain()
    assert len(verify_chain(rows[:-1], head)) == 1
