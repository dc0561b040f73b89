"""A whole plan as one JSON document, to move it between servers (laptop in the hall, district
server) and back without loss. The change log stays on the server where it was written.

Rows are written by their natural keys, never by database ids (which differ between servers):
the tambon by province/district/name, villages by number, agencies by name, strategies by level
and code, projects by a key local to the document. Every column of Plan and Project is written
(read from the table definitions, so a column added later travels too); tests/test_plan_json.py
fails if a new table hangs off a plan or project without being carried here.
"""

from __future__ import annotations

import base64
import math
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, delete, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from planapp.areas import nearest_area_first, strategies_for_tambon
from planapp.domain import FUNDING_GROUPS, GROUPS, PROJECTOR_MODES
from planapp.extensions import db
from planapp.i18n import gettext as _
from planapp.models import (
    Agency,
    ChangeLog,
    PendingImport,
    Plan,
    Project,
    Strategy,
    SyncLink,
    Tambon,
    User,
    Village,
    VoteRound,
)

FORMAT = "planapp-plan"
FORMAT_VERSION = 1

# Columns that are database ids or references, written by natural key instead.
PLAN_SKIP = {"id", "tambon_id", "version"}
PROJECT_SKIP = {
    "id",
    "plan_id",
    "lead_agency_id",
    "merged_into_id",
    "carried_over_from_id",
    "proposed_by_id",
}
# What a file may hold: nesting a real plan never needs, and integers its columns can store.
MAX_DEPTH = 12
MAX_BIG_INTEGER = 2**63 - 1  # BigInteger columns (budgets in satang)
MAX_INTEGER = 2**31 - 1  # Integer columns on PostgreSQL
MAX_VILLAGE_NUMBER = 999  # as the village form takes it


class PlanImportError(Exception):
    """The document cannot be imported; `field` is where the message belongs."""

    def __init__(self, message, field: str = "file"):
        super().__init__(str(message))
        self.message = message
        self.field = field


def _columns(model, skip: set[str]):
    return [c for c in sa_inspect(model).columns if c.key not in skip]


