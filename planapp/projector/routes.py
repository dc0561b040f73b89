"""The live projector and phone views of a plan opened to the public, their event stream, the QR
code, and the facilitator's screen control (what the projector shows, public or not)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from planapp import fragments, live
from planapp.accounts import current_user, plan_for_editing
from planapp.cards import village_choices
from planapp.changes import Regions
from planapp.extensions import db
from planapp.fragments import region
from planapp.hall_address import hall_address
from planapp.intake.values import whole_number_or_none
from planapp.models import ChangeLog, Plan
from planapp.projector import screens
from planapp.qr import qr_response

bp = Blueprint("projector", __name__)

LAYOUTS = ("projector", "phone")
REGIONS = "projector/_regions.html"


def public_plan_or_404(token: str) -> Plan:
    """The plan behind a public address; 404 (never 403) so closed plans reveal nothing."""
    plan = db.session.scalar(select(Plan).where(Plan.public_token == token))
    if plan is None or not plan.is_public:
        abort(404)
    return plan


def phone_address(plan: Plan) -> tuple[str, bool]:
    """The phone view's address for the QR code and the link, and whether a phone can open it:
    never localhost when the laptop has a LAN address (planapp/hall_address.py)."""
    base = hall_address(request.host_url, current_app.config.get("PUBLIC_URL", ""))
    return base.base + url_for("projector.phone", token=plan.public_token), base.reachable


def phone_url(plan: Plan) -> str:
    return phone_address(plan)[0]


# --- rendering the live content, once per version ------------------------------------------


@dataclass
class Rendered:
    """The live content at one version, rendered once for every view of one layout and
    language: the whole screen (`state`, for a view that connects or is further behind) and
    the delta from the version rendered before it (for the views that show that one)."""

    version: int
    is_public: bool
    token: str
    state: bytes
    base: int | None = None
    delta: bytes = b""

    def message_for(self, known: int) -> bytes:
        return self.delta if self.base is not None and known == self.base else self.state


class RenderCache:
    """The latest rendering per (plan, layout, language). Two hundred open views hear of a new
    version at the same moment; one of them renders, the others wait for it and reuse it."""

    def __init__(self) -> None:
        self._entries: dict[tuple, Rendered] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, plan_id: int, layout: str, min_version: int, known: int) -> Rendered | None:
        """The rendering at `min_version` or later; its delta is from the rendering before it,
        or (the first since the server started) from `known`, the version the view shows."""
        key = (plan_id, layout, str(get_locale()))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version >= min_version:
                return entry
            try:
                rendered = render(plan_id, layout, entry, known)
            finally:
                # Give the connection back: the stream may now sleep for a long time.
                db.session.close()
            if rendered is not None:
                self._entries[key] = rendered
            return rendered


def render(plan_id: int, layout: str, previous: Rendered | None, known: int) -> Rendered | None:
    """The plan's live content now, and its delta from `previous` when a view shows that: the
    same screen, still public at the same address (with no rendering before, from `known`: the
    view connected at that version with this address, and a closing since would make the
    changes touch the whole screen). Every read sees one version (read again if a change was
    saved meanwhile)."""
    for _attempt in range(3):
        version = live.current_version(plan_id)
        plan = db.session.get(Plan, plan_id, populate_existing=True)
        if plan is None:
            return None
        shown = screens.screen(plan, layout)
        state = fragments.event(version, "state", str(whole_content(shown)))
        rendered = Rendered(version, plan.is_public, plan.public_token, state)
        if previous is None:
            base = known
        elif previous.is_public and previous.token == plan.public_token:
            base = previous.version
        else:
            base = -1
        if 0 <= base < version:
            regions = changes_between(plan_id, base, version)
            delta = screens.screen_delta(shown, base, version, regions)
            if not delta.whole:
                html = str(region(REGIONS, "delta", shown, delta))
                rendered.base = base
                rendered.delta = fragments.event(version, "delta", html)
        if live.current_version(plan_id) == version:
            return rendered
    return rendered


def whole_content(shown: screens.Screen):
    """The whole content, swapped into #live."""
    return Markup('<div id="live" hx-swap-oob="innerHTML">{}</div>').format(
        region(REGIONS, "content", shown)
    )


