"""Walking the app's whole URL map: every route, with its arguments filled from the demo plan.

Used by tests/test_url_map.py (who may change what, GETs change nothing) and by the browser walk
in tests/test_security_browser.py (no page breaks the Content Security Policy). New routes are
covered as soon as they are registered; a route whose argument name is new fails with a message
saying where to teach `argument_values` how to fill it.
"""

from __future__ import annotations

import functools
import secrets
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import JSON, Text, cast, select

from planapp.ballots import rounds
from planapp.extensions import db
from planapp.models import (
    Agency,
    ChangeLog,
    Plan,
    Project,
    ReportJob,
    Strategy,
    SyncToken,
    Tambon,
    User,
    Village,
    VoteRound,
)

CHANGING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Routes anyone may POST to (they change no plan): signing in, out, the language choice, and
# the first run's administrator (only from the laptop itself while there is no user:
# tests/test_first_run.py checks who it refuses).
PUBLIC_CHANGES = {
    "accounts.login",
    "accounts.logout",
    "main.set_language",
    "main.first_administrator",
    # A phone's ballot: the ballot's secret is the permission (tests/test_ballots.py).
    "ballots.cast",
    "ballots.type_code",
}
# Routes any signed-in user may post to, whose check of who may do it depends on what is sent
# (the tambon inside an uploaded plan file, or the plan a sync token pulls); each has its own
# test of that check.
# The walk still proves they refuse visitors and requests without CSRF, and change nothing.
CONTENT_CHECKED_CHANGES = {"transfer.import_plan", "sync.pull_new"}
# Routes a roll-up reader (an officer) posts to that change no plan: they ask for an output to
# be built in the background, a row of report_jobs of their own (tests/test_report_jobs.py).
OUTPUT_REQUESTS = {"district.agency_export", "district.area_export"}
# The hall laptops' sync API (planapp/sync/api.py): a tambon's token is its only key. No
# session opens it (so it needs no CSRF token): every request the walk sends, signed in or not,
# is refused 401 and changes nothing (tests/test_sync.py uses real tokens).
TOKEN_ROUTES = {"sync_api.plan", "sync_api.push"}
# Routes never walked: Flask's static files.
SKIPPED = {"static"}


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    methods: frozenset[str]
    arguments: frozenset[str]

    def __str__(self) -> str:
        return f"{sorted(self.methods)} {self.rule} ({self.endpoint})"


def routes(app) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or rule.endpoint.endswith(".static"):
            continue
        methods = frozenset((rule.methods or set()) - {"HEAD", "OPTIONS"})
        found.append(Route(rule.endpoint, rule.rule, methods, frozenset(rule.arguments)))
    return sorted(found, key=lambda r: r.rule)


def changing_routes(app) -> list[Route]:
    return [r for r in routes(app) if r.methods & CHANGING_METHODS]


def reading_routes(app) -> list[Route]:
    return [r for r in routes(app) if "GET" in r.methods]


def view_of(app, route: Route):
    return app.view_functions[route.endpoint]


def is_admin_only(app, route: Route) -> bool:
    """Views wrapped in accounts.admin_required carry the mark."""
    return getattr(view_of(app, route), "admin_only", False)


def _first_id(model, *conditions):
    return db.session.scalar(select(model.id).where(*conditions).order_by(model.id).limit(1))


def argument_values(plan: Plan) -> dict:
    """Values for the URL arguments routes use, all pointing into the demo plan's tambon."""
    project_id = _first_id(Project, Project.plan_id == plan.id, Project.merged_into_id.is_(None))
    project = db.session.get(Project, project_id)
    agency_id = project.lead_agency_id or _first_id(Agency)
    vote_round = demo_vote_round(plan)
    ballot = rounds.round_ballots(vote_round)[0]
    values = {
        "plan_id": plan.id,
        "round_id": vote_round.id,
        "ballot_id": ballot.id,
        "ballot_token": ballot.token,
        "project_id": project_id,
        "other_project_id": _first_id(
            Project, Project.plan_id == plan.id, Project.id != project_id
        ),
        "target_id": _first_id(Project, Project.plan_id == plan.id, Project.id != project_id),
        "tambon_id": plan.tambon_id,
        "village_id": _first_id(Village, Village.tambon_id == plan.tambon_id),
        "agency_id": agency_id,
        "strategy_id": _first_id(Strategy),
        "token_id": demo_sync_token(plan).id,
        "user_id": _first_id(User),
        "change_id": _first_id(ChangeLog, ChangeLog.plan_id == plan.id),
        "entry_id": _first_id(ChangeLog, ChangeLog.plan_id == plan.id),
        "public_token": plan.public_token,
        "token": plan.public_token,
        "fiscal_year": plan.fiscal_year,
        "year": plan.fiscal_year,
        "group": "1",
        "urgency": "urgent",
        "filename": "x",
        "language": "th",
        "job_id": demo_job(),
    }
    return {name: value for name, value in values.items() if value is not None}


