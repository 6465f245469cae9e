"""Keys derived from the platform's one secret (``TERRITOIRES_AUDIT_KEY``), one per purpose, so
that a value computed for one use (an approval code) can never serve another (a chain link)."""

from __future__ import annotations

import hashlib
import hmac

AUDIT_CHAIN = "audit-chain"
APPROVAL_CODES = "approval-codes"


def subkey(master: bytes, purpose: str) -> bytes:
    return hmac.new(master, f"territoires/{purpose}".encode(), hashlib.sha256).digest()


def mac(key: bytes, text: str) -> str:
    """HMAC-SHA256 of ``text``, in hex."""
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
