"""The plan's projects as CSV for other systems: UTF-8 with a byte-order mark (so Excel opens
Thai correctly), Thai headers in the user's language, one row per project on the board.

Formula injection (OWASP "CSV Injection"): a spreadsheet opening the CSV would run a cell that
starts with =, +, -, @, tab or carriage return. CSV has no "this is text" type, so such cells are
prefixed with a single quote ('), as OWASP advises: Excel and LibreOffice then show the text and
run nothing. The cost is a visible ' in other readers, which we accept for safety; numbers (the
budget) are never prefixed, so a negative number would stay a number (budgets are never negative).
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from planapp.export.rows import ProjectRow, load_rows
from planapp.models import Plan

CSV_MIMETYPE = "text/csv; charset=utf-8"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def csv_columns():
    """(header, value of a row) in the order of the CSV."""
    return [
        (_("Project ID"), lambda r: r.id),
        (_("Funding group"), lambda r: r.group_label),
        (_("Rank in group"), lambda r: r.position if r.group in ("1", "2", "3") else ""),
        (_("Project"), lambda r: safe_text(r.title)),
        (_("Rationale"), lambda r: safe_text(r.rationale)),
        (_("Objective"), lambda r: safe_text(r.objective)),
        (_("Target (project output)"), lambda r: safe_text(r.target_output)),
        (_("Location"), lambda r: safe_text(r.location)),
        (_("Source villages"), lambda r: safe_text(r.village_label)),
        (_("Sector"), lambda r: r.sector_label),
        (_("Programme"), lambda r: r.programme_label),
        (_("Strategy"), lambda r: safe_text(r.strategy_label)),
        (_("Budget (baht)"), lambda r: f"{r.budget_satang / 100:.2f}"),
        (_("Year wanted (BE)"), lambda r: r.wanted_year or ""),
        (_("Indicator (KPI)"), lambda r: safe_text(r.kpi)),
        (_("Expected result"), lambda r: safe_text(r.expected_result)),
        (_("Feasibility"), lambda r: r.feasibility_label),
        (_("Feasibility reason"), lambda r: safe_text(r.feasibility_reason)),
        (_("Urgency"), lambda r: r.urgency_label),
        (_("Main responsible agency"), lambda r: safe_text(r.lead_agency)),
        (_("Supporting agencies"), lambda r: safe_text(r.supporting_agencies)),
    ]


def projects_csv(plan: Plan, rows: list[ProjectRow] | None = None) -> str:
    rows = load_rows(plan) if rows is None else rows
    columns = csv_columns()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for header, _value in columns])
    for row in rows:
        writer.writerow([value(row) for _header, value in columns])
    return out.getvalue()