def _to_json(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _from_json(column, value, where: str):
    """A JSON value back into the column's Python type, refusing what does not fit."""
    if value is None:
        if not column.nullable and column.default is None and column.server_default is None:
            raise PlanImportError(_("%(where)s: a value is required.", where=where))
        return None
    kind = column.type
    try:
        if isinstance(kind, DateTime):
            return datetime.fromisoformat(value)
        if isinstance(kind, Date):
            return date.fromisoformat(value)
        if isinstance(kind, Boolean):
            if not isinstance(value, bool):
                raise TypeError
            return value
        if isinstance(kind, Integer):  # also BigInteger
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError
            limit = MAX_BIG_INTEGER if isinstance(kind, BigInteger) else MAX_INTEGER
            if abs(value) > limit:
                raise PlanImportError(gettext("%(where)s: the number is too large.", where=where))
            return value
        length = getattr(kind, "length", None)
        if hasattr(kind, "length"):  # String and Text
            if not isinstance(value, str):
                raise TypeError
            if "\x00" in value:
                raise PlanImportError(_("%(where)s: text contains a NUL character.", where=where))
            if length is not None and len(value) > length:
                raise PlanImportError(
                    _("%(where)s: at most %(num)d characters.", where=where, num=length)
                )
            return value
        return value  # JSON columns
    except (TypeError, ValueError):
        raise PlanImportError(_("%(where)s: a value of the wrong kind.", where=where)) from None


# --- export -------------------------------------------------------------------------------


def export_plan(plan: Plan) -> dict:
    tambon = plan.tambon
    # Each project's links in a few statements, not a few per project (a sync pulls and
    # pushes whole plans: bench/sync.py).
    projects = db.session.scalars(
        select(Project)
        .where(Project.plan_id == plan.id)
        .order_by(Project.id)
        .options(
            selectinload(Project.villages),
            selectinload(Project.supporting_agencies),
            selectinload(Project.strategies).joinedload(Strategy.parent),
            joinedload(Project.lead_agency),
            joinedload(Project.proposed_by),
        )
    ).all()
    agencies = {a.id: a for a in db.session.scalars(select(Agency)).all()}
    used_agencies = {tambon.local_admin_agency_id} if tambon.local_admin_agency_id else set()
    used_strategies: dict[int, Strategy] = {}
    project_rows = []
    for project in projects:
        row = {"key": project.id}
        for column in _columns(Project, PROJECT_SKIP):
            row[column.key] = _to_json(getattr(project, column.key))
        row["villages"] = [v.number for v in project.villages]
        row["proposed_by"] = project.proposed_by.number if project.proposed_by else None
        row["lead_agency"] = project.lead_agency.name if project.lead_agency else None
        row["supporting_agencies"] = [a.name for a in project.supporting_agencies]
        row["strategies"] = [[s.level, s.code] for s in project.strategies]
        row["merged_into"] = project.merged_into_id
        row["carried_over_from"] = _carried_over_reference(project, plan)
        if project.lead_agency_id:
            used_agencies.add(project.lead_agency_id)
        used_agencies.update(a.id for a in project.supporting_agencies)
        used_strategies.update({s.id: s for s in project.strategies})
        # A tactic travels with the strategy it belongs to.
        used_strategies.update({s.parent.id: s.parent for s in project.strategies if s.parent})
        project_rows.append(row)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tambon": {
            "name": tambon.name,
            "district": tambon.district,
            "province": tambon.province,
            "local_admin_agency": (
                tambon.local_admin_agency.name if tambon.local_admin_agency else None
            ),
            "villages": [{"number": v.number, "name": v.name} for v in tambon.villages],
        },
        "agencies": [
            {"name": agencies[i].name, "kind": agencies[i].kind}
            for i in sorted(used_agencies)
            if i in agencies
        ],
        "strategies": [
            {
                "level": s.level,
                "code": s.code,
                "name": s.name,
                "parent": [s.parent.level, s.parent.code] if s.parent else None,
            }
            for s in sorted(used_strategies.values(), key=lambda s: (s.level, s.code))
        ],
        "plan": {c.key: _to_json(getattr(plan, c.key)) for c in _columns(Plan, PLAN_SKIP)},
        "projects": project_rows,
        "plan_tables": {
            model.__tablename__: _export_plan_rows(model, plan) for model in plan_child_models()
        },
    }


# --- other tables of a plan (the meeting's attendance, groups, timers, and any added later) ---


# Stay on the server where they were made, as the change log does: a vote round's ballots are
# printed secrets for that server's address (their counts travel as the projects' votes); an
# Excel file waiting for its confirmation belongs to the session that uploaded it.
# Where a laptop's plan syncs (its server and token) stays on that laptop.
LEFT_BEHIND = (ChangeLog, VoteRound, PendingImport, SyncLink)


def plan_child_models() -> list:
    """Every model, other than projects and what stays behind, whose rows belong to one plan."""
    found = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if model in (Project, Plan, *LEFT_BEHIND):
            continue
        if any(
            key.column.table.name == "plans" and key.parent.name == "plan_id"
            for key in model.__table__.foreign_keys
        ):
            found.append(model)
    return sorted(found, key=lambda m: m.__tablename__)


def _reference(column):
    """(kind, key in the document) of a column referring to another table, else None."""
    for key in column.foreign_keys:
        table = key.column.table.name
        if table == "villages":
            return "village", column.key.removesuffix("_id") + "_number"
        if table == "users":
            return "user", column.key.removesuffix("_id") + "_username"
        if table == "projects":
            return "project", column.key.removesuffix("_id") + "_key"
        if table == "agencies":
            return "agency", column.key.removesuffix("_id") + "_name"
        raise NotImplementedError(f"plan file: {column.table.name}.{column.key} -> {table}")
    return None


def _export_plan_rows(model, plan: Plan) -> list[dict]:
    rows = []
    for item in db.session.scalars(select(model).where(model.plan_id == plan.id)):
        row = {}
        for column in _columns(model, {"plan_id"}):
            value = getattr(item, column.key)
            reference = _reference(column)
            if reference is None:
                row[column.key] = _to_json(value)
                continue
            kind, name = reference
            if value is None:
                row[name] = None
            elif kind == "village":
                row[name] = db.session.get(Village, value).number
            elif kind == "user":
                user = db.session.get(User, value)
                row[name] = user.username if user else None
            elif kind == "agency":
                row[name] = db.session.get(Agency, value).name
            else:
                row[name] = value
        rows.append(row)
    return rows


