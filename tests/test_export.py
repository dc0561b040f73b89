"""The plan out (issue 8): download each export of the demo tambon and read it back."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from planapp import demo_data
from planapp.changes import record_change
from planapp.domain import PLAN_PREAMBLE
from planapp.extensions import db
from planapp.models import Agency, ForumAttendance, Plan, Project, Strategy
from tests.conftest import make_user

GROUP_LABELS = {
    "1": "กลุ่ม 1 ชุมชนดำเนินการเอง",
    "2": "กลุ่ม 2 ขอความร่วมมือ/ร่วมดำเนินการ",
    "3": "กลุ่ม 3 ขอรับการสนับสนุนงบประมาณ",
    "not-feasible": "ไม่สามารถดำเนินการได้",
    "unsorted": "ยังไม่จัดกลุ่ม",
}
HOSTILE = '=HYPERLINK("http://x","y")'


def arrange_forum(plan: Plan) -> dict:
    """Play the forum on the demo plan: groups, ranks, urgency, agencies, strategies, years, one
    merge, one hostile title. Returns what the exports must show."""
    projects = db.session.scalars(
        select(Project).where(Project.plan_id == plan.id).order_by(Project.id)
    ).all()
    for p in projects:
        p.rank = None
    db.session.flush()
    own = plan.tambon.local_admin_agency
    agencies = db.session.scalars(select(Agency).where(Agency.id != own.id).order_by(Agency.id))
    agencies = list(agencies)
    local_strategies = db.session.scalars(
        select(Strategy).where(Strategy.level == "local").order_by(Strategy.code)
    ).all()
    province = db.session.scalar(select(Strategy).where(Strategy.level == "province"))

    # Merge project 1 into project 2: 1 leaves the board, 2 keeps both villages.
    merged_away = projects[0]
    survivor = next(p for p in projects if set(p.villages) != set(merged_away.villages))
    merged_away.merged_into_id = survivor.id
    survivor.villages = sorted(
        set(survivor.villages) | set(merged_away.villages), key=lambda v: v.number
    )
    active = [p for p in projects if p is not merged_away]
    active[0].title = HOSTILE
    active[1].budget = Decimal("12345.50")  # satang: the workbook shows #,##0.00
    groups = ["3", "2", "1", "3", "2", "3", "not-feasible"]
    ranks: dict[str, int] = {}
    for index, p in enumerate(active):
        group = groups[index % len(groups)]
        if index >= len(active) - 3:
            group = "unsorted"
        p.funding_group = group
        if group == "not-feasible":
            p.feasibility = "not_feasible"
            p.feasibility_reason = "อยู่นอกเขตตำบล"
        else:
            p.feasibility = "feasible"
        ranks[group] = ranks.get(group, 0) + 1
        # Ranks in reverse id order, so "forum rank" and "id order" differ.
        p.rank = 1000 - index
        p.urgency = ["urgent", "medium", "normal", None][index % 4]
        p.lead_agency = own if index % 3 else agencies[index % len(agencies)]
        if index % 5 == 0:
            p.lead_agency = None
        p.supporting_agencies = [agencies[(index + 1) % len(agencies)]]
        p.strategies = [local_strategies[index % len(local_strategies)], province]
        p.wanted_year = plan.plan_years[index % 5]
    db.session.flush()
    # Dense ranks 1..n per group in the order set above (reverse id).
    for group in {p.funding_group for p in active}:
        members = sorted(
            (p for p in active if p.funding_group == group), key=lambda p: p.rank, reverse=True
        )
        for p in members:
            p.rank = None
        db.session.flush()
        for n, p in enumerate(members, start=1):
            p.rank = n
    db.session.commit()
    return {"active": active, "merged_away": merged_away, "survivor": survivor}


@pytest.fixture
def forum(demo_plan):
    return arrange_forum(demo_plan)


def download_workbook(client, plan):
    response = client.get(f"/plans/{plan.id}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


# --- a tiny evaluator for the formulas we write: SUM/COUNTA over ranges, cell lists, + --------

REF = r"(?:'((?:[^']|'')+)'!|([^'!=(),:+]+)!)?\$?([A-Z]{1,3})\$?(\d+)"


def evaluate(wb, ws, value):
    if not (isinstance(value, str) and value.startswith("=")):
        return value or 0
    expression = value[1:]
    total = 0
    for term in split_top(expression, "+"):
        total += evaluate_term(wb, ws, term)
    return total


def split_top(text: str, sep: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def cell_of(wb, ws, ref):
    m = re.fullmatch(REF, ref)
    assert m, ref
    quoted, bare, column, row = m.groups()
    sheet = wb[quoted.replace("''", "'")] if quoted else wb[bare] if bare else ws
    return sheet, f"{column}{row}"


def evaluate_term(wb, ws, term: str):
    term = term.strip()
    if re.fullmatch(r"\d+(\.\d+)?", term):
        return float(term)
    m = re.fullmatch(r"(SUM|COUNTA)\((.*)\)", term)
    if m:
        function, args = m.groups()
        total = 0
        for arg in split_top(args, ","):
            if ":" in arg:
                start, end = arg.split(":")
                sheet, a = cell_of(wb, ws, start)
                cells = sheet[f"{a}:{end}"]
                values = [c.value for line in cells for c in line]
            else:
                sheet, a = cell_of(wb, ws, arg)
                values = [sheet[a].value]
            for v in values:
                if function == "COUNTA":
                    total += v not in (None, "")
                else:
                    total += evaluate(wb, sheet, v)
        return total
    sheet, a = cell_of(wb, ws, term)
    return evaluate(wb, sheet, sheet[a].value)


def header_row(ws) -> int:
    return ws.max_row and int(re.search(r"\d+", ws.freeze_panes).group()) - 1


def satang(value) -> int:
    return round(Decimal(str(value)) * 100)


# --- the workbook ------------------------------------------------------------------------


def test_workbook_sheets_and_group_sheets(facilitator_client, demo_plan, forum):
    wb = download_workbook(facilitator_client, demo_plan)
    villages = [f"หมู่ที่ {v.number} {v.name}" for v in demo_plan.tambon.villages]
    assert wb.sheetnames == [
        "สรุป",
        "กลุ่ม 1",
        "กลุ่ม 2",
        "กลุ่ม 3",
        "ความเร่งด่วน",
        "ผ.02-1",
        "ผ.01-1",
        "ผ.02-2",
        "ผ.01-2",
        "นอกช่วงปีของแผน",
        *villages,
        "บันทึกการประชุม",
    ]
    expected_headers = [
        "ที่",
        "โครงการ",
        "วัตถุประสงค์",
        "เป้าหมาย (ผลผลิตของโครงการ)",
        "งบประมาณ (บาท)",
        "ผลที่คาดว่าจะได้รับ",
        "หน่วยงานรับผิดชอบหลัก",
        "หมู่บ้านที่เสนอ",
        "ด้าน",
        "ยุทธศาสตร์",
        "ความเป็นไปได้",
        "ความเร่งด่วน",
        "หน่วยงานสนับสนุน",
    ]
    active = forum["active"]
    seen: list[str] = []
    for group in ("1", "2", "3"):
        ws = wb[f"กลุ่ม {group}"]
        header = header_row(ws)
        assert [c.value for c in ws[header]] == expected_headers
        assert ws.print_title_rows == f"${header}:${header}"
        members = sorted((p for p in active if p.funding_group == group), key=lambda p: p.rank)
        first = header + 1
        last = first + len(members) - 1
        for n, p in enumerate(members, start=1):
            row = first + n - 1
            assert ws.cell(row, 1).value == n  # forum rank order
            assert ws.cell(row, 2).value == p.title
            assert satang(ws.cell(row, 5).value) == p.budget_satang
            assert ws.cell(row, 7).value == (p.lead_agency.name if p.lead_agency else None)
            seen.append(p.title)
        count, total = last + 1, last + 2
        assert ws.cell(count, 1).value == "รวมจำนวนโครงการ"
        assert ws.cell(count, 5).value == f"=COUNTA(B{first}:B{last})"
        assert evaluate(wb, ws, ws.cell(count, 5).value) == len(members)
        assert ws.cell(total, 1).value == "รวมงบประมาณ"
        assert ws.cell(total, 5).value == f"=SUM(E{first}:E{last})"
        assert satang(evaluate(wb, ws, ws.cell(total, 5).value)) == sum(
            p.budget_satang for p in members
        )
        assert ws.max_row == total
    # Every project of groups 1-3 exactly once; the merged-away one nowhere.
    in_groups = [p.title for p in active if p.funding_group in ("1", "2", "3")]
    assert sorted(seen) == sorted(in_groups)
    assert len(seen) == len(set(seen))
    assert forum["merged_away"].title not in seen
    # The hostile title is a string, shown as typed.
    ws = wb["กลุ่ม 3"]
    hostile = [c for line in ws.iter_rows() for c in line if c.value == HOSTILE]
    assert len(hostile) == 1 and hostile[0].data_type == "s"
    # A budget with satang switches the workbook to #,##0.00.
    assert ws.cell(header_row(ws) + 1, 5).number_format == "#,##0.00"


def test_workbook_formatting_and_page_setup(facilitator_client, demo_plan, forum):
    wb = download_workbook(facilitator_client, demo_plan)
    for ws in wb.worksheets:
        assert ws.page_setup.paperSize == 9, ws.title  # A4
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # The summary and the minutes (planapp/meeting) are portrait pages with no table header.
        text_pages = ("สรุป", "บันทึกการประชุม")
        expected = "portrait" if ws.title in text_pages else "landscape"
        assert ws.page_setup.orientation == expected
        for line in ws.iter_rows():
            for c in line:
                if c.value is not None:
                    assert (c.font.name, c.font.size) == ("TH SarabunPSK", 16), c.coordinate
        if ws.title not in text_pages:
            header = header_row(ws)
            assert ws.print_title_rows.endswith(f":${header}")
            assert all(c.font.bold for c in ws[header] if c.value)
            for c in ws[header + 1]:
                if c.value is not None and isinstance(c.value, str) and len(c.value) > 20:
                    assert c.alignment.wrap_text


def test_summary_sheet_totals(facilitator_client, demo_plan, forum):
    wb = download_workbook(facilitator_client, demo_plan)
    ws = wb["สรุป"]
    values = {line[0].value: line for line in ws.iter_rows() if line[0].value}
    assert values["ตำบล"][1].value == "หนองบัวทอง"
    assert values["ปีงบประมาณ (พ.ศ.)"][1].value == "2570"
    assert values["วันที่จัดเวทีประชาคม"][1].value == "20 พฤศจิกายน 2569"
    active = forum["active"]
    taken = [p for p in active if p.funding_group in "123" and p.feasibility != "not_feasible"]
    totals = [line for line in ws.iter_rows() if line[0].value == "รวม"]
    assert len(totals) == 3  # group, urgency, sector tables (villages overlap: no total)
    # The groups table counts every project on the board; the urgency and sector tables count
    # the projects taken forward, as every other output does.
    for line, projects in zip(totals, [active, taken, taken], strict=True):
        budget = line[2].value
        m = re.fullmatch(r"=SUM\(C(\d+):C(\d+)\)", budget)
        first, last = map(int, m.groups())
        # The range is exactly the rows of its table: from below the header to above the total.
        assert ws.cell(first - 1, 1).font.bold and ws.cell(first - 1, 2).value == "โครงการ"
        assert last == line[2].row - 1
        assert satang(evaluate(wb, ws, budget)) == sum(p.budget_satang for p in projects)
        assert evaluate(wb, ws, line[1].value) == len(projects)
    assert values["ผู้เข้าร่วมเวที (คน)"][1].value == 0  # attendance not recorded yet
    group3 = values["กลุ่ม 3 ขอรับการสนับสนุนงบประมาณ"]
    members = [p for p in active if p.funding_group == "3"]
    assert group3[1].value == len(members)
    assert satang(group3[2].value) == sum(p.budget_satang for p in members)


def test_summary_sheet_counts_the_people_at_the_forum(facilitator_client, demo_plan):
    villages = demo_plan.tambon.villages
    db.session.add_all(
        [
            ForumAttendance(plan_id=demo_plan.id, village_id=villages[0].id, people=35),
            ForumAttendance(plan_id=demo_plan.id, village_id=villages[2].id, people=12),
        ]
    )
    db.session.commit()
    ws = download_workbook(facilitator_client, demo_plan)["สรุป"]
    values = {line[0].value: line[1].value for line in ws.iter_rows() if line[0].value}
    assert values["ผู้เข้าร่วมเวที (คน)"] == 47


def test_local_plan_forms(facilitator_client, demo_plan, forum):
    wb = download_workbook(facilitator_client, demo_plan)
    plan = demo_plan
    own = plan.tambon.local_admin_agency_id
    active = forum["active"]
    taken = [p for p in active if p.funding_group in ("2", "3")]
    expected = {
        "1": [p for p in taken if p.lead_agency_id in (None, own)],
        "2": [p for p in taken if p.lead_agency_id not in (None, own)],
    }
    for form, members in expected.items():
        ws = wb[f"ผ.02-{form}"]
        assert ws.cell(1, 1).value == f"แบบ ผ.02/{form}"
        header = header_row(ws)
        top = [c.value for c in ws[header - 1]]
        bottom = [c.value for c in ws[header]]
        assert top[:5] == ["ที่", "โครงการ", "วัตถุประสงค์", "เป้าหมาย (ผลผลิตของโครงการ)", "งบประมาณ"]
        assert bottom[4:9] == [f"{y} (บาท)" for y in plan.plan_years]
        last_header = "หน่วยงานรับผิดชอบหลัก" if form == "1" else "หน่วยงานที่จะขอประสาน"
        assert top[9:] == ["ตัวชี้วัด (KPI)", "ผลที่คาดว่าจะได้รับ", last_header]
        titles = [
            ws.cell(r, 2).value
            for r in range(header + 1, ws.max_row + 1)
            if isinstance(ws.cell(r, 1).value, int)
        ]
        assert sorted(titles) == sorted(p.title for p in members)
        # Each project's budget sits in its wanted year's column.
        for p in members:
            row = next(
                r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 2).value == p.title
            )
            column = 5 + plan.plan_years.index(p.wanted_year)
            assert satang(ws.cell(row, column).value) == p.budget_satang
            assert [ws.cell(row, c).value for c in range(5, 10) if c != column] == [None] * 4
        # Block totals: SUM over exactly the project rows above, adding up to the form's budget.
        budget_rows = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "รวมงบประมาณ"]
        count_rows = [
            r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "รวมจำนวนโครงการ"
        ]
        assert len(budget_rows) == len(count_rows) > 1
        total = 0
        for r in budget_rows:
            m = re.fullmatch(r"=SUM\(E(\d+):E(\d+)\)", ws.cell(r, 5).value)
            first, last = map(int, m.groups())
            assert last == r - 1
            assert all(isinstance(ws.cell(x, 1).value, int) for x in range(first, last + 1))
            assert not isinstance(ws.cell(first - 1, 1).value, int)  # the block heading
            total += sum(satang(evaluate(wb, ws, ws.cell(r, c).value)) for c in range(5, 10))
        assert total == sum(p.budget_satang for p in members)
        grand = next(
            r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "รวมงบประมาณทั้งสิ้น"
        )
        assert sum(satang(evaluate(wb, ws, ws.cell(grand, c).value)) for c in range(5, 10)) == total
        # ผ.01: per strategy and programme, pointing at the ผ.02 totals; รวมทั้งสิ้น adds up.
        summary = wb[f"ผ.01-{form}"]
        last_row = summary.max_row
        assert summary.cell(last_row, 1).value == "รวมทั้งสิ้น"
        assert satang(evaluate(wb, summary, summary.cell(last_row, 13).value)) == total
        assert evaluate(wb, summary, summary.cell(last_row, 12).value) == len(members)
        first_line = header_row(summary) + 2
        assert summary.cell(first_line, 2).value.startswith("='ผ.02-")
    # Group 1 and not-feasible projects are in neither form.
    forms = {wb[f"ผ.02-{f}"].cell(r, 2).value for f in "12" for r in range(1, 400)}
    for p in active:
        if p.funding_group not in ("2", "3"):
            assert p.title not in forms


def test_issue_grouping_without_kpi(facilitator_client, demo_plan, forum):
    demo_plan.grouping = "issue"
    demo_plan.show_kpi = False
    db.session.commit()
    wb = download_workbook(facilitator_client, demo_plan)
    ws = wb["ผ.02-1"]
    header = header_row(ws)
    assert "ตัวชี้วัด (KPI)" not in [c.value for c in ws[header - 1]]
    headings = [ws.cell(r, 1).value for r in range(header + 1, ws.max_row + 1)]
    assert any(str(h).startswith("ประเด็นการพัฒนา: ") for h in headings)
    assert not any(str(h).startswith("ยุทธศาสตร์ที่") for h in headings)


PREAMBLE_HEADINGS = [
    "ก. ยุทธศาสตร์ชาติ 20 ปี",
    "ข. แผนพัฒนาเศรษฐกิจและสังคมแห่งชาติ",
    "ค. เป้าหมายการพัฒนาที่ยั่งยืน (SDGs)",
    "ง. ยุทธศาสตร์จังหวัด",
    "จ. ยุทธศาสตร์การพัฒนาขององค์กรปกครองส่วนท้องถิ่นในเขตจังหวัด",
]


def lines_below_header(ws) -> list:
    return [ws.cell(r, 1).value for r in range(header_row(ws) + 1, ws.max_row + 1)]


def test_local_plan_forms_open_with_the_strategies_the_plan_answers_to(
    facilitator_client, demo_plan, forum
):
    texts = [demo_data.PLAN_PREAMBLE[name] for name in PLAN_PREAMBLE]
    wb = download_workbook(facilitator_client, demo_plan)
    for form in "12":
        ws = wb[f"ผ.02-{form}"]
        header = header_row(ws)
        lines = lines_below_header(ws)
        assert lines[:5] == [f"{h} {t}" for h, t in zip(PREAMBLE_HEADINGS, texts, strict=True)]
        assert lines[5].startswith("ยุทธศาสตร์ที่ ")  # then the first block
        last_column = get_column_letter(ws.max_column)
        for row in range(header + 1, header + 6):
            assert f"A{row}:{last_column}{row}" in ws.merged_cells
            assert ws.cell(row, 1).font.name == "TH SarabunPSK"
            assert not ws.cell(row, 1).font.bold  # block headings are bold, these are not
        # The header stays what is frozen and repeated on every printed page.
        assert ws.print_title_rows == f"${header - 1}:${header}"
        # The ผ.01 summaries have no preamble.
        summary = wb[f"ผ.01-{form}"]
        assert not any(
            str(line).startswith(PREAMBLE_HEADINGS[0]) for line in lines_below_header(summary)
        )

    # An empty line prints "-", as the printed forms do.
    demo_plan.sdgs = "  "
    db.session.commit()
    lines = lines_below_header(download_workbook(facilitator_client, demo_plan)["ผ.02-1"])
    assert lines[2] == "ค. เป้าหมายการพัฒนาที่ยั่งยืน (SDGs) -"
    assert lines[3] == f"{PREAMBLE_HEADINGS[3]} {texts[3]}"
    # None given: no preamble at all, the blocks start under the header.
    for name in PLAN_PREAMBLE:
        setattr(demo_plan, name, "")
    db.session.commit()
    lines = lines_below_header(download_workbook(facilitator_client, demo_plan)["ผ.02-1"])
    assert lines[0].startswith("ยุทธศาสตร์ที่ ")
    assert not any(str(line)[:2] in ("ก.", "ข.", "ค.", "ง.", "จ.") for line in lines)


def strategy(code: str) -> Strategy:
    return db.session.scalar(select(Strategy).where(Strategy.code == code))


def test_local_plan_blocks_go_strategy_tactic_programme(facilitator_client, demo_plan):
    """ยุทธศาสตร์ → กลยุทธ์ → แผนงาน, each แผนงาน closing with its totals; projects of a
    strategy with tactics that name none come last under "no tactic given"; the ผ.01 summary
    stays per strategy and แผนงาน, adding up a แผนงาน's blocks under every tactic."""
    plan = demo_plan
    own = plan.tambon.local_admin_agency
    l1, l2 = strategy("L1"), strategy("L2")
    t11, t12 = strategy("L1.1"), strategy("L1.2")
    assert t11.parent == l1 and t12.parent == l1
    works, education = "industry_public_works", "education"
    projects = plan.active_projects()
    cast = [
        # (strategies, programme, wanted year index)
        ([t12], works, 0),
        ([t11], works, 1),
        ([l1], works, 2),  # L1 without a tactic
        ([t11, l1, strategy("P1")], education, 3),  # the tactic wins over its bare strategy
        ([t11], works, 4),
        ([l2], works, 0),  # a strategy none of whose projects names a tactic
    ]
    chosen = projects[: len(cast)]
    for p in chosen:
        p.rank = None
    db.session.flush()
    for n, (p, (strategies, programme, year)) in enumerate(zip(chosen, cast, strict=True)):
        p.funding_group, p.rank, p.feasibility = "3", n + 1, "feasible"
        p.urgency, p.lead_agency = "urgent", own
        p.strategies, p.programme = strategies, programme
        p.wanted_year = plan.plan_years[year]
    db.session.commit()
    a, b, c, d, e, f = chosen

    wb = download_workbook(facilitator_client, plan)
    ws = wb["ผ.02-1"]
    header = header_row(ws)
    lines = lines_below_header(ws)[5:]  # after the preamble
    works_label, education_label = "แผนงานอุตสาหกรรมและการโยธา", "แผนงานการศึกษา"
    totals = ["รวมงบประมาณ", "รวมจำนวนโครงการ"]
    expected = [
        f"ยุทธศาสตร์ที่ L1 {l1.name}",
        f"กลยุทธ์ที่ L1.1 {t11.name}",
        education_label,
        1,
        *totals,
        works_label,
        1,
        2,
        *totals,
        f"กลยุทธ์ที่ L1.2 {t12.name}",
        works_label,
        1,
        *totals,
        "ยังไม่ระบุกลยุทธ์",
        works_label,
        1,
        *totals,
        f"ยุทธศาสตร์ที่ L2 {l2.name}",
        works_label,  # no tactic line: none of L2's projects names one
        1,
        *totals,
        "รวมงบประมาณทั้งสิ้น",
        "รวมจำนวนโครงการทั้งสิ้น",
    ]
    assert lines == expected
    first = header + 6
    titles = [ws.cell(r, 2).value for r in range(first, ws.max_row + 1)]
    assert [t for t in titles if t in {p.title for p in chosen}] == [
        d.title,
        b.title,
        e.title,
        a.title,
        c.title,
        f.title,
    ]
    # The tactic lines are bold merged lines like the strategy headings.
    tactic_row = first + 1
    assert ws.cell(tactic_row, 1).font.bold
    assert f"A{tactic_row}:{get_column_letter(ws.max_column)}{tactic_row}" in ws.merged_cells
    # Each block's totals add up exactly its rows.
    for r in range(first, ws.max_row + 1):
        if ws.cell(r, 1).value == "รวมงบประมาณ":
            rows_above = []
            x = r - 1
            while isinstance(ws.cell(x, 1).value, int):
                rows_above.append(x)
                x -= 1
            got = sum(satang(evaluate(wb, ws, ws.cell(r, col).value)) for col in range(5, 10))
            want = sum(
                satang(ws.cell(x, col).value or 0) for x in rows_above for col in range(5, 10)
            )
            assert got == want and rows_above
            count = sum(evaluate(wb, ws, ws.cell(r + 1, col).value) for col in range(5, 10))
            assert count == len(rows_above)

    # ผ.01: per strategy and แผนงาน; the works line of L1 adds its three tactic blocks.
    summary = wb["ผ.01-1"]
    body = lines_below_header(summary)
    assert body == [
        f"ยุทธศาสตร์ที่ L1 {l1.name}",
        education_label,
        works_label,
        "รวม",
        f"ยุทธศาสตร์ที่ L2 {l2.name}",
        works_label,
        "รวม",
        "รวมทั้งสิ้น",
    ]
    works_row = header_row(summary) + 3
    formula = summary.cell(works_row, 2).value
    assert formula.count("'ผ.02-1'!") == 3 and formula.startswith("=")
    five_years_count = summary.cell(works_row, 12).value
    five_years_budget = summary.cell(works_row, 13).value
    assert evaluate(wb, summary, five_years_count) == 4
    assert satang(evaluate(wb, summary, five_years_budget)) == sum(
        p.budget_satang for p in (a, b, c, e)
    )
    grand = summary.max_row
    assert evaluate(wb, summary, summary.cell(grand, 12).value) == len(chosen)
    assert satang(evaluate(wb, summary, summary.cell(grand, 13).value)) == sum(
        p.budget_satang for p in chosen
    )


