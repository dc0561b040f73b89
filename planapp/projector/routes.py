"""The live projector and phone views of a plan opened to the public, their event stream, the QR
code, and the facilitator's screen control (what the projector shows, public or not)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from planapp import live
from planapp.accounts import current_user, plan_for_editing
from planapp.extensions import db
from planapp.fragments import region
from planapp.models import Plan
from planapp.projector import screens

bp = Blueprint("projector", __name__)

# A comment line this often keeps proxies and the browser from dropping a quiet stream.
KEEP_ALIVE_SECONDS = 15
LAYOUTS = ("projector", "phone")
REGIONS = "projector/_regions.html"


def public_plan_or_404(token: str) -> Plan:
    """The plan behind a public address; 404 (never 403) so closed plans reveal nothing."""
    plan = db.session.scalar(select(Plan).where(Plan.public_token == token))
    if plan is None or not plan.is_public:
        abort(404)
    return plan


def phone_url(plan: Plan) -> str:
    # The address the server is reached at, so a phone on the hall's Wi-Fi can open it.
    return request.host_url.rstrip("/") + url_for("projector.phone", token=plan.public_token)


# --- rendering the live content, once per version ------------------------------------------

# A part of the live content that a change can send alone: a column, the side counts. Marked in
# the templates by projector/_cards.html's part_start/part_end, around one element whose id is
# "live-<name>".
PART = re.compile(r"<!--live:([\w-]+)-->(.*?)<!--/live-->", re.S)
FIRST_TAG = re.compile(r"^\s*<([a-z][a-z0-9]*)")
# A card of a changed part that the view already shows as it is goes as a <template data-keep>
# placeholder, which live.js fills with the view's own card.
CARD = re.compile(r'<li class="live-card[^>]*? data-project-id="(\d+)".*?</li>', re.S)


def event(version: int, kind: str, html: str) -> bytes:
    """A server-sent event; every event is a set of htmx out-of-band swaps. The template's
    indentation and blank lines stay home (the live content holds no <pre>): a third less. An
    event without a data line is never delivered, so a change that shows nothing new still has
    one (and moves the view's version on)."""
    lines = [line for line in map(str.strip, html.splitlines()) if line] or [""]
    data = "\n".join("data: " + line for line in lines)
    return f"id: {version}\nevent: {kind}\n{data}\n\n".encode()


def state_event(version: int, html: str) -> bytes:
    """The whole live content, swapped into #live."""
    return event(version, "state", f'<div id="live" hx-swap-oob="innerHTML">{html}</div>')


def keep_cards(html: str, before: str) -> str:
    """The part `html` with each card that `before` (the same part a version earlier) already
    held, unchanged, replaced by a placeholder."""
    shown = {match[1]: match[0] for match in CARD.finditer(before)}

    def keep(match: re.Match) -> str:
        if shown.get(match[1]) == match[0]:
            return f'<template data-keep="{match[1]}"></template>'
        return match[0]

    return CARD.sub(keep, html)


@dataclass(frozen=True)
class Rendered:
    """The live content at one version, and what changed since the version rendered before it
    (`base`): a view that shows `base` gets only the parts that changed (`delta`); any other view
    (further behind, or reconnecting) gets the whole content (`state`)."""

    version: int
    is_public: bool
    token: str
    html: str
    frame: str = ""  # the content with its parts cut out and its version blanked
    parts: dict = field(default_factory=dict)  # part name -> its html
    base: int | None = None
    changed: tuple = ()  # the parts that differ from `base`'s, as out-of-band swaps

    @classmethod
    def of(cls, version: int, is_public: bool, token: str, html: str) -> Rendered:
        parts = {}

        def cut(match: re.Match) -> str:
            parts[match[1]] = match[2]
            return f"<!--live:{match[1]}-->"

        frame = PART.sub(cut, html).replace(
            f'data-plan-version="{version}"', 'data-plan-version=""'
        )
        return cls(version, is_public, token, html, frame, parts)

    def after(self, previous: Rendered | None) -> Rendered:
        """This rendering, knowing the one before it: the parts to send to a view that shows it.
        Only when nothing but parts changed (same screen, same frame), and the view did show it
        (a closed plan's views were told so instead)."""
        if (
            previous is None
            or not previous.is_public
            or previous.token != self.token
            or previous.version >= self.version
            or previous.frame != self.frame
        ):
            return self
        changed = tuple(
            FIRST_TAG.sub(r'<\1 hx-swap-oob="true"', keep_cards(html, previous.parts[name]), 1)
            for name, html in self.parts.items()
            if previous.parts[name] != html
        )
        return replace(self, base=previous.version, changed=changed)

    @cached_property
    def state(self) -> bytes:
        """The event with the whole content, built once however many views it goes to."""
        return state_event(self.version, self.html)

    @cached_property
    def delta(self) -> bytes:
        return event(self.version, "delta", "\n".join(self.changed))

    def message_for(self, known: int) -> bytes:
        return self.delta if self.base is not None and known == self.base else self.state


class RenderCache:
    """The latest rendering per (plan, layout, language). Two hundred open views hear of a new
    version at the same moment; one of them renders, the others wait for it and reuse it."""

    def __init__(self) -> None:
        self._entries: dict[tuple, Rendered] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, plan_id: int, layout: str, min_version: int) -> Rendered | None:
        key = (plan_id, layout, str(get_locale()))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version >= min_version:
                return entry
            try:
                plan = db.session.get(Plan, plan_id, populate_existing=True)
                if plan is None:
                    return None
                rendered = Rendered.of(
                    plan.version, plan.is_public, plan.public_token, render_content(plan, layout)
                )
            finally:
                # Give the connection back: the stream may now sleep for a long time.
                db.session.close()
            self._entries[key] = rendered = rendered.after(entry)
            return rendered