def _import_plan_rows(
    document, plan: Plan, villages: dict, by_key: dict, kinds: dict, actor: User | None
) -> None:
    tables = document.get("plan_tables") or {}
    if not isinstance(tables, dict):
        raise PlanImportError(_l("plan_tables is missing or of the wrong kind."))
    for model in plan_child_models():
        db.session.execute(delete(model).where(model.plan_id == plan.id))
        rows = tables.get(model.__tablename__) or []
        if not isinstance(rows, list):
            raise PlanImportError(
                _("%(where)s is missing or of the wrong kind.", where=model.__tablename__)
            )
        for number, row in enumerate(rows, start=1):
            where = f"{model.__tablename__} {number}"
            if not isinstance(row, dict):
                raise PlanImportError(_("%(where)s is missing or of the wrong kind.", where=where))
            item = model(plan_id=plan.id)
            for column in _columns(model, {"plan_id"}):
                reference = _reference(column)
                if reference is None:
                    if column.key in row:
                        setattr(item, column.key, _from_json(column, row[column.key], where))
                    continue
                kind, name = reference
                value = row.get(name)
                if value is not None and not (isinstance(value, str) or _whole(value)):
                    raise PlanImportError(
                        gettext("%(where)s: a reference of the wrong kind.", where=where)
                    )
                if value is None:
                    setattr(item, column.key, None)
                elif kind == "village":
                    if value not in villages:
                        raise PlanImportError(_("%(where)s: unknown village.", where=where))
                    setattr(item, column.key, villages[value].id)
                elif kind == "user":
                    # A file speaks for the one who imports it: it may name them (who confirmed
                    # a group), never another user; anyone else is left out.
                    named = actor is not None and value == actor.username
                    setattr(item, column.key, actor.id if named else None)
                elif kind == "agency":
                    if not isinstance(value, str):
                        raise PlanImportError(_("%(where)s: unknown agency.", where=where))
                    setattr(item, column.key, _agency(value, kinds).id)
                else:
                    if value not in by_key:
                        raise PlanImportError(_("%(where)s: unknown project.", where=where))
                    setattr(item, column.key, by_key[value].id)
            db.session.add(item)
        try:
            db.session.flush()
        except (IntegrityError, DataError) as error:
            raise PlanImportError(
                _("%(where)s: a value this server refuses.", where=model.__tablename__)
            ) from error


def _carried_over_reference(project: Project, plan: Plan):
    """A project carried over from last year's plan points into another plan: written as that
    plan's fiscal year and the project's title, found again on import if that plan is there."""
    if project.carried_over_from_id is None:
        return None
    source = db.session.get(Project, project.carried_over_from_id)
    if source is None:
        return None
    if source.plan_id == plan.id:
        return {"key": source.id}
    return {"fiscal_year": source.plan.fiscal_year, "title": source.title}


# --- import -------------------------------------------------------------------------------


