"""The sync API of the district server (planapp/sync): what a hall laptop calls with its
tambon's token, and nothing else does.

- `GET /api/sync/plans/<fiscal_year>`: the token's tambon's plan for the year, as the plan file
  (planapp/transfer/plan_json.py) and its version: `{"version": n, "plan": {...}}`; 404 if none.
- `POST /api/sync/plans/<fiscal_year>` with `{"base_version": n | null, "plan": {...}}`: 200
  `{"version": m}` when taken; 409 `{"error": "stale", "server_version", "plan",
  "differences"}` when the server's plan is no longer at `base_version` (nothing written);
  400 a plan file the import refuses; 403 a plan of another tambon or year.

Authenticated by `Authorization: Bearer <token>` only: no session, so no CSRF token (a cross-
site form cannot set the header); a session cookie opens nothing here, and the token opens
nothing else. Failed tokens slow their address down (doubling wait, 429 with Retry-After)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from planapp.accounts.throttle import Limit, LoginThrottle
from planapp.extensions import csrf, db
from planapp.i18n import gettext as _
from planapp.sync import server, tokens
from planapp.transfer import plan_json

bp = Blueprint("sync_api", __name__)
csrf.exempt(bp)

# Per client address: a few free failures, then a wait doubling from 1 s up to 15 minutes.
TOKEN_LIMITS = {"address": Limit(free=5, longest_wait=15 * 60)}


@bp.record_once
def _init(state) -> None:
    state.app.extensions["sync_throttle"] = LoginThrottle(
        state.app.config.get("SYNC_TOKEN_LIMITS", TOKEN_LIMITS)
    )


def _answer(status: int, **body):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _authenticated():
    """(token, None) for a live token; (None, the refusal) otherwise."""
    throttle = current_app.extensions["sync_throttle"]
    address = request.remote_addr or ""
    wait = throttle.retry_after(address, "")
    if wait:
        response = _answer(
            429,
            error="too_many",
            message=_("Too many wrong tokens. Try again in %(seconds)s seconds.", seconds=wait),
            retry_after=wait,
        )
        response.headers["Retry-After"] = str(wait)
        return None, response
    header = request.headers.get("Authorization", "")
    scheme, _space, raw = header.partition(" ")
    token = tokens.token_of(raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        throttle.failed(address, "")
        response = _answer(
            401, error="token", message=_("A valid sync token of the tambon is required.")
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="planapp-sync"'
        return None, response
    return token, None


@bp.route("/api/sync/plans/<int:fiscal_year>", methods=["GET"])
def plan(fiscal_year: int):
    token, refusal = _authenticated()
    if refusal is not None:
        return refusal
    found = server.plan_of(token, fiscal_year)
    if found is None:
        return _answer(404, error="no_plan", message=_("No plan of this tambon for that year."))
    return _answer(200, version=found.version, plan=plan_json.export_plan(found))


@bp.route("/api/sync/plans/<int:fiscal_year>", methods=["POST"])
def push(fiscal_year: int):
    token, refusal = _authenticated()
    if refusal is not None:
        return refusal
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "plan" not in body:
        return _answer(400, error="invalid", message=_("This is not a plan file (JSON)."))
    try:
        taken = server.accept_push(token, fiscal_year, body.get("base_version"), body["plan"])
    except plan_json.PlanImportError as error:
        db.session.rollback()
        return _answer(400, error="invalid", message=str(error.message))
    except server.WrongTambon:
        db.session.rollback()
        return _answer(403, error="other_tambon", message=_("The plan is of another tambon."))
    except server.StalePush as stale:
        db.session.rollback()
        return _answer(
            409,
            error="stale",
            message=_(
                "The plan was changed on the server after the version this push is based on. "
                "Pull it first."
            ),
            server_version=stale.server_version,
            plan=stale.server_document,
            differences=[found.as_json() for found in stale.differences],
        )
    db.session.commit()
    return _answer(200, version=taken.version)


@bp.errorhandler(413)
def too_large(error):
    return _answer(413, error="too_large", message=_("The plan is larger than this server takes."))
