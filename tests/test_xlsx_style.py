"""The shared Thai-government spreadsheet rules (planapp/export/xlsx_style.py), read back."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from planapp.export import xlsx_style as xs

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "#N/A", "=1+1"]


def build(write_only: bool):
    wb = xs.new_workbook(write_only=write_only)
    columns = [
        xs.Column("ที่", 6, "center"),
        xs.Column("โครงการ", 40),
        xs.Column("2566", 14, "baht", group="งบประมาณ (บาท)"),
        xs.Column("2567", 14, "baht", group="งบประมาณ (บาท)"),
        xs.Column("หมายเหตุ", 20),
    ]
    sheet = xs.SheetWriter(wb, "ผ.02/1: [test]?", columns, title_lines=["หัวเรื่อง", "บรรทัดสอง"])
    first = sheet.next_row
    for n, title in enumerate(HOSTILE, start=1):
        sheet.row([n, title, n * 1000, None, "bad\x00char"])
    last = sheet.next_row - 1
    total = sheet.total_row("รวม", {3: (first, last), 4: (first, last)}, counts={5: (first, last)})
    stream = io.BytesIO()
    wb.save(stream)
    stream.seek(0)
    return load_workbook(stream), first, last, total


@pytest.mark.parametrize("write_only", [False, True])
def test_sheet_layout_formulas_and_safe_text(write_only):
    wb, first, last, total = build(write_only)
    ws = wb.worksheets[-1]
    assert ws.title == "ผ.02 1   test"
    # Two title lines, a two-row header (grouped budget years), frozen below it, printed on
    # every page.
    assert first == 5 and ws.freeze_panes == "A5"
    assert ws.print_title_rows == "$3:$4"
    assert ws["C3"].value == "งบประมาณ (บาท)" and ws["C4"].value == "2566"
    assert "C3:D3" in ws.merged_cells and "A3:A4" in ws.merged_cells
    assert ws["A3"].font.bold and ws["A3"].font.name == "TH SarabunPSK"
    # User text stays text, exactly as typed.
    for row, title in zip(range(first, last + 1), HOSTILE, strict=True):
        assert ws.cell(row, 2).value == title
        assert ws.cell(row, 2).data_type == "s"
        assert ws.cell(row, 5).value == "badchar"
    # Totals are formulas over exactly the rows above.
    assert ws.cell(total, 3).value == f"=SUM(C{first}:C{last})"
    assert ws.cell(total, 5).value == f"=COUNTA(E{first}:E{last})"
    assert ws.cell(total, 3).number_format == "#,##0"
    assert ws.cell(total, 3).font.bold
    for row in ws.iter_rows(min_row=1, max_row=total):
        for c in row:
            if c.value is not None:
                assert (c.font.name, c.font.size) == ("TH SarabunPSK", 16)
    # A4 landscape, one page wide.
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["B"].width == 40


def test_helpers():
    assert xs.sum_formula(5, 3, 9) == "=SUM(E3:E9)"
    assert xs.sum_formula(5, 3, 2) == "=0"
    assert xs.sum_cells([]) == "=0"
    assert xs.sum_cells(["A1", "B2"]) == "=SUM(A1,B2)"
    assert xs.be_date_text(date(2026, 11, 20)) == "20 พฤศจิกายน 2569"
    # Tone marks and vowels above/below take no width.
    assert xs.display_width("ที่นี่") == 2
    assert xs.fit_width(["ก" * 200]) == 50
    wb = xs.new_workbook()
    wb.create_sheet("กลุ่ม 1")
    assert xs.sheet_title(wb, "กลุ่ม 1") == "กลุ่ม 1 (2)"
    assert len(xs.sheet_title(wb, "ก" * 40)) == 31


def test_rows_grow_for_wrapped_text():
    """LibreOffice keeps rows at their stored height, so long text must come with a taller row;
    a total label merged across columns is measured against the merged width."""
    wb = xs.new_workbook(write_only=True)
    columns = [xs.Column("ที่", 5, "center"), xs.Column("โครงการ", 20), xs.Column("บาท", 12, "baht")]
    sheet = xs.SheetWriter(wb, "a", columns)
    short = sheet.row([1, "ถนน", 5])
    long = sheet.row([2, "ก่อสร้างถนนคอนกรีตเสริมเหล็ก " * 6, 5])
    total = sheet.total_row("รวมจำนวนโครงการ", {3: (short, long)}, label_column=2)
    stream = io.BytesIO()
    wb.save(stream)
    ws = load_workbook(io.BytesIO(stream.getvalue()))["a"]
    assert ws.sheet_format.defaultRowHeight == xs.ROW_HEIGHT
    assert ws.row_dimensions[short].height is None  # one line: the default height
    assert ws.row_dimensions[long].height >= xs.ROW_HEIGHT + 5 * xs.LINE_HEIGHT
    assert ws.row_dimensions[total].height is None
    assert xs.wrapped_lines("ก" * 10 + "\n" + "ข" * 10, 40) == 2
