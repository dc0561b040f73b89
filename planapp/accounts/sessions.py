"""Signing in: checking a password, the server-side record of each signed-in device, and the
"known device" mark that lets a device which signed in before past the account's login limit.

The session cookie carries only a random token; the server keeps its SHA-256 digest with the
user and the times in `user_sessions`. Signing out deletes that row, so a copy of the cookie
(the hall's Wi-Fi is open and plain HTTP) stops working at once; deactivating a user or setting
a new password deletes all of the user's rows. A row lasts a forum day: it ends after
SIGN_IN_IDLE_HOURS without a request and SIGN_IN_MAX_HOURS after signing in, whichever comes
first. A table (rather than Flask-Session) because "sign this user out everywhere" is one
DELETE, it is created by our migrations like every other table, and it works the same on SQLite
and PostgreSQL and across several workers and hosts.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, or_, select, update

from planapp.extensions import db
from planapp.models import User, UserSession, utcnow

# last_seen_at is written at most this often per device, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass
class SessionPolicy:
    idle: timedelta
    longest: timedelta
    # Tests set the clock to walk past the limits.
    clock: object = field(default=utcnow)

    def now(self) -> datetime:
        return self.clock()


def init_app(app) -> None:
    policy = SessionPolicy(
        idle=timedelta(hours=app.config["SIGN_IN_IDLE_HOURS"]),
        longest=timedelta(hours=app.config["SIGN_IN_MAX_HOURS"]),
    )
    app.extensions["sign_in_sessions"] = policy
    # The cookie ends with the longest sign-in, not after Flask's default month. It is set when
    # it changes (sign-in, language, first form) and not re-signed and resent on every answer:
    # the sign-in's end is fixed at its start on the server, so a later expiry would add nothing.
    app.config["PERMANENT_SESSION_LIFETIME"] = policy.longest
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False


def policy() -> SessionPolicy:
    return current_app.extensions["sign_in_sessions"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- passwords ----------------------------------------------------------------------------


def user_named(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


@functools.cache
def _nobody() -> User:
    """A user no one can be, whose hash is made as real ones are: an unknown name costs the
    same hash check as a known one, so the answer's timing does not tell which names exist."""
    nobody = User(username="", active=False)
    nobody.set_password(secrets.token_urlsafe(16))
    return nobody


def password_is_right(user: User | None, password: str) -> bool:
    """The user may sign in with this password. The hash is checked whoever asks."""
    right = (user or _nobody()).check_password(password)
    return right and user is not None and user.active


# --- signed-in devices --------------------------------------------------------------------


def start(user: User) -> str:
    """A new session for `user`; returns the token for the cookie. Also clears out the rows
    nobody can use any more. The caller commits."""
    now = policy().now()
    _forget_ended(now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy().longest,
        )
    )
    return token


@functools.cache
def _user_of_token():
    """One statement for the session and its user, built once: it runs before every request."""
    return (
        select(UserSession.last_seen_at, UserSession.expires_at, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == bindparam("digest"))
    )


def user_of(token: str | None) -> User | None:
    """The signed-in user of this token, or None when it ended (signed out, revoked, idle too
    long, past its longest life). Notes the request's time at most once a minute, committed at
    once, so the idle limit counts from the device's last request."""
    if not token or not isinstance(token, str):
        return None
    rules = policy()
    now = rules.now()
    digest = _digest(token)
    found = db.session.execute(_user_of_token(), {"digest": digest}).first()
    if found is None:
        return None
    last_seen, expires, user = found
    if now >= expires or now >= last_seen + rules.idle or not user.active:
        return None
    if now >= last_seen + TOUCH_EVERY:
        db.session.execute(
            update(UserSession).where(UserSession.token_hash == digest).values(last_seen_at=now)
        )
        db.session.commit()
    return user


def end(token: str | None) -> None:
    """Sign this device out: its token no longer works anywhere. The caller commits."""
    if token and isinstance(token, str):
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))


def end_all(user: User) -> None:
    """Sign the user out on every device (deactivated, new password). The caller commits."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def _forget_ended(now: datetime) -> None:
    db.session.execute(
        delete(UserSession).where(
            or_(UserSession.expires_at <= now, UserSession.last_seen_at <= now - policy().idle)
        )
    )


# --- known devices ------------------------------------------------------------------------
#
# A device where a user signed in keeps a signed cookie naming that user and a digest of the
# password hash (readable, like every Flask cookie, but it shows nothing of the hash). It is
# sent only to /login and lets that device past the limit on the account (throttle.py), so
# guessers elsewhere cannot keep the owner out; a new password makes it worthless.

DEVICE_COOKIE = "known_device"
DEVICE_MAX_AGE = timedelta(days=365)
DEVICES_KEPT = 5  # users remembered per device (a shared tablet)


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="planapp.known-device")


def _password_mark(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _known_entries(cookie: str | None) -> list:
    if not cookie:
        return []
    try:
        entries = _device_serializer().loads(cookie, max_age=int(DEVICE_MAX_AGE.total_seconds()))
    except BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, list) and len(e) == 2]


def device_knows(cookie: str | None, user: User | None) -> bool:
    """This device signed in as `user` before, with the password the user has now."""
    if user is None:
        return False
    return [user.id, _password_mark(user)] in _known_entries(cookie)


def remember_device(response, cookie: str | None, user: User) -> None:
    """Mark the device as one where `user` signed in (most recent first, a few users)."""
    mine = [user.id, _password_mark(user)]
    others = [e for e in _known_entries(cookie) if e[0] != user.id]
    value = _device_serializer().dumps([mine, *others][:DEVICES_KEPT])
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(DEVICE_MAX_AGE.total_seconds()),
        path=url_for("accounts.login"),
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