def render_content(plan: Plan, layout: str) -> str:
    return render_template(
        "projector/_content.html", plan=plan, layout=layout, s=screens.screen(plan, layout)
    )


def cache() -> RenderCache:
    return current_app.extensions.setdefault("projector_render_cache", RenderCache())


def client_version() -> int:
    """What the view already shows: Last-Event-ID on the browser's own reconnect, else the
    version the page was rendered at (htmx's SSE extension reconnects with a new EventSource,
    which sends no Last-Event-ID, so our script keeps the URL's version up to date)."""
    known = -1
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("version")):
        try:
            known = max(known, int(raw))
        except (TypeError, ValueError):
            continue
    return known


# --- public views ---------------------------------------------------------------------------


@bp.route("/live/<token>")
def projector(token: str):
    plan = public_plan_or_404(token)
    return render_template(
        "projector/projector.html",
        plan=plan,
        layout="projector",
        s=screens.screen(plan, "projector"),
        phone_url=phone_url(plan),
    )


@bp.route("/live/<token>/phone")
def phone(token: str):
    plan = public_plan_or_404(token)
    return render_template(
        "projector/phone.html",
        plan=plan,
        layout="phone",
        s=screens.screen(plan, "phone"),
    )


@bp.route("/live/<token>/events")
def events(token: str):
    """Server-sent events, each about a newer version: `delta` carries only the parts that
    changed since the version the view shows, `state` the whole live content (to a view further
    behind). A view that reconnects gets the current state once (never a replay of what it
    missed). A view that wakes when several versions are out sends only the latest."""
    plan = public_plan_or_404(token)
    plan_id = plan.id
    layout = request.args.get("layout", "projector")
    if layout not in LAYOUTS:
        abort(404)
    known = client_version()
    broker = live.broker()
    renders = cache()
    db.session.close()

    def stream():
        nonlocal known
        yield b"retry: 1000\n\n"
        version = live.current_version(plan_id)
        db.session.close()
        while not broker.closed:
            if version is not None and version > known:
                entry = renders.get(plan_id, layout, version)
                if entry is None or not entry.is_public or entry.token != token:
                    # Closed to the public (or a new address): say so, and end the stream.
                    closed = render_template("projector/_closed.html", plan_version=version)
                    yield state_event(version, closed)
                    return
                yield entry.message_for(known)
                known = entry.version
            version = broker.wait(plan_id, known, timeout=KEEP_ALIVE_SECONDS)
            if version is None:
                yield b": keep-alive\n\n"

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@bp.route("/live/<token>/qr.svg")
def qr_code(token: str):
    plan = public_plan_or_404(token)
    return qr_response(phone_url(plan))


def qr_response(address: str) -> Response:
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(address, error="m").save(
        buffer, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False,
        svgclass="qr", title=address,
    )  # fmt: skip
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"  # the address depends on the host asked
    return response


# --- the facilitator's screen control ------------------------------------------------------


def _control_response(plan: Plan, error=None, status: int = 200):
    if request.headers.get("HX-Request"):
        return region(REGIONS, "screen_control", plan, error=error or ""), status
    if error:
        flash(error, "error")
    return redirect(url_for("projector.screen_control", plan_id=plan.id))


@bp.route("/plans/<int:plan_id>/screen")
def screen_control(plan_id: int):
    plan = plan_for_editing(plan_id)
    return render_template("projector/screen.html", plan=plan)


@bp.route("/plans/<int:plan_id>/screen", methods=["POST"])
def choose_screen(plan_id: int):
    plan = plan_for_editing(plan_id)
    try:
        village_id = int(request.form.get("village_id") or 0) or None
    except ValueError:
        village_id = None
    try:
        screens.choose_screen(plan, request.form.get("mode", ""), village_id, actor=current_user())
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
