"""Reports never hold up a forum: on PostgreSQL every statement of a report page (the roll-ups
of planapp/district, the agency pages and workbook) runs under a `statement_timeout`.

A gunicorn timeout does not stop a query that is running on the database, and a heavy roll-up
loaded again and again keeps the database busy for the boards of every hall. So a report's
transaction gets `SET LOCAL statement_timeout` (REPORT_STATEMENT_TIMEOUT_MS, 0 = none): the
database itself cancels a statement past it, and the page answers 503 with a plain message
instead of a trace. SQLite has no such setting (one laptop, one hall): the limit is not applied.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from planapp.extensions import db

# SQLSTATE query_canceled: the statement timeout (or a cancel request) stopped the statement.
QUERY_CANCELED = "57014"
RETRY_AFTER_SECONDS = 60


def limit_report_statements() -> None:
    """Give the session's transaction the report time limit (until it commits or rolls back)."""
    limit = current_app.config["REPORT_STATEMENT_TIMEOUT_MS"]
    if limit > 0 and db.session.get_bind().dialect.name == "postgresql":
        # set_config(..., true) is SET LOCAL with a bound value.
        db.session.execute(
            text("SELECT set_config('statement_timeout', :limit, true)"),
            {"limit": f"{limit}ms"},
        )


def was_cancelled(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) == QUERY_CANCELED


def report_query(view):
    """Decorator of a report route: its queries run under the report time limit, and a report
    stopped by it answers 503 with a message (Thai or English) instead of an error trace."""

    @wraps(view)
    def limited(*args, **kwargs):
        limit_report_statements()
        try:
            return view(*args, **kwargs)
        except OperationalError as error:
            if not was_cancelled(error):
                raise
            db.session.rollback()
            return report_stopped()

    return limited


def report_stopped():
    message = _(
        "This report took too long and was stopped, so that the forums on this server keep "
        "their pace. Choose a smaller area (a province or a district) or try again later."
    )
    page = render_template("error.html", status=503, message=message)
    return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
