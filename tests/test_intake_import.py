"""Excel import of village plans: the template, a round trip, what real files carry, every
refusal with its message, all-or-nothing, and the re-import warning."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from planapp.changes import undo_last_change
from planapp.extensions import db
from planapp.intake import importer
from planapp.models import ChangeLog, PendingImport, Project, Village

HEADERS = ["หมู่ที่", "ชื่อโครงการ", "ด้าน", "งบประมาณ (บาท)"]


def download_template(client, plan) -> bytes:
    response = client.get(f"/plans/{plan.id}/import/template.xlsx")
    assert response.status_code == 200
    return response.data


def fill_template(client, plan, rows: list[dict], start_row: int = 3) -> bytes:
    """Fill the downloaded template by header name, as a person would in Excel."""
    workbook = load_workbook(BytesIO(download_template(client, plan)))
    sheet = workbook["โครงการ"]
    columns = {cell.value: cell.column for cell in sheet[1]}
    for offset, row in enumerate(rows):
        for header, value in row.items():
            cell = sheet.cell(row=start_row + offset, column=columns[header])
            cell.value = value
            if isinstance(value, str) and value[:1] in "=+-@":
                cell.data_type = "s"  # typed into a text-formatted cell: text, not a formula
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def workbook_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(client, plan, data: bytes, filename: str = "หมู่บ้าน.xlsx"):
    """The upload, and the preview it leads to (after its redirect, when it had no problem)."""
    return client.post(
        f"/plans/{plan.id}/import",
        data={"file": (BytesIO(data), filename)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def confirm(client, plan, preview, **extra):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview.get_data(as_text=True))
    assert token, "the preview offers no confirm button"
    return client.post(f"/plans/{plan.id}/import/confirm", data={"token": token.group(1), **extra})


def count_projects() -> int:
    return db.session.scalar(select(func.count()).select_from(Project))


@pytest.fixture
def baseline(demo_plan) -> int:
    """How many projects the demo plan starts with."""
    return count_projects()


def village(plan, number: int) -> Village:
    return next(v for v in plan.tambon.villages if v.number == number)


# --- the template ---------------------------------------------------------------------------


def test_template_has_thai_headers_lists_example_and_instructions(facilitator_client, demo_plan):
    response = facilitator_client.get(f"/plans/{demo_plan.id}/import/template.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(BytesIO(response.data))
    assert workbook.sheetnames == ["โครงการ", "รายการ", "คำอธิบาย"]
    sheet = workbook["โครงการ"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:5] == ["หมู่ที่", "ลำดับในหมู่บ้าน", "ชื่อโครงการ", "ด้าน", "งบประมาณ (บาท)"]
    # The example row is there, marked, and the import would skip it.
    example = {headers[i]: cell.value for i, cell in enumerate(sheet[2])}
    assert example["ชื่อโครงการ"].startswith("(ตัวอย่าง)")
    assert example["ด้าน"] == "ด้านโครงสร้างพื้นฐาน"
    # Drop-down lists: sector (Thai labels) and the tambon's villages.
    lists = workbook["รายการ"]
    assert lists.sheet_state == "hidden"
    sectors = [lists.cell(row=r, column=2).value for r in range(2, 9)]
    assert "ด้านโครงสร้างพื้นฐาน" in sectors and "ด้านสาธารณสุข" in sectors
    villages = [
        lists.cell(row=r, column=1).value for r in range(2, 2 + len(demo_plan.tambon.villages))
    ]
    assert villages == [v.label for v in demo_plan.tambon.villages]
    validations = {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    assert validations["D2"].formula1.startswith("'รายการ'!$B$2")
    assert validations["A2"].formula1.startswith("'รายการ'!$A$2")
    assert validations["E2"].type == "decimal"
    # Text columns are formatted as text, so a typed "=" stays text in Excel too.
    assert sheet["C10"].number_format == "@"
    instructions = " ".join(str(c.value) for c in workbook["คำอธิบาย"]["A"] if c.value)
    assert "หนึ่งแถวต่อหนึ่งโครงการ" in instructions and demo_plan.tambon.name in instructions
    # Reading the untouched template finds nothing to import (the example is skipped).
    reading = importer.read_workbook(demo_plan, response.data)
    assert reading.rows == [] and reading.skipped_example == [2]


def test_round_trip_fill_import_and_read_back(facilitator_client, demo_plan, baseline):
    last_rank = db.session.scalar(
        select(func.max(Project.rank)).where(Project.funding_group == "unsorted")
    )
    v3 = village(demo_plan, 3)
    before_v3 = db.session.scalar(
        select(func.max(Project.village_rank)).where(Project.villages.contains(v3))
    )
    data = fill_template(
        facilitator_client,
        demo_plan,
        [
            {"หมู่ที่": v3.label, "ชื่อโครงการ": "  ขุดสระน้ำสาธารณะ  ", "ด้าน": "ด้านเศรษฐกิจและอาชีพ",
             "งบประมาณ (บาท)": 150000, "วัตถุประสงค์": "มีน้ำใช้หน้าแล้ง"},
            {},  # a blank row in between
            {"หมู่ที่": "๓", "ชื่อโครงการ": "อบรมอาสาสมัครสาธารณสุข", "ด้าน": "ด้านสาธารณสุข",
             "งบประมาณ (บาท)": "๑๒,๓๔๕.๕๐", "ลำดับในหมู่บ้าน": "๑"},
            {"หมู่ที่": "หมู่ 2", "ชื่อโครงการ": "=ลานตากข้าว+ชุมชน", "ด้าน": " ด้านสังคมและคุณภาพชีวิต ",
             "งบประมาณ (บาท)": "150,000.00", "หมายเหตุ": "@ผู้ใหญ่บ้าน", "ตัวชี้วัด (KPI)": "-10% ค่าใช้จ่าย"},
        ],
    )  # fmt: skip
    preview = upload(facilitator_client, demo_plan, data)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    for title in ["ขุดสระน้ำสาธารณะ", "อบรมอาสาสมัครสาธารณสุข", "=ลานตากข้าว+ชุมชน"]:
        assert title in page
    assert count_projects() == baseline  # the preview saves nothing

    response = confirm(facilitator_client, demo_plan, preview)
    assert response.status_code == 302
    db.session.expire_all()
    pond = db.session.scalar(select(Project).where(Project.title == "ขุดสระน้ำสาธารณะ"))
    training = db.session.scalar(select(Project).where(Project.title == "อบรมอาสาสมัครสาธารณสุข"))
    yard = db.session.scalar(select(Project).where(Project.title == "=ลานตากข้าว+ชุมชน"))
    assert (pond.sector, pond.budget_satang, pond.objective) == (
        "economy",
        150_000_00,
        "มีน้ำใช้หน้าแล้ง",
    )
    assert pond.village_numbers == [3] and pond.wanted_year == demo_plan.fiscal_year
    assert (training.sector, training.budget_satang) == ("health", 12_345_50)
    assert (yard.sector, yard.budget_satang, yard.village_numbers) == ("society", 150_000_00, [2])
    assert (yard.note, yard.kpi) == ("@ผู้ใหญ่บ้าน", "-10% ค่าใช้จ่าย")  # stored as typed
    # The board's unsorted column, at the end, in the file's order.
    assert [pond.rank, training.rank, yard.rank] == [last_rank + 1, last_rank + 2, last_rank + 3]
    # Village 3's own order: the row marked 1 first, then the unmarked one, after its old ones.
    assert [training.village_rank, pond.village_rank] == [before_v3 + 1, before_v3 + 2]
    # One change for the whole import: one undo takes it all back.
    entry = db.session.scalar(select(ChangeLog).order_by(ChangeLog.id.desc()))
    assert entry.action == "import" and len(entry.before["projects"]) == 3
    undo_last_change(demo_plan, actor=None)
    db.session.commit()
    assert count_projects() == baseline


def test_headers_in_another_order_with_a_title_row_and_english_names(facilitator_client, demo_plan):
    data = workbook_bytes(
        [
            ["แผนพัฒนาหมู่บ้าน ปี 2570"],
            [],
            ["Budget", "  ชื่อโครงการ ", "ด้าน", "หมายเหตุอื่น ๆ", "Village"],
            [" 45,000 ", "ปลูกป่าชุมชน", "environment", "x", 4],
            [None, None, None, None, None],
            ["  ", "", None, None, None],
            [0, "ทำบุญกลางบ้าน", "การศึกษา ศาสนา และวัฒนธรรม", "", 5.0],
        ]
    )
    preview = upload(facilitator_client, demo_plan, data)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "หมายเหตุอื่น ๆ" in page  # the column it did not read is named
    confirm(facilitator_client, demo_plan, preview)
    forest = db.session.scalar(select(Project).where(Project.title == "ปลูกป่าชุมชน"))
    merit = db.session.scalar(select(Project).where(Project.title == "ทำบุญกลางบ้าน"))
    assert (forest.budget_satang, forest.sector, forest.village_numbers) == (
        45_000_00,
        "environment",
        [4],
    )
    assert (merit.budget_satang, merit.sector, merit.village_numbers) == (
        0,
        "education_culture",
        [5],
    )


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ({"หมู่ที่": "99"}, "หมู่ที่", "หมู่ที่ 99 ไม่อยู่ในตำบลนี้"),
        ({"หมู่ที่": None}, "หมู่ที่", "ไม่ได้กรอกหมู่ที่"),
        ({"งบประมาณ (บาท)": -500}, "งบประมาณ (บาท)", "งบประมาณติดลบไม่ได้"),
        ({"งบประมาณ (บาท)": "-1,000"}, "งบประมาณ (บาท)", "งบประมาณติดลบไม่ได้"),
        ({"งบประมาณ (บาท)": "ห้าหมื่นบาท"}, "งบประมาณ (บาท)", "งบประมาณต้องเป็นตัวเลข"),
        ({"งบประมาณ (บาท)": None}, "งบประมาณ (บาท)", "ไม่ได้กรอกงบประมาณ"),
        ({"ชื่อโครงการ": "   "}, "ชื่อโครงการ", "ไม่ได้กรอกชื่อโครงการ"),
        ({"ด้าน": "ด้านกีฬา"}, "ด้าน", "ไม่รู้จักด้าน"),
        ({"งบประมาณ (บาท)": "=SUM(1,2)", "formula": True}, "งบประมาณ (บาท)", "มีสูตรคำนวณ"),
        ({"ปีงบประมาณที่ต้องการ (พ.ศ.)": 2026}, "ปีงบประมาณที่ต้องการ (พ.ศ.)", "พ.ศ."),
    ],
)
def test_every_bad_row_is_named_with_its_column_and_reason(
    facilitator_client, demo_plan, baseline, row, column, message
):
    good = {"หมู่ที่": "1", "ชื่อโครงการ": "ถนนดี", "ด้าน": "ด้านโครงสร้างพื้นฐาน", "งบประมาณ (บาท)": 1000}
    bad = dict(good, ชื่อโครงการ="แถวที่มีปัญหา")
    formula = row.pop("formula", False)
    bad.update(row)
    workbook = load_workbook(
        BytesIO(fill_template(facilitator_client, demo_plan, [good, good, bad]))
    )
    if formula:  # a real formula cell (openpyxl saves no calculated value with it)
        workbook["โครงการ"]["E5"] = "=SUM(1,2)"
    output = BytesIO()
    workbook.save(output)
    preview = upload(facilitator_client, demo_plan, output.getvalue())
    page = preview.get_data(as_text=True)
    assert preview.status_code == 400
    problem = re.search(
        r'<tr data-row="5"><td class="num">5</td><td>(.*?)</td><td>(.*?)</td></tr>', page
    )
    assert problem, page
    assert problem.group(1) == column
    assert message in problem.group(2)
    assert 'name="token"' not in page  # nothing to confirm
    assert "จะยังไม่นำเข้า" in page
    assert count_projects() == baseline


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"village,title,budget\n1,road,100\n", "plan.csv", "ไม่ใช่ไฟล์ Excel (.xlsx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "plan.xls", "ไฟล์ Excel แบบเก่า (.xls)"),
        (b"PK\x03\x04 broken", "plan.xlsx", "ไม่ใช่ไฟล์ Excel (.xlsx)"),
        (None, "plan.xlsx", "ไม่มีแผ่นงานใดมีหัวคอลัมน์ที่ต้องมี"),
    ],
)
def test_files_that_cannot_be_read_are_refused_clearly(
    facilitator_client, demo_plan, baseline, data, filename, message
):
    if data is None:
        data = workbook_bytes([["ชื่อ", "ราคา"], ["ถนน", 100]])
    response = upload(facilitator_client, demo_plan, data, filename)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'id="import-error"' in page
    assert count_projects() == baseline


def far_right_workbook(rows: int) -> bytes:
    """The hostile file of issue 13: good rows, each with one more cell in column XFD."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for n in range(rows):
        sheet.append(["1", f"ถนนสาย {n}", "ด้านโครงสร้างพื้นฐาน", 1000])
        sheet.cell(row=n + 2, column=16384, value="x")
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def test_a_value_far_right_of_the_template_is_refused_without_reading_the_width(
    facilitator_client, demo_plan, baseline
):
    """A few kilobytes with one cell in column XFD per row once padded every row to 16,384 cells
    (900 MB for 3,000 rows); the import reads the template's columns only, and says so.
    bench/import.py prints the peak memory of reading it."""
    response = upload(facilitator_client, demo_plan, far_right_workbook(300))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="import-error"' in page
    assert "แถวที่ 2 มีข้อมูลในคอลัมน์ XFD" in page and "คอลัมน์ A ถึง AN" in page
    assert count_projects() == baseline
    # Columns a village adds of its own, a little right of the template's, are still fine.
    workbook = load_workbook(BytesIO(far_right_workbook(0)))
    sheet = workbook.active
    sheet.append(["1", "ถนนสาย ก", "ด้านโครงสร้างพื้นฐาน", 1000])
    sheet.cell(row=1, column=importer.READ_COLUMNS, value="ผู้เสนอ")
    sheet.cell(row=2, column=importer.READ_COLUMNS, value="นายสมชาย")
    output = BytesIO()
    workbook.save(output)
    response = upload(facilitator_client, demo_plan, output.getvalue())
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    assert "ผู้เสนอ" in response.get_data(as_text=True)  # named among the columns not read