def demo_job() -> int | None:
    """A finished workbook job of the administrator (planapp/jobs): its page and file."""
    admin_id = _first_id(User, User.role == "admin")
    if admin_id is None:
        return None
    job_id = _first_id(ReportJob, ReportJob.user_id == admin_id)
    if job_id is None:
        job = ReportJob(
            user_id=admin_id, kind="area_workbook", fiscal_year=2570, language="th",
            status="done", done=1, total=1, file_name="x.xlsx", content=b"x",
        )  # fmt: skip
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    return job_id


def demo_vote_round(plan: Plan) -> VoteRound:
    """The plan's first vote round; made (group 1, two ballots of its first village) if none."""
    found = db.session.scalar(
        select(VoteRound).where(VoteRound.plan_id == plan.id).order_by(VoteRound.id).limit(1)
    )
    if found is None:
        village = plan.tambon.villages[0]
        found = rounds.create_round(plan, "1", 3, {village.id: 2}, actor=None)
        db.session.commit()
    return found


def demo_sync_token(plan: Plan) -> SyncToken:
    """A sync token of the demo tambon (planapp/sync); made if none (its secret is not kept)."""
    found = db.session.scalar(
        select(SyncToken).where(SyncToken.tambon_id == plan.tambon_id).order_by(SyncToken.id)
    )
    if found is None:
        found = SyncToken(
            tambon_id=plan.tambon_id, label="walk", digest=secrets.token_hex(32), hint="pst_walk"
        )
        db.session.add(found)
        db.session.commit()
    return found


def url_for_route(app, route: Route, values: dict) -> str:
    missing = sorted(route.arguments - values.keys())
    if missing:
        raise AssertionError(
            f"{route}: no demo value for URL argument(s) {missing}; "
            "add them to argument_values in tests/route_walk.py"
        )
    with app.test_request_context():
        from flask import url_for

        return url_for(route.endpoint, **{name: values[name] for name in route.arguments})


# Bookkeeping a read may write: a signed-in device's last request, noted once a minute so the
# session can end when idle (planapp/accounts/sessions.py).
NOT_DATA = {("user_sessions", "last_seen_at")}


def database_state() -> dict[str, Counter]:
    """Every row of every table, to prove that a request changed nothing at all: per table the
    rows (a multiset of tuples) as the database driver returns them, JSON columns as their text.
    Read through the driver's own cursor: the walks take this hundreds of times over tens of
    thousands of rows, and SQLAlchemy's conversion of each value cost most of their time."""
    db.session.expire_all()
    state = {}
    with db.engine.connect() as connection:
        cursor = connection.connection.cursor()
        try:
            for name, sql in _table_reads(connection.dialect.name):
                cursor.execute(sql)
                state[name] = Counter(map(tuple, cursor.fetchall()))
        finally:
            cursor.close()
    return state


@functools.cache
def _table_reads(dialect_name: str) -> list[tuple[str, str]]:
    """Each table's read as SQL text, compiled once per database kind (compiling it on every
    `database_state` was most of what the walks spent there)."""
    dialect = db.engine.dialect
    assert dialect.name == dialect_name
    reads = []
    for table in db.metadata.sorted_tables:
        columns = [
            cast(c, Text) if isinstance(c.type, JSON) else c
            for c in table.columns
            if (table.name, c.name) not in NOT_DATA
        ]
        reads.append((table.name, str(select(*columns).compile(dialect=dialect))))
    return reads


def outsider_plan() -> Plan:
    """A second tambon with its own plan: the outsider facilitator's."""
    tambon = Tambon(name="โนนสูง", district="เมือง", province="ขอนแก่น")
    db.session.add(tambon)
    db.session.flush()
    plan = Plan(tambon_id=tambon.id, fiscal_year=2570)
    db.session.add(plan)
    db.session.commit()
    return plan
