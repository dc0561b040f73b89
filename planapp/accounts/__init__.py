"""Who may change a plan: the signed-in user, role checks used by every state-changing route."""

from __future__ import annotations

import functools
from functools import wraps

from flask import abort, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import Boolean, Integer, bindparam, exists, select
from sqlalchemy.orm import joinedload

from planapp.accounts import sessions
from planapp.areas import reads_plan_clause, reads_rollups
from planapp.extensions import db
from planapp.models import Plan, Tambon, User, user_tambons


def init_app(app) -> None:
    from planapp.accounts import throttle

    sessions.init_app(app)
    throttle.init_app(app)

    @app.before_request
    def load_user() -> None:
        if request.endpoint == "static":  # a file is the same for everyone: no session lookup
            g.user = None
            return
        # Only a token the server still keeps: signed out, deactivated, a new password or a
        # forum day over, and the cookie (or any copy of it) signs in nobody.
        g.user = sessions.user_of(session.get("session_token"))

    @app.context_processor
    def inject_user():
        return {"current_user": g.get("user")}


def sign_in(user: User) -> None:
    """A fresh session (no fixation): the device's previous one ends, a new token is issued;
    only the language choice carries over. The caller commits."""
    sessions.end(session.get("session_token"))
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    session["session_token"] = sessions.start(user)
    session.permanent = True  # for as long as the sign-in may last, not a month


def sign_out() -> None:
    """This device's session ends on the server, so a copy of the cookie is worthless too.
    The caller commits."""
    sessions.end(session.pop("session_token", None))


def current_user() -> User | None:
    return g.get("user")


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            if request.headers.get("HX-Request"):
                abort(401)
            return redirect(url_for("accounts.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user().is_admin:
            abort(403)
        return view(*args, **kwargs)

    # Lets the URL-map test check that facilitators are refused here.
    wrapped.admin_only = True
    return wrapped


def rollup_reader_required(view):
    """The roll-ups: the administrator, or an officer (their own area: planapp/areas.py)."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not reads_rollups(current_user()):
            abort(
                403,
                description=_(
                    "Only the administrator and the district and provincial officers read "
                    "the roll-ups."
                ),
            )
        return view(*args, **kwargs)

    # Lets the URL-map test check that facilitators are refused here, and walk it as officers.
    wrapped.rollup_only = True
    return wrapped


def tambon_for_editing(tambon_id: int) -> Tambon:
    """The tambon, if the signed-in user may change it; 404, 401 or 403 otherwise."""
    tambon = db.get_or_404(Tambon, tambon_id)
    user = current_user()
    if user is None:
        abort(401)
    if not user.can_edit_tambon(tambon):
        abort(403)
    return tambon


def plan_for_editing(plan_id: int, *joined) -> Plan:
    """The plan, if the signed-in user may change it; 404, 401 or 403 otherwise. One
    statement, permission included; `joined`: relationships of the plan loaded with it (e.g.
    `Plan.groups`)."""
    return _plan_if(plan_id, joined, reading=False)


def plan_for_reading(plan_id: int, *joined) -> Plan:
    """Plan pages (not the public projector): for the users who may change that plan (the
    facilitator's working pages show controls; officers get plan_for_viewing's pages)."""
    return _plan_if(plan_id, joined, reading=False)


def plan_for_viewing(plan_id: int, *joined) -> Plan:
    """The plan's read-only views (its hub, follow-up, minutes, print and exports): also for
    the officers of the plan's area (planapp/areas.py), who read and export, never change."""
    return _plan_if(plan_id, joined, reading=True)


def _plan_query(joined: tuple, area_clause=None):
    """The plan and whether the user (bound: `user`, `is_admin`) may have it."""
    allowed = bindparam("is_admin", type_=Boolean) | exists().where(
        user_tambons.c.user_id == bindparam("user", type_=Integer),
        user_tambons.c.tambon_id == Plan.tambon_id,
    ).correlate(Plan)
    if area_clause is not None:
        allowed = allowed | area_clause
    return (
        select(Plan, allowed)
        .where(Plan.id == bindparam("plan", type_=Integer))
        .options(*(joinedload(relationship) for relationship in joined))
    )


# Built once for each set of relationships: every request of a plan page asks it, and building
# it anew (its cache key most of all) costs more than running it.
_shared_plan_query = functools.cache(_plan_query)


def _plan_if(plan_id: int, joined: tuple, *, reading: bool) -> Plan:
    user = current_user()
    if user is None:
        abort(401)
    if reading and user.is_officer:  # an officer's area is theirs alone: built for them
        query = _plan_query(joined, reads_plan_clause(user))
    else:
        query = _shared_plan_query(joined)
    params = {"plan": plan_id, "user": user.id, "is_admin": user.is_admin}
    row = db.session.execute(query, params).unique().first()
    if row is None:
        abort(404)
    plan, may = row
    if not (user.active and may):
        abort(403)
    return plan