def changes_between(plan_id: int, base: int, version: int) -> Regions:
    """What the changes after `base` up to `version` touched, from the change log."""
    rows = db.session.scalars(
        select(ChangeLog.regions).where(
            ChangeLog.plan_id == plan_id,
            ChangeLog.plan_version > base,
            ChangeLog.plan_version <= version,
        )
    ).all()
    regions = Regions(everything=len(rows) != version - base)
    for row in rows:
        regions |= Regions.from_json(row)
    return regions


def cache() -> RenderCache:
    return current_app.extensions.setdefault("projector_render_cache", RenderCache())


# --- public views ---------------------------------------------------------------------------


@bp.route("/live/<token>")
def projector(token: str):
    plan = public_plan_or_404(token)
    address, reachable = phone_address(plan)
    return render_template(
        "projector/projector.html",
        plan=plan,
        s=screens.screen(plan, "projector"),
        phone_url=address,
        phone_reachable=reachable,
    )


@bp.route("/live/<token>/phone")
def phone(token: str):
    plan = public_plan_or_404(token)
    return render_template("projector/phone.html", plan=plan, s=screens.screen(plan, "phone"))


@bp.route("/live/<token>/events")
def events(token: str):
    """Server-sent events, each about a newer version: `delta` carries only the regions that
    changed since the version the view shows, `state` the whole live content (to a view further
    behind). A view that reconnects gets the current state once (never a replay of what it
    missed). A view that wakes when several versions are out sends only the latest."""
    plan = public_plan_or_404(token)
    plan_id = plan.id
    layout = request.args.get("layout", "projector")
    if layout not in LAYOUTS:
        abort(404)
    renders = cache()

    def render_event(known: int):
        version = live.current_version(plan_id)
        entry = renders.get(plan_id, layout, version or 0, known)
        if entry is None or not entry.is_public or entry.token != token:
            # Closed to the public (or a new address): say so, and end the stream.
            closed = render_template("projector/_closed.html", plan_version=version)
            return (
                version,
                fragments.event(
                    version, "state", f'<div id="live" hx-swap-oob="innerHTML">{closed}</div>'
                ),
                True,
            )
        return entry.version, entry.message_for(known), False

    return live.event_stream(plan_id, render_event)


@bp.route("/live/<token>/qr.svg")
def qr_code(token: str):
    plan = public_plan_or_404(token)
    return qr_response(phone_url(plan))


# --- the facilitator's screen control ------------------------------------------------------


def _control_response(plan: Plan, error=None, status: int = 200):
    if request.headers.get("HX-Request"):
        villages = village_choices(plan.tambon_id)
        return region(REGIONS, "screen_control", plan, villages, error=error or ""), status
    if error:
        flash(error, "error")
    return redirect(url_for("projector.screen_control", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>/screen")
def screen_control(plan_id: int):
    plan = plan_for_editing(plan_id)
    villages = village_choices(plan.tambon_id)
    return render_template("projector/screen.html", plan=plan, villages=villages)


@bp.route("/plans/<int:plan_id>/screen", methods=["POST"])
def choose_screen(plan_id: int):
    plan = plan_for_editing(plan_id)
    village_id = whole_number_or_none(request.form.get("village_id")) or None
    try:
        screens.choose_screen(
            plan,
            request.form.get("mode", ""),
            village_id,
            request.form.get("group"),
            actor=current_user(),
        )
    except screens.ScreenChoiceError as error:
        db.session.rollback()
        return _control_response(plan, str(error), 400)
    db.session.commit()
    return _control_response(plan)


@bp.route("/plans/<int:plan_id>/screen/public", methods=["POST"])
def set_public(plan_id: int):
    plan = plan_for_editing(plan_id)
    screens.set_public(plan, request.form.get("public") == "1", actor=current_user())
    db.session.commit()
    return _control_response(plan)


@bp.route("/plans/<int:plan_id>/screen/token", methods=["POST"])
def regenerate_token(plan_id: int):
    plan = plan_for_editing(plan_id)
    screens.regenerate_token(plan, actor=current_user())
    db.session.commit()
    if not request.headers.get("HX-Request"):
        flash(_("New address made: the old projector and phone links no longer work."), "success")
    return _control_response(plan)


@bp.route("/plans/<int:plan_id>/screen/qr.svg")
def control_qr_code(plan_id: int):
    plan = plan_for_editing(plan_id)
    return qr_response(phone_url(plan))
