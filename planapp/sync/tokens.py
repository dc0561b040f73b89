"""Sync tokens on the district server: one hall laptop's key to the sync API of one tambon.

A token is 32 random bytes, shown once when issued; the server keeps only its SHA-256 digest
(a token is no password people choose: a fast digest of 256 random bits cannot be guessed
back), its first characters to recognise it, who issued it and when it last pushed. Revoked, it
opens nothing. It opens only the sync API of its tambon (planapp/sync/api.py): no page, no
session. Who may issue and revoke: the administrator, or the officer whose area holds the
tambon (planapp/areas.py)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from planapp.areas import area_of
from planapp.extensions import db
from planapp.models import SyncToken, Tambon, User, utcnow

PREFIX = "pst_"  # planapp sync token: recognisable in a log or a paste
HINT_LENGTH = 10


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def may_manage(user: User | None, tambon: Tambon) -> bool:
    """The administrator, or a district or provincial officer whose area holds the tambon."""
    area = area_of(user)
    if area is None or user is None:
        return False
    if user.is_admin:
        return True
    if not user.is_officer:
        return False
    return (area.province in (None, tambon.province)) and (area.district in (None, tambon.district))


def issue(tambon: Tambon, label: str, *, actor: User) -> tuple[SyncToken, str]:
    """A new token for the tambon: the row and the token itself (shown once). The caller
    has checked `may_manage` and commits."""
    raw = PREFIX + secrets.token_urlsafe(32)
    token = SyncToken(
        tambon_id=tambon.id,
        label=label.strip(),
        digest=digest(raw),
        hint=raw[:HINT_LENGTH],
        created_by_id=actor.id,
    )
    db.session.add(token)
    db.session.flush()
    return token, raw


def revoke(token: SyncToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def tambon_tokens(tambon: Tambon) -> list[SyncToken]:
    return list(
        db.session.scalars(
            select(SyncToken).where(SyncToken.tambon_id == tambon.id).order_by(SyncToken.id.desc())
        )
    )


def token_of(raw: str | None) -> SyncToken | None:
    """The live token `raw` names, or None (unknown, revoked, or no token at all)."""
    if not raw or len(raw) > 200 or not raw.startswith(PREFIX):
        return None
    return db.session.scalar(
        select(SyncToken).where(SyncToken.digest == digest(raw), SyncToken.revoked_at.is_(None))
    )
