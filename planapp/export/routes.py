"""The integrated plan out: Excel workbook, CSV, printable plan (design brief step 6)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, render_template

from planapp.accounts import login_required, plan_for_viewing
from planapp.export.csv_export import CSV_MIMETYPE, projects_csv
from planapp.export.printable import printable_plan
from planapp.export.workbook import XLSX_MIMETYPE, workbook_bytes

bp = Blueprint("export", __name__)


def download(body: bytes | str, mimetype: str, filename: str) -> Response:
    """A file download with a Thai file name (RFC 6266/5987) and an ASCII fallback."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "plan"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    # A plan's export changes with every move on the board: never serve a stale copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def file_stem(plan) -> str:
    return f"plan-{plan.id}-{plan.tambon.name}-{plan.fiscal_year}"


@bp.route("/plans/<int:plan_id>/export.xlsx")
@login_required
def workbook(plan_id: int):
    plan = plan_for_viewing(plan_id)
    return download(workbook_bytes(plan), XLSX_MIMETYPE, f"{file_stem(plan)}.xlsx")


@bp.route("/plans/<int:plan_id>/export.csv")
@login_required
def csv(plan_id: int):
    plan = plan_for_viewing(plan_id)
    return download(projects_csv(plan), CSV_MIMETYPE, f"{file_stem(plan)}.csv")


@bp.route("/plans/<int:plan_id>/print")
@login_required
def print_plan(plan_id: int):
    plan = plan_for_viewing(plan_id)
    return render_template("export/print.html", **printable_plan(plan))
