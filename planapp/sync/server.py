"""The district server's side of a hall's sync: the plan a token's tambon may pull, and a pushed
plan taken in, or refused when the server's copy changed since the laptop's base version.

A push is the plan file (planapp/transfer/plan_json.py) with the server version it was pulled
or last pushed at (`base_version`). The server takes it only if its own plan is still at that
version (checked with the plan's write lock held, `changes.bump_version`), and then replaces its
plan as the file import does, recorded in the change log as a push (no user: the token's
tambon; no more powers than a facilitator's file). Otherwise nothing changes and the answer says
what differs (planapp/sync/differences.py)."""

from __future__ import annotations

from sqlalchemy import select

from planapp.changes import StaleVersion, bump_version
from planapp.extensions import db
from planapp.models import Plan, SyncToken, Tambon, utcnow
from planapp.sync.differences import Difference, differences
from planapp.transfer import plan_json


class WrongTambon(Exception):
    """The pushed plan is of another tambon or year than the token and address name."""


class StalePush(Exception):
    """The server's plan changed since the laptop's base version: nothing was written."""

    def __init__(self, plan: Plan, server_document: dict, found: list[Difference]):
        super().__init__(f"plan {plan.id} is at version {plan.version}")
        self.server_version = plan.version
        self.server_document = server_document
        self.differences = found


def plan_of(token: SyncToken, fiscal_year: int) -> Plan | None:
    """The token's tambon's plan for the year."""
    return db.session.scalar(
        select(Plan).where(Plan.tambon_id == token.tambon_id, Plan.fiscal_year == fiscal_year)
    )


def _same_tambon(document: dict, tambon: Tambon) -> bool:
    info = document["tambon"]
    return (info["province"], info["district"], info["name"]) == (
        tambon.province,
        tambon.district,
        tambon.name,
    )


def accept_push(token: SyncToken, fiscal_year: int, base_version, document) -> Plan:
    """Take the pushed plan in; the caller commits (or rolls back on an exception).
    Raises PlanImportError (a file the import refuses), WrongTambon, StalePush."""
    if base_version is not None and (
        not isinstance(base_version, int) or isinstance(base_version, bool) or base_version < 0
    ):
        raise plan_json.PlanImportError("base_version: a whole number or null.")
    document = plan_json.read_document(document)
    if document["plan"]["fiscal_year"] != fiscal_year or not _same_tambon(document, token.tambon):
        raise WrongTambon()
    plan = plan_of(token, fiscal_year)
    details = {"token_id": token.id, "base_version": base_version}
    if plan is None:  # prepared on the laptop, never on the server: the push makes it
        plan = plan_json.import_plan(document, actor=None, source="sync_push", details=details)
    else:
        try:
            if base_version is None:
                raise StaleVersion(plan.version)
            version = bump_version(plan, seen_version=base_version)
        except StaleVersion:
            db.session.rollback()
            plan = db.session.get(Plan, plan.id)
            server_document = plan_json.export_plan(plan)
            raise StalePush(plan, server_document, differences(document, server_document)) from None
        plan = plan_json.import_plan(
            document,
            actor=None,
            replace=plan,
            source="sync_push",
            details=details,
            version=version,
        )
    token.last_push_at = utcnow()
    return plan