def replace_in_sheet(data: bytes, old: str, new: str) -> bytes:
    """The workbook with one piece of its first sheet's XML replaced, as a hostile or broken
    program could write it (openpyxl itself writes neither NaN nor 1e400)."""
    import zipfile

    source = zipfile.ZipFile(BytesIO(data))
    output = BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert old.encode() in content
                content = content.replace(old.encode(), new.encode(), 1)
            target.writestr(item, content)
    return output.getvalue()


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        (3, "<v>NaN</v>", "อ่านช่องหนึ่งในแผ่นงาน"),
        (3, "<v>1e400</v>", "งบประมาณต้องเป็นตัวเลข"),
        (4, "<v>1e400</v>", "พิมพ์เป็นจำนวนเต็ม"),
        (4, "<v>99999999999999999999999</v>", "ตัวเลขมากเกินไป"),
        (5, "<v>1e400</v>", "พิมพ์เป็นจำนวนเต็ม"),
        (5, "<v>99999999999999999999999</v>", "ตัวเลขมากเกินไป"),
        (4, "<v>3000000000</v>", "ตัวเลขมากเกินไป"),  # over PostgreSQL's INTEGER
    ],
)
def test_numbers_no_cell_can_hold_are_refused_in_their_row(
    facilitator_client, demo_plan, baseline, column, cell, message
):
    """NaN, infinity and integers past 2^63 once ended the import in a server error."""
    headers = [*HEADERS, "ลำดับในหมู่บ้าน", "ปีงบประมาณที่ต้องการ (พ.ศ.)"]
    data = workbook_bytes([headers, ["1", "ถนนดี", "ด้านโครงสร้างพื้นฐาน", 1000, 1, 2570]])
    letter = "ABCDEF"[column]
    value = {3: "1000", 4: "1", 5: "2570"}[column]
    data = replace_in_sheet(
        data, f'<c r="{letter}2" t="n"><v>{value}</v>', f'<c r="{letter}2" t="n">{cell}'
    )
    response = upload(facilitator_client, demo_plan, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_projects() == baseline


def test_missing_file_and_a_file_over_the_size_limit(app, facilitator_client, demo_plan, baseline):
    response = facilitator_client.post(f"/plans/{demo_plan.id}/import", data={})
    assert response.status_code == 400 and "กรุณาเลือกไฟล์ Excel" in response.get_data(as_text=True)
    big = fill_template(
        facilitator_client,
        demo_plan,
        [{"หมู่ที่": "1", "ชื่อโครงการ": f"โครงการ {n} " + "ก" * 400, "ด้าน": "ด้านสาธารณสุข",
          "งบประมาณ (บาท)": n} for n in range(300)],
    )  # fmt: skip
    app.config["MAX_CONTENT_LENGTH"] = len(big) // 2
    response = upload(facilitator_client, demo_plan, big)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "ไฟล์ใหญ่เกิน" in page and 'id="import-error"' in page
    assert count_projects() == baseline


def test_one_bad_row_imports_nothing_even_when_it_turns_bad_after_the_preview(
    facilitator_client, demo_plan, baseline
):
    rows = [
        {"หมู่ที่": "1", "ชื่อโครงการ": "ก", "ด้าน": "ด้านสาธารณสุข", "งบประมาณ (บาท)": 10},
        {"หมู่ที่": "2", "ชื่อโครงการ": "ข", "ด้าน": "ด้านสาธารณสุข", "งบประมาณ (บาท)": 10},
    ]
    empty = Village(tambon=demo_plan.tambon, number=20, name="ชั่วคราว")
    db.session.add(empty)
    db.session.commit()
    rows.append({"หมู่ที่": "20", "ชื่อโครงการ": "ค", "ด้าน": "ด้านสาธารณสุข", "งบประมาณ (บาท)": 10})
    preview = upload(
        facilitator_client, demo_plan, fill_template(facilitator_client, demo_plan, rows)
    )
    assert preview.status_code == 200
    # Village 20 is removed before the confirm: the re-read finds the bad row, nothing is saved.
    db.session.delete(empty)
    db.session.commit()
    response = confirm(facilitator_client, demo_plan, preview)
    assert response.status_code == 400
    assert "หมู่ที่ 20 ไม่อยู่ในตำบลนี้" in response.get_data(as_text=True)
    assert count_projects() == baseline
    assert demo_plan.version == 0


def test_a_failure_midway_rolls_the_whole_import_back(
    app, facilitator_client, demo_plan, baseline, monkeypatch
):
    rows = [
        {"หมู่ที่": "1", "ชื่อโครงการ": f"โครงการ {n}", "ด้าน": "ด้านสาธารณสุข", "งบประมาณ (บาท)": 10}
        for n in range(5)
    ]
    preview = upload(
        facilitator_client, demo_plan, fill_template(facilitator_client, demo_plan, rows)
    )
    real_snapshot = importer.project_snapshot

    def failing_snapshot(project, fields=None):
        if project.title == "โครงการ 3":
            raise RuntimeError("disk full")
        return real_snapshot(project, fields)

    monkeypatch.setattr(importer, "project_snapshot", failing_snapshot)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = confirm(facilitator_client, demo_plan, preview)
    assert response.status_code == 500
    db.session.rollback()
    assert count_projects() == baseline
    assert db.session.scalar(select(func.count()).select_from(ChangeLog)) == 0


def test_importing_the_same_file_twice_warns_instead_of_doubling(
    facilitator_client, demo_plan, baseline
):
    rows = [
        {"หมู่ที่": "1", "ชื่อโครงการ": "ขุดลอกหนองน้ำ", "ด้าน": "ด้านสาธารณสุข", "งบประมาณ (บาท)": 10},
        {"หมู่ที่": "2", "ชื่อโครงการ": "ซ่อมศาลากลางบ้าน", "ด้าน": "ด้านสาธารณสุข", "งบประมาณ (บาท)": 10},
    ]
    data = fill_template(facilitator_client, demo_plan, rows)
    confirm(facilitator_client, demo_plan, upload(facilitator_client, demo_plan, data))
    assert count_projects() == baseline + 2

    again = upload(facilitator_client, demo_plan, data)
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    assert 'id="import-existing"' in page and "มีโครงการชื่อนี้ในแผนแล้ว" in page
    response = confirm(facilitator_client, demo_plan, again)
    assert response.status_code == 400  # nothing new: skipped, said so
    assert "ไม่มีโครงการใหม่ที่จะนำเข้า" in response.get_data(as_text=True)
    assert count_projects() == baseline + 2

    # A changed file: the new row comes in, the old ones are still skipped.
    rows.append(
        {"หมู่ที่": "2", "ชื่อโครงการ": "ไฟส่องสว่าง", "ด้าน": "ด้านโครงสร้างพื้นฐาน", "งบประมาณ (บาท)": 5}
    )
    preview = upload(
        facilitator_client, demo_plan, fill_template(facilitator_client, demo_plan, rows)
    )
    confirm(facilitator_client, demo_plan, preview)
    assert count_projects() == baseline + 3
    # Ticking the box imports them anyway (the user's explicit choice).
    preview = upload(facilitator_client, demo_plan, data)
    confirm(facilitator_client, demo_plan, preview, include_existing="y")
    assert count_projects() == baseline + 5


def test_the_waiting_file_belongs_to_the_session_that_uploaded_it(
    app, facilitator_client, demo_plan, baseline
):
    rows = [{"หมู่ที่": "1", "ชื่อโครงการ": "ก", "ด้าน": "ด้านสาธารณสุข", "งบประมาณ (บาท)": 10}]
    preview = upload(
        facilitator_client, demo_plan, fill_template(facilitator_client, demo_plan, rows)
    )
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview.get_data(as_text=True))
    other = app.test_client()
    other.login("somchai")
    response = other.post(f"/plans/{demo_plan.id}/import/confirm", data={"token": token.group(1)})
    assert response.status_code == 400
    assert "กรุณาอัปโหลดอีกครั้ง" in response.get_data(as_text=True)
    for bad in ["../secret_key", ""]:
        response = facilitator_client.post(
            f"/plans/{demo_plan.id}/import/confirm", data={"token": bad}
        )
        assert response.status_code == 400
    assert count_projects() == baseline
    # The owner still can; afterwards the file is gone.
    assert confirm(facilitator_client, demo_plan, preview).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PendingImport)) == 0


