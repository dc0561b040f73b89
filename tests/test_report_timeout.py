"""Forum traffic never waits behind a report (issue 18): on PostgreSQL every report page runs its
queries under `statement_timeout` (REPORT_STATEMENT_TIMEOUT_MS, SET LOCAL in its transaction);
a report that hits it answers 503 with a plain message, and the database has really cancelled
the statement. On SQLite the setting is ignored."""

from __future__ import annotations

import os
import threading

import pytest
from flask import request_finished
from sqlalchemy import select, text

from planapp.extensions import db
from planapp.models import Agency
from tests.conftest import make_user

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="statement_timeout is PostgreSQL's (TEST_DATABASE_URL is SQLite)"
)

REPORTS = [
    "/district",
    "/district?province={province}",
    "/district/strategies",
    "/agencies",
    "/agencies/{agency}",
    "/agencies/{agency}/export.xlsx",
    "/district/export.xlsx?province={province}",
]
MESSAGE = "This report took too long and was stopped"


@pytest.fixture
def reports(app, demo_plan):
    """The report addresses with the demo's province and an agency of its plan; an
    administrator's client (English, for the message)."""
    make_user("admin", "admin")
    client = app.test_client()
    client.login("admin")
    client.post("/language", data={"language": "en", "next": "/"})
    agency = db.session.scalars(select(Agency.id).order_by(Agency.id)).first()
    province = demo_plan.tambon.province
    urls = [url.format(agency=agency, province=province) for url in REPORTS]
    db.session.commit()
    return client, urls


def waiting_statements(connection) -> list:
    """Statements of this database other than the checker's own that are running or waiting."""
    return connection.execute(
        text(
            "SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (state = 'active' OR wait_event_type = 'Lock')"
        )
    ).all()


@needs_postgres
@pytest.mark.parametrize("index", range(len(REPORTS)), ids=REPORTS)
def test_a_report_past_the_limit_is_cancelled_on_the_database_and_says_so(app, reports, index):
    """Another transaction holds the plans table (as a long write or a heavy query would): the
    report's query waits for it, the database cancels it at the limit, and the page says so
    with 503 while the lock is still held: nothing of the report is left on the database."""
    client, urls = reports
    app.config["REPORT_STATEMENT_TIMEOUT_MS"] = 200
    answers = []
    engine = db.engine
    with engine.connect() as blocker, engine.connect() as checker:
        blocker.execute(text("LOCK TABLE plans IN ACCESS EXCLUSIVE MODE"))
        try:
            request = threading.Thread(target=lambda: answers.append(client.get(urls[index])))
            request.start()
            # Not a timing assertion: without the limit the request would wait on the lock
            # for as long as it is held; the join only keeps the test from hanging then.
            request.join(timeout=60)
            assert not request.is_alive(), "the report is still waiting on the database"
            assert waiting_statements(checker) == []
        finally:
            blocker.rollback()
    [response] = answers
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    page = response.get_data(as_text=True)
    assert MESSAGE in page
    assert 'data-error-status="503"' in page
    assert "Traceback" not in page


@needs_postgres
def test_the_limit_ends_with_the_report_and_forum_pages_have_none(app, reports, demo_plan):
    """The report's transaction has the limit; the connection it used goes back to the pool
    without it, and the forum's own pages never get it."""
    client, urls = reports
    board = f"/plans/{demo_plan.id}/board"
    app.config["REPORT_STATEMENT_TIMEOUT_MS"] = 20000
    seen = []

    def remember_setting(sender, response, **extra):
        seen.append(db.session.execute(text("SHOW statement_timeout")).scalar())

    with request_finished.connected_to(remember_setting, app):
        assert client.get(urls[0]).status_code == 200
        # The end of a request, as the server's teardown does it (the tests' client shares one
        # session across requests): the connection goes back to the pool.
        db.session.remove()
        assert client.get(board).status_code == 200
    assert seen == ["20s", "0"]
    with db.engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"


@pytest.mark.sqlite_only
def test_on_sqlite_the_limit_is_ignored(app, reports):
    """A hall laptop: there is no statement_timeout on SQLite; every report still answers."""
    client, urls = reports
    app.config["REPORT_STATEMENT_TIMEOUT_MS"] = 1
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
