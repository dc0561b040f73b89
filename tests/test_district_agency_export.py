"""The per-agency workbook, read back with openpyxl: the agency's projects by urgency, the
government look of the tambon workbook, and totals that are real SUM formulas."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from planapp.extensions import db
from planapp.models import Agency, Plan
from tests.district_helpers import build_district


def test_agency_workbook_reads_back(admin_client, app):
    plans = build_district(tambons=3, fiscal_year=2570)
    agency = db.session.scalar(db.select(Agency).where(Agency.name == "สำนักงานเกษตรอำเภอทดสอบ"))
    # Text that a spreadsheet would take for a formula must stay text.
    trap = plans[0].projects[0]
    trap.title = '=HYPERLINK("http://evil","คลิก")'
    trap.lead_agency = agency
    trap.urgency = "urgent"
    db.session.commit()

    response = admin_client.get(f"/agencies/{agency.id}/export.xlsx?year=2570")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["โครงการ", "รายตำบล"]
    ws = wb["โครงการ"]

    # Header: row 3 (after two title lines), bold, frozen, repeated on every printed page.
    header = [c.value for c in ws[3]]
    assert header[:3] == ["ที่", "ตำบล", "โครงการ"] and header[9] == "งบประมาณ (บาท)"
    assert all(c.font.b for c in ws[3] if c.value)
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws["C4"].font.name == "TH SarabunPSK" and ws["C4"].font.sz == 16

    # Every project the agency leads or supports in 2570, once, urgent first.
    plans_2570 = db.session.scalars(db.select(Plan).where(Plan.fiscal_year == 2570)).all()
    expected = {
        p.title: p
        for plan in plans_2570
        for p in plan.projects
        if p.funding_group in ("1", "2", "3")
        and (p.lead_agency_id == agency.id or agency in p.supporting_agencies)
    }
    rows, tier_totals, grand = [], [], None
    for row in ws.iter_rows(min_row=4):
        values = [c.value for c in row]
        if isinstance(values[0], int):
            rows.append(row)
        elif isinstance(values[9], str) and re.fullmatch(r"=SUM\(J\d+:J\d+\)|=0", values[9]):
            tier_totals.append(row)
        elif isinstance(values[9], str) and values[9].startswith("=SUM("):
            grand = row
    titles = [row[2].value for row in rows]
    assert sorted(titles) == sorted(expected)
    trap_cell = next(row[2] for row in rows if row[2].value == trap.title)
    assert trap_cell.data_type == "s"  # text, not a formula
    budgets = {row[2].value: row[9].value for row in rows}
    assert all(budgets[t] * 100 == expected[t].budget_satang for t in expected)
    assert all(row[9].number_format == "#,##0" for row in rows)
    assert rows[0][2].value == trap.title  # the urgent tier comes first

    # Each tier total adds exactly its own rows; the grand total adds the tier totals.
    assert len(tier_totals) == 4
    first_total = tier_totals[0][9]
    first_data_row = 5  # tier label on row 4, its first project on row 5
    assert first_total.value == f"=SUM(J{first_data_row}:J{first_total.row - 1})"
    assert grand is not None
    assert grand[9].value == "=SUM(" + ",".join(f"J{r[9].row}" for r in tier_totals) + ")"
    assert sum(budgets.values()) * 100 == sum(p.budget_satang for p in expected.values())

    summary = wb["รายตำบล"]
    names = [summary.cell(row=r, column=1).value for r in range(4, 4 + 3)]
    assert names == sorted(p.tambon.name for p in plans)
    last = summary.cell(row=7, column=3)
    assert last.value == "=SUM(C4:C6)"


def test_agency_export_is_for_admins(facilitator_client):
    assert facilitator_client.get("/agencies/1/export.xlsx").status_code == 403
