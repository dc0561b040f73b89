"""The hall laptop's side of a sync: pull the plan prepared on the district server before the
forum, push it back after. The server's address and the tambon's token are entered once per
plan (`SyncLink`); the link remembers the server version of the last pull or push
(`base_version`), which a push names so that the server can refuse to overwrite what was
changed there meanwhile, and this plan's version just after (`local_version`), so a pull over
changes made here asks first.

Every network call happens before anything is written (a write transaction never waits on the
network), and every answer that is no success raises `SyncRefused` with the words to show."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from planapp.extensions import db
from planapp.i18n import gettext as _
from planapp.models import Plan, SyncLink, User, utcnow
from planapp.sync import client
from planapp.sync.differences import Difference, differences
from planapp.transfer import plan_json


class SyncRefused(Exception):
    """A pull or push that did not happen: `message`, and what differs when that is why."""

    def __init__(
        self,
        message: str,
        found: list[Difference] | None = None,
        *,
        stale: bool = False,
        needs_confirmation: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.differences = found or []
        self.stale = stale
        self.needs_confirmation = needs_confirmation


@dataclass
class Pulled:
    plan: Plan
    server_version: int
    differences: list[Difference] = field(default_factory=list)


def link_of(plan: Plan) -> SyncLink | None:
    return db.session.get(SyncLink, plan.id)


def save_link(plan: Plan, server_url: str, token: str) -> SyncLink:
    """Where the plan syncs; an empty token keeps the one entered before. The caller commits.
    Raises ValueError for an address that is no http(s) address."""
    link = link_of(plan) or SyncLink(plan_id=plan.id)
    address = client.check_address(server_url)
    if address != link.server_url:
        link.base_version = None  # another server: nothing is known of its copy
        link.local_version = None
    link.server_url = address
    if token.strip():
        link.token = token.strip()
    db.session.add(link)
    return link


def changed_here(plan: Plan, link: SyncLink | None) -> bool:
    """Was this plan changed on the laptop since its last pull or push (or never synced)?"""
    return link is None or link.local_version is None or plan.version != link.local_version


def _call_server(method: str, server_url: str, fiscal_year: int, token: str, body=None):
    """The district server's sync API for the year, within SYNC_TIMEOUT; refused at once where
    this side of sync is off (a server shared by many tambons: the address is typed by users)."""
    if not current_app.config.get("SYNC_CLIENT", True):
        raise SyncRefused(
            _(
                "This server does not call other servers (PLANAPP_SYNC_CLIENT is off): pull "
                "and push from the hall laptop, which calls this server."
            )
        )
    return client.call(
        method,
        client.plan_url(server_url, fiscal_year),
        token,
        timeout=float(current_app.config.get("SYNC_TIMEOUT", 15)),
        body=body,
    )


def _refusal(answer: client.Answer, fiscal_year: int) -> SyncRefused:
    """The server's answer other than success, in the reader's words."""
    if answer.status == 401:
        return SyncRefused(
            _(
                "The server refused the token: it is mistyped or was revoked. Ask the district "
                "office for a new token and enter it again."
            )
        )
    if answer.status == 429:
        return SyncRefused(
            _(
                "Too many wrong tokens were tried from this address. Try again in %(seconds)s "
                "seconds.",
                seconds=answer.body.get("retry_after", 60),
            )
        )
    if answer.status == 404:
        return SyncRefused(
            _("The server has no plan of this tambon for %(year)s yet.", year=fiscal_year)
        )
    if answer.status == 403:
        return SyncRefused(
            _("The token is for another tambon than this plan's. Check the token you entered.")
        )
    if answer.status in (400, 413, 422):
        return SyncRefused(
            _(
                "The server did not take the plan: %(reason)s",
                reason=str(answer.body.get("message", answer.status))[:300],
            )
        )
    return SyncRefused(_("The server answered with an error (%(status)s).", status=answer.status))


def _ready(link: SyncLink | None) -> SyncLink:
    if link is None or not link.server_url or not link.token:
        raise SyncRefused(_("Enter the server's address and the token first."))
    return link


def fetch(server_url: str, token: str, fiscal_year: int) -> tuple[int, dict]:
    """The server's plan of the token's tambon for the year: (its version, its plan file)."""
    answer = _call_server("GET", server_url, fiscal_year, token)
    if answer.status != 200:
        raise _refusal(answer, fiscal_year)
    version, document = answer.body.get("version"), answer.body.get("plan")
    if not isinstance(version, int) or not isinstance(document, dict):
        raise SyncRefused(_("The server's answer is not a plan."))
    try:
        document = plan_json.read_document(document)
    except plan_json.PlanImportError as error:
        raise SyncRefused(str(error.message)) from None
    return version, document


def pull(plan: Plan, *, actor: User, replace_changes: bool) -> Pulled:
    """Replace this plan by the server's copy. Refused (nothing written) when the plan was
    changed here since the last sync, unless `replace_changes`: the refusal lists what the
    pull would change. The caller commits."""
    link = _ready(link_of(plan))
    version, document = fetch(link.server_url, link.token, plan.fiscal_year)
    tambon = plan.tambon
    info = document["tambon"]
    if (info["province"], info["district"], info["name"]) != (
        tambon.province,
        tambon.district,
        tambon.name,
    ) or document["plan"]["fiscal_year"] != plan.fiscal_year:
        raise SyncRefused(
            _("The token is for another tambon than this plan's. Check the token you entered.")
        )
    found = []
    if changed_here(plan, link) and not replace_changes:
        found = differences(plan_json.export_plan(plan), document)
    if found:
        raise SyncRefused(
            _(
                "This plan was changed on this laptop since it was last pulled or pushed. "
                "Pulling replaces it with the server's copy; the differences are below. Tick "
                "the box to pull anyway, or push first."
            ),
            found,
            needs_confirmation=True,
        )
    plan_json.import_plan(
        document,
        actor=actor,
        replace=plan,
        source="sync_pull",
        details={"server_version": version},
    )
    _synced(link, plan, version)
    return Pulled(plan, version, found)


def pull_new(server_url: str, token: str, fiscal_year: int, *, actor: User) -> Plan:
    """A plan prepared on the server that this laptop does not have yet: made here with its
    link. Refused when the laptop has that plan already (its own sync page pulls it)."""
    version, document = fetch(server_url, token, fiscal_year)
    if plan_json.existing_plan(document) is not None:
        raise SyncRefused(
            _("This laptop has that plan already: open it and pull from its sync page.")
        )
    tambon = plan_json.find_tambon(document)
    if tambon is None and not actor.is_admin:
        raise SyncRefused(
            _("This tambon is not on this laptop yet: an administrator of the laptop pulls it.")
        )
    if tambon is not None and not actor.can_edit_tambon(tambon):
        raise SyncRefused(_("You are not a facilitator of this tambon on this laptop."))
    plan = plan_json.import_plan(
        document, actor=actor, source="sync_pull", details={"server_version": version}
    )
    link = SyncLink(plan_id=plan.id, server_url=client.check_address(server_url), token=token)
    db.session.add(link)
    _synced(link, plan, version)
    return plan


def push(plan: Plan) -> int:
    """Send this plan to the server, based on the server version last pulled or pushed.
    Returns the server's new version; SyncRefused (stale, with the differences) when the
    server's copy changed since. The caller commits (the link's new base version)."""
    link = _ready(link_of(plan))
    document = plan_json.export_plan(plan)
    answer = _call_server(
        "POST",
        link.server_url,
        plan.fiscal_year,
        link.token,
        body={"base_version": link.base_version, "plan": document},
    )
    if answer.status == 409:
        theirs = answer.body.get("plan")
        found = differences(document, theirs) if isinstance(theirs, dict) else []
        raise SyncRefused(
            _(
                "The server's copy of this plan was changed after this laptop last pulled or "
                "pushed it (server version %(server)s, this laptop's base %(base)s). Nothing "
                "was sent: pushing would overwrite those changes. The differences are below; "
                "pull the server's copy instead, and make this laptop's changes again.",
                server=answer.body.get("server_version", "?"),
                base=link.base_version if link.base_version is not None else "—",
            ),
            found,
            stale=True,
        )
    if answer.status != 200 or not isinstance(answer.body.get("version"), int):
        raise _refusal(answer, plan.fiscal_year)
    _synced(link, plan, answer.body["version"])
    return answer.body["version"]


def _synced(link: SyncLink, plan: Plan, server_version: int) -> None:
    db.session.flush()
    link.base_version = server_version
    link.local_version = plan.version
    link.synced_at = utcnow()