def test_import_pages_need_a_signed_in_user_of_the_tambon(client, demo_plan):
    assert client.get(f"/plans/{demo_plan.id}/import").status_code == 302
    assert client.get(f"/plans/{demo_plan.id}/import/template.xlsx").status_code == 302


def test_imported_formula_like_text_never_becomes_a_formula_in_the_exports(
    facilitator_client, demo_plan
):
    titles = ['=HYPERLINK("http://x","คลิก")', "+66 81 234 5678 ประปา", "-ลดค่าไฟ", "@บ้านโนน"]
    rows = [
        {"หมู่ที่": "1", "ชื่อโครงการ": title, "ด้าน": "ด้านสาธารณสุข", "งบประมาณ (บาท)": 10}
        for title in titles
    ]
    preview = upload(
        facilitator_client, demo_plan, fill_template(facilitator_client, demo_plan, rows)
    )
    confirm(facilitator_client, demo_plan, preview)
    stored = set(db.session.scalars(select(Project.title)).all())
    assert set(titles) <= stored  # stored exactly as typed

    workbook = load_workbook(
        BytesIO(facilitator_client.get(f"/plans/{demo_plan.id}/export.xlsx").data)
    )
    found = {
        cell.value: cell.data_type
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value in titles
    }
    assert set(found) == set(titles)
    assert set(found.values()) == {"s"}
    csv_text = facilitator_client.get(f"/plans/{demo_plan.id}/export.csv").get_data(as_text=True)
    for title in titles:
        assert f"'{title}" in csv_text.replace('""', '"')