def test_urgency_and_village_sheets(facilitator_client, demo_plan, forum):
    wb = download_workbook(facilitator_client, demo_plan)
    active = forum["active"]
    ws = wb["ความเร่งด่วน"]
    taken = [p for p in active if p.funding_group in ("1", "2", "3")]
    text = [[c.value for c in line] for line in ws.iter_rows()]
    tiers = (("urgent", "เร่งด่วน"), ("medium", "ปานกลาง"), ("normal", "ปกติ"))
    for tier, label in (*tiers, (None, "ยังไม่กำหนดความเร่งด่วน")):
        members = [p for p in taken if p.urgency == tier]
        assert [f"{label} ({len(members)})"] == [
            line[0] for line in text if str(line[0]).startswith(label + " (")
        ]
    # Every project taken forward is on the sheet, with or without a tier.
    grand = ws.cell(ws.max_row, 7).value
    assert satang(evaluate(wb, ws, grand)) == sum(p.budget_satang for p in taken)

    survivor = forum["survivor"]
    for village in survivor.villages:
        ws = wb[f"หมู่ที่ {village.number} {village.name}"]
        titles = [ws.cell(r, 2).value for r in range(1, ws.max_row + 1)]
        assert survivor.title in titles
        assert forum["merged_away"].title not in titles
        row = titles.index(survivor.title) + 1
        assert ws.cell(row, 4).value == GROUP_LABELS[survivor.funding_group]
        if survivor.funding_group in ("1", "2", "3"):
            assert ws.cell(row, 5).value == survivor.rank
        assert "โครงการร่วมกับ" in ws.cell(row, 9).value
        mine = [p for p in active if village in p.villages]
        total = ws.cell(ws.max_row, 3).value
        assert satang(evaluate(wb, ws, total)) == sum(p.budget_satang for p in mine)