def _require(mapping, name: str, kind, where: str):
    value = mapping.get(name) if isinstance(mapping, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise PlanImportError(_("%(where)s is missing or of the wrong kind.", where=where))
    return value


def _check_values(document) -> None:
    """Refuse what no column can hold, wherever it sits in the file: text with NUL (PostgreSQL
    cannot even compare it), integers past 2^63, NaN and infinity, nesting no plan has."""
    pending = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise PlanImportError(gettext("The plan file is nested deeper than a plan can be."))
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise PlanImportError(gettext("The plan file has text with a NUL character."))
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_BIG_INTEGER:
                raise PlanImportError(gettext("The plan file has a number too large to store."))
        elif isinstance(value, float) and not math.isfinite(value):
            raise PlanImportError(gettext("The plan file has a number too large to store."))


def _reference_kinds(document) -> None:
    """References are looked up by value: each must be of the kind its lookup expects."""
    for row in document["agencies"]:
        if not isinstance(row, dict) or not _texts(row.get("name"), row.get("kind")):
            raise PlanImportError(gettext("agencies: an agency without a name and kind."))
    for number, row in enumerate(document["projects"], start=1):
        where = gettext("Project %(num)d", num=number)
        numbers = row.get("villages") or []
        merged = row.get("merged_into")
        carried = row.get("carried_over_from")
        lead = row.get("lead_agency")
        if (
            not isinstance(numbers, list)
            or not all(_whole(n) for n in numbers)
            or not (merged is None or _whole(merged))
            or not (lead is None or isinstance(lead, str))
            or not (carried is None or isinstance(carried, dict))
        ):
            raise PlanImportError(gettext("%(where)s: a reference of the wrong kind.", where=where))


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_document(document) -> dict:
    """Check the document's shape before anything is written."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PlanImportError(_l("This is not a plan exported from planapp."))
    if document.get("format_version") != FORMAT_VERSION:
        raise PlanImportError(_l("This plan file comes from another version of planapp."))
    _check_values(document)
    tambon = _require(document, "tambon", dict, "tambon")
    for name in ("name", "district", "province"):
        _require(tambon, name, str, f"tambon.{name}")
    _require(document, "plan", dict, "plan")
    year = _require(document["plan"], "fiscal_year", int, "plan.fiscal_year")
    if not 2400 <= year <= 2800:
        raise PlanImportError(_l("plan.fiscal_year: a Buddhist Era year."))
    for name in ("villages",):
        _require(tambon, name, list, f"tambon.{name}")
    for name in ("agencies", "strategies", "projects"):
        _require(document, name, list, name)
    keys = set()
    for number, row in enumerate(document["projects"], start=1):
        if not isinstance(row, dict):
            raise PlanImportError(_("Project %(num)d is not readable.", num=number))
        key = row.get("key")
        if not isinstance(key, int) or isinstance(key, bool) or key in keys:
            raise PlanImportError(_("Project %(num)d has no key of its own.", num=number))
        keys.add(key)
    _reference_kinds(document)
    return document


def find_tambon(document) -> Tambon | None:
    info = document["tambon"]
    return db.session.scalar(
        select(Tambon).where(
            Tambon.province == info["province"],
            Tambon.district == info["district"],
            Tambon.name == info["name"],
        )
    )


def existing_plan(document) -> Plan | None:
    tambon = find_tambon(document)
    if tambon is None:
        return None
    return db.session.scalar(
        select(Plan).where(
            Plan.tambon_id == tambon.id, Plan.fiscal_year == document["plan"]["fiscal_year"]
        )
    )


def _agency(name: str, kinds: dict[str, str]) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.name == name))
    if agency is None:
        kind = kinds.get(name, "government")
        if kind not in ("local", "government", "private", "community"):
            raise PlanImportError(_("Agency %(name)s: unknown kind.", name=name))
        if len(name) > 300 or "\x00" in name or not name.strip():
            raise PlanImportError(_("Agency %(name)s: the name is not usable.", name=name[:80]))
        agency = Agency(name=name, kind=kind)
        db.session.add(agency)
        db.session.flush()
    return agency


def _texts(*values) -> bool:
    return all(isinstance(value, str) for value in values)


def _strategy(
    level: str,
    code: str,
    names: dict,
    parents: dict | None = None,
    *,
    may_create: bool,
    tambon: Tambon,
) -> Strategy:
    """The strategy this server has under (level, code) among those that apply to the tambon
    (planapp/areas.py; the nearest area first: its อปท.'s, district's, province's, national),
    else created from the document as a national one: with the strategy it is a tactic of, when
    the document names one (one level deep). A strategy this server already has keeps its name
    and place. Strategies are set up by administrators: a facilitator's file may only name
    those the server has."""
    strategy = db.session.scalar(
        select(Strategy)
        .where(Strategy.level == level, Strategy.code == code, strategies_for_tambon(tambon))
        .order_by(*nearest_area_first())
        .limit(1)
    )
    if strategy is None and not may_create:
        raise PlanImportError(
            gettext(
                "Strategy %(code)s is not on this server, and only an administrator can add "
                "strategies. Ask the district office to add it, or to import this file.",
                code=code[:40],
            )
        )
    if strategy is None:
        if level not in ("province", "district", "local") or not isinstance(code, str):
            raise PlanImportError(_l("A strategy of an unknown level."))
        name = names.get((level, code), code)
        if len(code) > 40 or len(name) > 500 or "\x00" in code + name:
            raise PlanImportError(_("Strategy %(code)s is not usable.", code=code[:40]))
        strategy = Strategy(level=level, code=code, name=name)
        parent = (parents or {}).get((level, code))
        if parent is not None and parent != (level, code):
            strategy.parent = _strategy(*parent, names, may_create=may_create, tambon=tambon)
            if strategy.parent.parent_id is not None:
                strategy.parent = None  # tactics are one level deep
        db.session.add(strategy)
        db.session.flush()
    return strategy


def _is_admin(actor: User | None) -> bool:
    return actor is not None and actor.is_admin


def _tambon_for_import(document, actor: User | None) -> Tambon:
    info = document["tambon"]
    tambon = find_tambon(document)
    if tambon is None:
        if not _is_admin(actor):
            raise PlanImportError(_l("This tambon is not on this server yet."))
        for name in ("name", "district", "province"):
            if not info[name].strip() or len(info[name]) > 200 or "\x00" in info[name]:
                raise PlanImportError(_l("The tambon's name is not usable."))
        tambon = Tambon(name=info["name"], district=info["district"], province=info["province"])
        db.session.add(tambon)
        db.session.flush()
    # Which administration receives the plan is the tambon's setting (administrators only).
    if _is_admin(actor) and tambon.local_admin_agency_id is None and info.get("local_admin_agency"):
        kinds = {a.get("name"): a.get("kind") for a in document["agencies"] if isinstance(a, dict)}
        tambon.local_admin_agency = _agency(info["local_admin_agency"], kinds)
    # Villages are matched by number; missing ones are added (names on this server are kept).
    have = {v.number for v in tambon.villages}
    for row in info["villages"]:
        number = _require(row, "number", int, "village number")
        name = _require(row, "name", str, "village name")
        if not 0 < number <= MAX_VILLAGE_NUMBER or len(name) > 200 or "\x00" in name:
            raise PlanImportError(_("Village %(num)s is not usable.", num=number))
        if number not in have:
            db.session.add(Village(tambon_id=tambon.id, number=number, name=name))
            have.add(number)
    db.session.flush()
    db.session.refresh(tambon)
    return tambon


def import_plan(
    document,
    *,
    actor: User | None,
    replace: Plan | None = None,
    source: str = "file",
    details: dict | None = None,
    version: int | None = None,
) -> Plan:
    """Write the document's plan as `actor`; the caller has checked they may change its tambon,
    and commits. `actor` None: a hall laptop's push (planapp/sync), with no more powers than a
    facilitator's file. `source` and `details` go into the change log; `version`: the caller
    has bumped the plan's version already (a push checked against its base version).

    The file may do what its importer may do in the screens: an administrator's may bring in a
    tambon, strategies, the public address; a facilitator's only links existing strategies, and
    the plan keeps this server's public address and public flag.

    With `replace`, that plan (same tambon and fiscal year) keeps its row, its address and its
    change log, and its projects are replaced by the document's. Raises PlanImportError with
    nothing flushed that the caller's rollback would not undo.
    """
    from planapp.changes import record_change

    document = read_document(document)
    tambon = _tambon_for_import(document, actor)
    villages = {v.number: v for v in tambon.villages}
    kinds = {a.get("name"): a.get("kind") for a in document["agencies"] if isinstance(a, dict)}
    strategy_names = {
        (s.get("level"), s.get("code")): s.get("name")
        for s in document["strategies"]
        if isinstance(s, dict) and _texts(s.get("level"), s.get("code"), s.get("name"))
    }
    strategy_parents = {
        (s.get("level"), s.get("code")): tuple(s["parent"])
        for s in document["strategies"]
        if isinstance(s, dict)
        and _texts(s.get("level"), s.get("code"))
        and isinstance(s.get("parent"), list)
        and len(s["parent"]) == 2
        and _texts(*s["parent"])
    }

    plan_values = {}
    server_keeps = {"public_token"} if _is_admin(actor) else {"public_token", "is_public"}
    for column in _columns(Plan, PLAN_SKIP | server_keeps):
        if column.key in document["plan"]:
            plan_values[column.key] = _from_json(
                column, document["plan"][column.key], f"plan.{column.key}"
            )
    if plan_values.get("grouping", "strategy") not in ("strategy", "issue"):
        raise PlanImportError(_l("plan.grouping: unknown value."))
    _check_plan_values(plan_values, villages)

    if replace is not None:
        plan = replace
        for project in list(plan.projects):
            project.merged_into_id = None
            project.rank = None
        db.session.flush()
        for project in list(plan.projects):
            db.session.delete(project)
        db.session.flush()
        # Undo must not reach across the import into projects that no longer exist.
        for entry in db.session.scalars(select(ChangeLog).where(ChangeLog.plan_id == plan.id)):
            entry.undone = True
    else:
        plan = Plan(tambon_id=tambon.id, fiscal_year=plan_values["fiscal_year"])
        token = document["plan"].get("public_token") if _is_admin(actor) else None
        if isinstance(token, str) and 16 <= len(token) <= 64 and token.isascii():
            taken = db.session.scalar(select(Plan.id).where(Plan.public_token == token))
            if taken is None:
                plan.public_token = token  # the projector's QR code keeps working
        db.session.add(plan)
    for key, value in plan_values.items():
        setattr(plan, key, value)
    try:
        db.session.flush()
    except (IntegrityError, DataError) as error:  # a CHECK the checks above do not know yet
        raise PlanImportError(gettext("plan: a value this server refuses.")) from error

    by_key: dict[int, Project] = {}
    imported_at: dict[int, object] = {}
    file_ranks: dict[int, int | None] = {}
    rows = document["projects"]
    for number, row in enumerate(rows, start=1):
        where = _("Project %(num)d", num=number)
        project = Project(plan_id=plan.id)
        for column in _columns(Project, PROJECT_SKIP):
            if column.key in row:
                setattr(project, column.key, _from_json(column, row[column.key], str(where)))
        if not isinstance(project.title, str):
            raise PlanImportError(_("%(where)s: a value is required.", where=where))
        if (project.funding_group or "unsorted") not in GROUPS:
            raise PlanImportError(_("%(where)s: unknown funding group.", where=where))
        numbers = row.get("villages") or []
        if not isinstance(numbers, list) or any(n not in villages for n in numbers):
            raise PlanImportError(_("%(where)s: unknown village.", where=where))
        project.villages = [villages[n] for n in numbers]
        # Whose own list the village rank orders: named by number (older files: the first).
        proposer = row.get("proposed_by")
        if proposer is not None and proposer not in numbers:
            raise PlanImportError(_("%(where)s: unknown village.", where=where))
        if numbers:
            project.proposed_by = villages[numbers[0] if proposer is None else proposer]
        lead = row.get("lead_agency")
        project.lead_agency = _agency(lead, kinds) if isinstance(lead, str) else None
        supporting = row.get("supporting_agencies") or []
        if not isinstance(supporting, list) or not all(isinstance(n, str) for n in supporting):
            raise PlanImportError(_("%(where)s: unreadable agencies.", where=where))
        project.supporting_agencies = [_agency(name, kinds) for name in supporting]
        strategies = row.get("strategies") or []
        if not isinstance(strategies, list) or not all(
            isinstance(s, list) and len(s) == 2 and _texts(*s) for s in strategies
        ):
            raise PlanImportError(_("%(where)s: unreadable strategies.", where=where))
        project.strategies = [
            _strategy(
                level,
                code,
                strategy_names,
                strategy_parents,
                may_create=_is_admin(actor),
                tambon=tambon,
            )
            for level, code in strategies
        ]
        # Ranks are written once every project exists (and the column is renumbered), so no
        # transient clash is possible: each project's flush would write the earlier ones'.
        file_ranks[row["key"]] = project.rank
        project.rank = None
        db.session.add(project)
        try:
            db.session.flush()
        except (IntegrityError, DataError) as error:  # a CHECK: negative budget, unknown code
            raise PlanImportError(
                _("%(where)s: a value this server refuses.", where=where)
            ) from error
        by_key[row["key"]] = project
        imported_at[project.id] = project.updated_at

    _check_merges(rows)
    seen = set()
    for row in rows:
        project = by_key[row["key"]]
        merged = row.get("merged_into")
        if merged is not None:
            project.merged_into_id = by_key[merged].id
            project.rank = None  # a merged project has left the board: it holds no place
        elif file_ranks[row["key"]] is not None:
            if (project.funding_group, file_ranks[row["key"]]) in seen:
                raise PlanImportError(_l("Two projects share one rank in a group."))
            seen.add((project.funding_group, file_ranks[row["key"]]))
        reference = row.get("carried_over_from")
        project.carried_over_from_id = _carried_over_id(reference, by_key, tambon)
    _rank_columns([(by_key[row["key"]], file_ranks[row["key"]]) for row in rows])
    try:
        db.session.flush()
    except (IntegrityError, DataError) as error:
        raise PlanImportError(_l("A project has a value this server refuses.")) from error
    # Setting ranks and links touched updated_at; put back the times the document carries.
    _import_plan_rows(document, plan, villages, by_key, kinds, actor)
    times = [{"id": pid, "updated_at": at} for pid, at in imported_at.items() if at is not None]
    if times:
        db.session.execute(update(Project), times)
    record_change(
        plan,
        "import",
        actor=actor,
        details={"count": len(rows), "source": source, **(details or {})},
        version=version,
    )
    return plan


def _check_plan_values(values: dict, villages: dict) -> None:
    """The plan's own values the database would refuse, refused with a message first."""
    step = values.get("meeting_step")
    if step is not None and not 1 <= step <= 7:
        raise PlanImportError(gettext("plan.meeting_step: a step from 1 to 7."))
    if values.get("projector_mode", "board") not in PROJECTOR_MODES:
        raise PlanImportError(gettext("plan.projector_mode: a screen this planapp does not have."))
    if values.get("projector_group") not in (None, *FUNDING_GROUPS):
        raise PlanImportError(gettext("plan.projector_group: group 1, 2 or 3."))
    start = values.get("plan_start_year")
    if start is not None and not 2400 <= start <= 2800:
        raise PlanImportError(gettext("plan.plan_start_year: a Buddhist Era year."))
    number = values.get("projector_village_number")
    if number is not None and number not in villages:
        raise PlanImportError(gettext("plan.projector_village_number: unknown village."))


def _check_merges(rows: list[dict]) -> None:
    """A merged project points at an active project of the same file: never at itself, at a
    project missing from the file, or at one that is merged in turn (no chains, so no cycles,
    which would take every project of the cycle off the board)."""
    merged_into = {row["key"]: row.get("merged_into") for row in rows}
    for number, row in enumerate(rows, start=1):
        target = row.get("merged_into")
        if target is None:
            continue
        if target == row["key"] or target not in merged_into:
            raise PlanImportError(_l("A merged project points nowhere."))
        if merged_into[target] is not None:
            raise PlanImportError(
                gettext(
                    "Project %(num)d is merged into a project that is merged itself; a merged "
                    "project points at an active one.",
                    num=number,
                )
            )


def _rank_columns(projects: list[tuple[Project, int | None]]) -> None:
    """Ranks 1..n in every column, in the order of the file's ranks (unranked ones last, in
    file order): a file with gaps, or cards without a rank, gives a board as the screens keep
    it. Merged projects hold no place."""
    columns: dict[str, list[tuple]] = {}
    for position, (project, rank) in enumerate(projects):
        if project.merged_into_id is None:
            key = (rank is None, rank or 0, position)
            columns.setdefault(project.funding_group or "unsorted", []).append((key, project))
    for column in columns.values():
        for rank, (_key, project) in enumerate(sorted(column, key=lambda item: item[0]), 1):
            project.rank = rank


def _carried_over_id(reference, by_key: dict[int, Project], tambon: Tambon) -> int | None:
    if not isinstance(reference, dict):
        return None
    if "key" in reference:
        source = by_key.get(reference["key"]) if _whole(reference["key"]) else None
        return source.id if source is not None else None
    year, title = reference.get("fiscal_year"), reference.get("title")
    if not _whole(year) or not 2400 <= year <= 2800 or not isinstance(title, str):
        return None
    return db.session.scalar(
        select(Project.id)
        .join(Plan, Project.plan_id == Plan.id)
        .where(Plan.tambon_id == tambon.id, Plan.fiscal_year == year, Project.title == title)
        .limit(1)
    )