def test_every_step_of_the_import_is_a_page_of_its_own(facilitator_client, demo_plan):
    """Post, redirect, get (item 8): the upload answers a redirect to the preview, so back from
    the plan page after confirming shows the preview again, never the browser's "confirm form
    resubmission"; once imported, the preview says the file is gone."""
    row = {"หมู่ที่": "3", "ชื่อโครงการ": "ทดสอบการย้อนกลับ", "ด้าน": "ด้านสาธารณสุข"}
    data = fill_template(facilitator_client, demo_plan, [{**row, "งบประมาณ (บาท)": 1000}])
    response = facilitator_client.post(
        f"/plans/{demo_plan.id}/import",
        data={"file": (BytesIO(data), "ชุดที่ 1.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/plans/{demo_plan.id}/import/preview")
    preview = facilitator_client.get(f"/plans/{demo_plan.id}/import/preview")
    assert preview.status_code == 200 and "ชุดที่ 1.xlsx" in preview.get_data(as_text=True)
    # Reading the preview again changes nothing and shows the same.
    assert facilitator_client.get(f"/plans/{demo_plan.id}/import/preview").status_code == 200
    response = confirm(facilitator_client, demo_plan, preview)
    assert response.status_code == 302
    back = facilitator_client.get(f"/plans/{demo_plan.id}/import/preview")
    assert back.status_code == 302