# --- CSV ----------------------------------------------------------------------------------


def test_csv(facilitator_client, demo_plan, forum):
    response = facilitator_client.get(f"/plans/{demo_plan.id}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    reader = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = reader[0], reader[1:]
    assert header[:4] == ["รหัสโครงการ", "กลุ่มโครงการ", "ลำดับในกลุ่ม", "โครงการ"]
    assert len(body) == len(forum["active"])
    titles = [line[3] for line in body]
    assert "'" + HOSTILE in titles
    assert forum["merged_away"].title not in titles
    budgets = {int(line[0]): satang(line[header.index("งบประมาณ (บาท)")]) for line in body}
    assert budgets == {p.id: p.budget_satang for p in forum["active"]}


# --- who may download ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["export.xlsx", "export.csv", "print"])
def test_exports_need_a_user_of_the_tambon(app, client, demo_plan, suffix):
    response = client.get(f"/plans/{demo_plan.id}/{suffix}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    make_user("other", "facilitator")
    client.login("other")
    assert client.get(f"/plans/{demo_plan.id}/{suffix}").status_code == 403
    assert client.get(f"/plans/999999/{suffix}").status_code == 404


def test_empty_plan_and_english(app, facilitator_client, demo_plan):
    """A plan with no project yet still exports (totals are =0, never a reversed range), and
    the workbook follows the user's language."""
    empty = Plan(tambon=demo_plan.tambon, fiscal_year=2571)
    db.session.add(empty)
    db.session.commit()
    wb = download_workbook(facilitator_client, empty)
    ws = wb["กลุ่ม 1"]
    assert ws.cell(ws.max_row, 5).value == "=0"
    assert wb["ผ.02-1"].cell(wb["ผ.02-1"].max_row, 1).value == "ไม่มีโครงการในแบบนี้"
    body = facilitator_client.get(f"/plans/{empty.id}/export.csv").data.decode("utf-8-sig")
    assert len(body.strip().splitlines()) == 1  # the header only
    assert facilitator_client.get(f"/plans/{empty.id}/print").status_code == 200

    facilitator_client.post("/language", data={"language": "en", "next": "/"})
    wb = download_workbook(facilitator_client, demo_plan)
    assert wb.sheetnames[:5] == ["Summary", "Group 1", "Group 2", "Group 3", "Urgency"]
    ws = wb["Group 1"]
    assert ws.cell(header_row(ws), 2).value == "Project"


# --- one set of numbers (issue 16, item 3) ------------------------------------------------

TIER_LABELS = {
    "urgent": "เร่งด่วน",
    "medium": "ปานกลาง",
    "normal": "ปกติ",
    "unset": "ยังไม่กำหนดความเร่งด่วน",
}


def money_satang(text: str) -> int:
    return satang(text.replace(",", "").strip())


def figures_of_table(html: str, marker: str) -> dict[str, tuple[int, int]]:
    """The taken-forward table (templates/macros.html) after `marker`: tier -> (count, satang)."""
    table = html[html.index(marker) :]
    table = table[table.index("data-taken-forward") : table.index("</table>")]
    return {
        tier: (int(count), int(amount))
        for tier, count, amount in re.findall(
            r'data-tier="([a-z]+)">.*?data-count>(\d+)<.*?data-satang="(\d+)"', table
        )
    }


def summary_sheet_figures(wb) -> dict[str, tuple[int, int]]:
    ws = wb["สรุป"]
    lines = list(ws.iter_rows())
    start = next(
        n for n, line in enumerate(lines) if line[0].value == "ความเร่งด่วนของโครงการที่นำไปดำเนินการ"
    )
    found = {}
    for line in lines[start + 1 :]:
        label = line[0].value
        if label == "รวม":
            found["total"] = (
                evaluate(wb, ws, line[1].value),
                satang(evaluate(wb, ws, line[2].value)),
            )
            return found
        tier = next(t for t, text in TIER_LABELS.items() if text == label)
        found[tier] = (line[1].value, satang(line[2].value))
    raise AssertionError("no total under the urgency table")


def urgency_sheet_figures(wb) -> dict[str, tuple[int, int]]:
    """Each tier's section of the urgency sheet: its rows counted and their budgets added."""
    ws = wb["ความเร่งด่วน"]
    found, tier = {}, None
    for line in ws.iter_rows(min_row=header_row(ws) + 1):
        first = line[0].value
        heading = re.fullmatch(r"(.+) \((\d+)\)", str(first or ""))
        if heading and heading.group(1) in TIER_LABELS.values():
            tier = next(t for t, text in TIER_LABELS.items() if text == heading.group(1))
            found[tier] = (0, 0)
            shown = int(heading.group(2))
        elif tier and isinstance(first, int):
            count, amount = found[tier]
            found[tier] = (count + 1, amount + satang(line[6].value))
        elif tier and str(first).startswith("รวม"):
            assert found[tier][0] == shown  # the heading's count is its rows
            assert satang(evaluate(wb, ws, line[6].value)) == found[tier][1]
            tier = None
        elif str(first) == "รวมทั้งสิ้น":
            found["total"] = (
                sum(c for c, _s in found.values()),
                satang(evaluate(wb, ws, line[6].value)),
            )
    found.setdefault("unset", (0, 0))
    return found


def minutes_sheet_figures(wb) -> dict[str, tuple[int, int]]:
    ws = wb["บันทึกการประชุม"]
    labels = {text: tier for tier, text in TIER_LABELS.items()}
    labels["นำไปดำเนินการ (กลุ่ม 1 ถึง 3 ที่ไม่ถูกตัดว่าไม่มีความเป็นไปได้)"] = "total"
    return {
        labels[line[1].value]: (line[0].value, satang(line[2].value))
        for line in ws.iter_rows()
        if line[1].value in labels and isinstance(line[0].value, int)
    }


def projector_figures(client, plan) -> dict[str, tuple[int, int]]:
    plan.projector_mode = "summary"
    db.session.commit()
    html = client.get(f"/live/{plan.public_token}").get_data(as_text=True)
    found = {
        tier: (int(count), money_satang(amount))
        for tier, count, amount in re.findall(
            r'data-summary-urgency="([a-z]+)">.*?data-count>(\d+)<.*?money">([\d,.]+)<',
            html,
            re.S,
        )
    }
    count, amount = re.search(
        r"data-count>(\d+)</td>.*?data-total>([\d,.]+)<",
        html[html.index("<tfoot>") :],
        re.S,
    ).groups()
    found["total"] = (int(count), money_satang(amount))
    return found


def dashboard_figures(client, plan) -> dict[str, tuple[int, int]]:
    tambon = plan.tambon
    html = client.get(
        f"/district?year={plan.fiscal_year}&province={tambon.province}&district={tambon.district}"
    ).get_data(as_text=True)
    table = html[html.index('data-table="urgency"') :]
    row = table[table.index(f'<tr data-tambon-id="{tambon.id}">') :]
    row = row[: row.index("</tr>")]
    cells = {
        name: (int(count), int(amount))
        for name, count, amount in re.findall(
            r'data-cell="([^"]+)" data-count="(\d+)" data-satang="(\d+)"', row
        )
    }
    found = {tier: cells[f"urgency-{tier}"] for tier in ("urgent", "medium", "normal")}
    found["unset"] = cells["urgency-none"]
    found["total"] = cells["taken-forward"]
    return found


def test_every_output_counts_the_projects_taken_forward_alike(app, demo_plan):
    from tests.forum_script import play_forum

    with app.test_request_context():
        play_forum(demo_plan)
    # A project left in a funding group although found not feasible (as a plan file can bring
    # it): on the board, but not taken forward, everywhere alike.
    odd = db.session.scalar(
        select(Project)
        .where(Project.plan_id == demo_plan.id, Project.funding_group == "2")
        .order_by(Project.rank.desc())
    )
    odd.feasibility, odd.feasibility_reason = "not_feasible", "งบประมาณเกินศักยภาพ"
    record_change(demo_plan, "edit", actor=None)  # as every change to a plan is saved
    db.session.commit()
    # What the definition gives, counted here from the rows themselves.
    active = db.session.scalars(
        select(Project).where(Project.plan_id == demo_plan.id, Project.merged_into_id.is_(None))
    ).all()
    taken = [p for p in active if p.funding_group in "123" and p.feasibility != "not_feasible"]
    expected = {"total": (len(taken), sum(p.budget_satang for p in taken))}
    for tier in TIER_LABELS:
        members = [p for p in taken if (p.urgency or "unset") == tier]
        expected[tier] = (len(members), sum(p.budget_satang for p in members))
    assert 0 < expected["unset"][0] < expected["total"][0]

    admin = make_user("district-admin", "admin")
    client = app.test_client()
    client.login(admin.username)
    wb = download_workbook(client, demo_plan)
    print_page = client.get(f"/plans/{demo_plan.id}/print").get_data(as_text=True)
    minutes = client.get(f"/plans/{demo_plan.id}/minutes").get_data(as_text=True)
    outputs = {
        "summary sheet": summary_sheet_figures(wb),
        "urgency sheet": urgency_sheet_figures(wb),
        "minutes sheet": minutes_sheet_figures(wb),
        "print page": figures_of_table(print_page, 'id="taken-forward-title"'),
        "minutes page": figures_of_table(minutes, 'id="agreed-taken-forward"'),
        "projector summary": projector_figures(client, demo_plan),
        "district dashboard": dashboard_figures(client, demo_plan),
    }
    for name, figures in outputs.items():
        assert figures == expected, name
    # The print page's urgency chapter lists the same projects under each tier.
    for tier, (count, _amount) in expected.items():
        if tier != "total" and count:
            block = print_page[print_page.index(f'<tbody data-urgency="{tier}">') :]
            block = block[: block.index("</tbody>")]
            assert block.count("data-project-id=") == count, tier


# --- the wanted year (issue 16, item 4) ---------------------------------------------------


def test_a_project_wanted_outside_the_plan_years_is_flagged_and_listed_not_moved(
    facilitator_client, demo_plan
):
    plan = demo_plan
    assert plan.plan_years == [2566, 2567, 2568, 2569, 2570]
    own = plan.tambon.local_admin_agency
    late, mid, other = sorted(plan.projects, key=lambda p: p.id)[:3]
    for rank, (p, year) in enumerate(((late, 2571), (mid, 2568), (other, None)), start=1):
        p.rank = None
        db.session.flush()
        p.funding_group, p.rank, p.feasibility = "3", rank, "feasible"
        p.lead_agency, p.wanted_year = own, year
    db.session.commit()

    wb = download_workbook(facilitator_client, plan)
    ws = wb["ผ.02-1"]
    header = header_row(ws)
    years = [ws.cell(header, c).value for c in range(5, 10)]
    assert years == [f"{y} (บาท)" for y in plan.plan_years]
    rows = {ws.cell(r, 2).value: r for r in range(header + 1, ws.max_row + 1)}
    # Its own year's column: 2568 for the one wanted then, the fiscal year (2570) without one.
    for p, year in ((mid, 2568), (other, 2570)):
        column = 5 + plan.plan_years.index(year)
        assert satang(ws.cell(rows[p.title], column).value) == p.budget_satang
    # Wanted in 2571: in no year column of the form (not moved to 2570), but said and listed.
    assert late.title not in rows
    firsts = [ws.cell(r, 1).value for r in range(header + 1, ws.max_row + 1)]
    note = [v for v in firsts if "นอกช่วงปี" in str(v)]
    assert note == [
        "1 โครงการต้องการดำเนินการนอกช่วงปี 2566–2570: แสดงไว้ในแผ่นงาน 'นอกช่วงปีของแผน' ไม่ได้ใส่ไว้ในช่องปีใด"
    ]
    outside = wb["นอกช่วงปีของแผน"]
    listed = [
        [c.value for c in line]
        for line in outside.iter_rows(min_row=header_row(outside) + 1)
        if isinstance(line[0].value, int)
    ]
    assert [(r[1], r[2], r[3], satang(r[4])) for r in listed] == [
        (late.title, "ผ.02/1", "2571", late.budget_satang)
    ]
    facts = {line[0].value: line[1].value for line in wb["สรุป"].iter_rows() if line[0].value}
    assert facts["โครงการในแบบของแผนพัฒนาท้องถิ่นที่ต้องการนอกช่วงปีของแผน"] == 1

    # The card on the board says it too; the others do not.
    board = facilitator_client.get(f"/plans/{plan.id}/board").get_data(as_text=True)
    flagged = re.findall(
        r'data-project-id="(\d+)"(?:(?!</li>).)*data-outside-plan-years', board, re.S
    )
    assert [int(x) for x in flagged] == [late.id]
    assert "ต้องการในปี 2571 นอกช่วงปีของแผน" in board


# --- a village's own ranks (issue 16, item 5) ---------------------------------------------


def village_sheet_ranks(wb, village) -> dict[str, int | str]:
    ws = wb[f"หมู่ที่ {village.number} {village.name}"]
    return {
        line[1].value: line[0].value
        for line in ws.iter_rows(min_row=header_row(ws) + 1)
        if line[1].value and not str(line[0].value or "").startswith("รวม")
    }


def test_village_sheets_give_each_village_its_own_ranks(facilitator_client, demo_plan):
    from planapp.intake import projects as village_plans

    villages = {v.number: v for v in demo_plan.tambon.villages}
    # A merge in the hall: village 5's pond into village 2's (each ranked 2 at home).
    pond2, pond5 = (
        next(
            p
            for p in village_plans.village_projects(demo_plan, villages[n])
            if p.title.startswith("ขุดลอกหนอง")
        )
        for n in (2, 5)
    )
    assert (pond2.village_rank, pond5.village_rank) == (2, 1)
    village_plans.merge_projects(
        demo_plan, pond2, [pond5], title=pond2.title, budget_satang=pond2.budget_satang, actor=None
    )
    db.session.commit()
    wb = download_workbook(facilitator_client, demo_plan)
    for village in villages.values():
        ranks = [r for r in village_sheet_ranks(wb, village).values() if r is not None]
        assert len(ranks) == len(set(ranks)), village.number  # no rank twice
    # The weir of villages 3 and 4 is village 3's rank 2; village 4 has its own rank 2.
    weir = next(p for p in demo_plan.projects if p.village_numbers == [3, 4])
    assert village_sheet_ranks(wb, villages[3])[weir.title] == 2
    assert village_sheet_ranks(wb, villages[4])[weir.title] is None  # not ranked there
    # The tambon project of the merge keeps each village's own rank.
    assert village_sheet_ranks(wb, villages[2])[pond2.title] == 2
    assert village_sheet_ranks(wb, villages[5])[pond2.title] == 1
