from datetime import UTC, datetime

from models.decision import (
    GENESIS_HASH,
    AuditHead,
    Decision,
    check_published,
    decision_hash,
    decision_hash_of,
    head_seal,
    verify_chain,
)

KEY = b"cle-de-test-de-la-chaine-assez-longue"


def _chain(n=3, key=KEY):
    rows, prev = [], GENESIS_HASH
    for i in range(1, n + 1):
        row = Decision(
            id=i,
            entity_type="ctai",
            entity_id=1,
            step="signature",
            from_status="signature",
            to_status="diair_review",
            actor_label="prefet.86@prefecture-86.example",
            decision="sign",
            amount_cents=20_000_000,
            created_at=datetime(2021, 10, 21, 10, i, tzinfo=UTC),
            prev_hash=prev,
        )
        row.row_hash = decision_hash(row, key)
        rows.append(row)
        prev = row.row_hash
    return rows, AuditHead(last_decision_id=n, last_hash=prev, seal=head_seal(n, prev, key))


def test_an_intact_chain_verifies():
    rows, head = _chain()
    assert verify_chain(rows, head, KEY) == []


def test_an_edited_amount_breaks_the_chain_at_that_row():
    rows, head = _chain()
    rows[1].amount_cents = 30_000_000
    assert [b.decision_id for b in verify_chain(rows, head, KEY)] == [2]


def test_a_deleted_middle_row_breaks_the_next_link():
    rows, head = _chain()
    del rows[1]
    assert [b.decision_id for b in verify_chain(rows, head, KEY)] == [3]


def test_a_deleted_last_row_is_caught_by_the_head():
    rows, head = _chain()
    assert len(verify_chain(rows[:-1], head, KEY)) == 1


def test_a_chain_recomputed_without_the_key_fails_on_every_row_and_on_its_head():
    rows, head = _chain(key=b"une-autre-cle-que-celle-de-la-plateforme")
    breaks = verify_chain(rows, head, KEY)
    assert [b.decision_id for b in breaks] == [1, 2, 3, 3] and "sceau" in breaks[-1].reason


def test_the_links_are_keyed_a_plain_hash_of_the_same_values_does_not_match():
    rows, _ = _chain()
    import hashlib
    import json

    values = {
        n: getattr(rows[0], n)
        for n in (
            "id",
            "entity_type",
            "entity_id",
            "step",
            "from_status",
            "to_status",
            "actor_agent_id",
            "actor_label",
            "decision",
            "comment",
            "amount_cents",
            "created_at",
            "prev_hash",
        )
    }
    plain = hashlib.sha256(
        json.dumps(
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
    ).hexdigest()
    assert plain != rows[0].row_hash == decision_hash_of(values, KEY)


def test_a_missing_head_is_a_break():
    rows, _ = _chain()
    assert [b.reason for b in verify_chain(rows, None, KEY)] == [
        "la tête de chaîne a disparu : la fin de la chaîne ne peut plus être vérifiée"
    ]


def test_a_head_rewound_to_an_earlier_row_without_the_key_fails_on_its_seal():
    rows, head = _chain()
    forged = AuditHead(last_decision_id=2, last_hash=rows[1].row_hash, seal=head.seal)
    assert "sceau" in verify_chain(rows[:2], forged, KEY)[0].reason


def test_a_tail_rewritten_with_the_key_is_caught_by_the_heads_published_before():
    rows, _ = _chain(3)
    published = [(3, rows[2].row_hash, "01/07/2021 08:00")]
    rewritten = [rows[0], rows[1]]  # the last row deleted and the head rewound, seal recomputed with the key
    assert check_published(rewritten, published)[0].reason.endswith("a disparu de la chaîne")
    rows[2].comment = "réécrit"
    rows[2].row_hash = decision_hash(rows[2], KEY)
    assert "réécrite" in check_published(rows, published)[0].reason
    assert check_published(_chain(3)[0], published) == []
