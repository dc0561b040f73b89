"""Village plans from Excel: the blank template, reading a filled one, and importing it.

Reading never changes anything: `read_workbook` returns every row with what it would import and,
for a bad row, the column and the reason. `import_rows` then saves all rows in one change (one
change-log entry, so one undo takes the whole import back), or raises before saving any.

Formulas: the upload is read with openpyxl, which never calculates anything. A formula cell takes
the value Excel saved with the file (what the person saw on screen); a formula without a saved
value is refused with a message, and the formula text itself is never stored. Text that merely
starts with `=`, `+`, `-` or `@` (a text cell) is stored exactly as typed.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from openpyxl.cell.read_only import EMPTY_CELL, ReadOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.datavalidation import DataValidation

from planapp.changes import project_snapshot, record_change
from planapp.domain import PROGRAMME_FOR_SECTOR, SECTOR_LABELS, SECTORS
from planapp.extensions import db
from planapp.intake.projects import next_rank, next_village_rank, titles_by_village
from planapp.intake.values import (
    ValueRefused,
    arabic_digits,
    normalise_text,
    parse_baht,
    parse_whole_number,
    title_key,
)
from planapp.intake.values import gettext as _
from planapp.models import Plan, Project, User, Village

# Guards against files that are small on the wire but huge inside (a zip bomb) or endless.
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
MAX_ROWS = 3000
HEADER_SEARCH_ROWS = 15
# Columns read from a sheet: the template's, with room for columns a village adds of its own.
# A value further right is refused: one cell in column XFD would otherwise make every row
# 16,384 cells wide in memory (a 64 KB file took 900 MB).
READ_COLUMNS = 40
EXAMPLE_MARKERS = ("(ตัวอย่าง)", "(example)")
TEMPLATE_ROWS = 300  # rows of the template that carry the lists and the text format


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Thai header of the template
    aliases: tuple[str, ...]
    required: bool = False
    width: int = 18
    text: bool = True


COLUMNS = [
    Column("village", "หมู่ที่", ("หมู่", "หมู่บ้าน", "village", "villageno", "moo"), True, 22, False),
    Column(
        "village_rank",
        "ลำดับในหมู่บ้าน",
        ("ลำดับความสำคัญ", "ลำดับความสำคัญของหมู่บ้าน", "villagerank", "priority"),
        False,
        12,
        False,
    ),
    Column(
        "title",
        "ชื่อโครงการ",
        ("โครงการ", "แผนงาน/โครงการ", "ชื่อแผนงาน/โครงการ", "title", "project"),
        True,
        40,
    ),
    Column("sector", "ด้าน", ("sector",), True, 30, False),
    Column(
        "budget",
        "งบประมาณ (บาท)",
        ("งบประมาณ", "งบประมาณโดยประมาณ", "budget", "budgetbaht"),
        True,
        16,
        False,
    ),
    Column(
        "rationale",
        "หลักการและเหตุผล / ปัญหา",
        ("หลักการและเหตุผล", "ปัญหา", "rationale", "problem"),
        False,
        30,
    ),
    Column("objective", "วัตถุประสงค์", ("objective",), False, 30),
    Column(
        "target_output", "เป้าหมาย (ผลผลิตของโครงการ)", ("เป้าหมาย", "target", "output"), False, 30
    ),
    Column("location", "สถานที่ดำเนินการ", ("สถานที่", "location"), False, 24),
    Column(
        "wanted_year",
        "ปีงบประมาณที่ต้องการ (พ.ศ.)",
        ("ปีที่ต้องการ", "ปีงบประมาณ", "year", "wantedyear"),
        False,
        14,
        False,
    ),
    Column("kpi", "ตัวชี้วัด (KPI)", ("ตัวชี้วัด", "kpi"), False, 24),
    Column("expected_result", "ผลที่คาดว่าจะได้รับ", ("expectedresult", "result"), False, 24),
    Column("note", "หมายเหตุ", ("note",), False, 20),
]
BY_KEY = {column.key: column for column in COLUMNS}
TEXT_LIMIT = {"title": 500, "location": 500}  # others: 5000


def header_key(text) -> str:
    """`งบประมาณ (บาท)`, ` Budget* ` and `งบประมาณ(บาท)` all read alike."""
    text = normalise_text(text).casefold()
    text = re.sub(r"\(.*?\)", "", text)
    return re.sub(r"[\s*.:_\-]", "", text)


HEADER_LOOKUP = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases, _column.key):
        HEADER_LOOKUP.setdefault(header_key(_name), _column.key)


# --- what a read gives back -----------------------------------------------------------------


class ImportRefused(Exception):
    """The file as a whole cannot be read (not xlsx, no headers, too big inside)."""


@dataclass
class RowProblem:
    column: str
    message: str


@dataclass
class ImportRow:
    number: int  # the row number Excel shows
    values: dict = field(default_factory=dict)
    village: Village | None = None
    village_rank: int | None = None
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    existing: bool = False  # looks like a project the plan already has

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ImportReading:
    sheet: str
    rows: list[ImportRow]
    skipped_example: list[int] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[tuple[int, RowProblem]]:
        return [(row.number, problem) for row in self.rows for problem in row.problems]

    @property
    def existing(self) -> list[ImportRow]:
        return [row for row in self.rows if row.existing]


# --- the template ---------------------------------------------------------------------------


def sector_labels(locale: str) -> dict[str, str]:
    with force_locale(locale):
        return {code: str(SECTOR_LABELS[code]) for code in SECTORS}


def build_template(plan: Plan) -> bytes:
    """The blank workbook: Thai headers, lists for sector and the tambon's villages, the text
    format on text columns (so a typed `=` stays text), an example row and instructions."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "โครงการ"
    lists = workbook.create_sheet("รายการ")
    help_sheet = workbook.create_sheet("คำอธิบาย")
    thai_sectors = sector_labels("th")
    villages = list(plan.tambon.villages)

    header_font = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFE699")
    optional_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = header_font
        cell.fill = required_fill if column.required else optional_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 36

    # The example row: marked so the import skips it if it is left in.
    first = villages[0] if villages else None
    example = {
        "village": first.label if first else "1",
        "village_rank": 1,
        "title": "(ตัวอย่าง) ซ่อมแซมถนนลูกรังเข้าพื้นที่การเกษตร",
        "sector": thai_sectors["infrastructure"],
        "budget": 150000,
        "rationale": "ถนนชำรุดเป็นหลุมบ่อ ขนผลผลิตลำบากในฤดูฝน",
        "objective": "ให้เกษตรกรขนส่งผลผลิตได้สะดวกตลอดปี",
        "target_output": "ถนนลูกรังยาว 1,200 เมตร กว้าง 4 เมตร",
        "location": "สายทุ่งนาหมู่ 1",
        "wanted_year": plan.fiscal_year,
        "kpi": "ถนนใช้งานได้ตลอดปี",
        "expected_result": "ลดต้นทุนการขนส่งผลผลิต",
        "note": "ลบแถวตัวอย่างนี้ได้",
    }
    grey = Font(italic=True, color="595959")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=2, column=index, value=example[column.key])
        cell.font = grey
    sheet.cell(row=2, column=COLUMNS.index(BY_KEY["budget"]) + 1).number_format = "#,##0.00"

    # Lists for the drop-downs, on their own (hidden) sheet: no 255-character limit.
    lists["A1"], lists["B1"] = "หมู่บ้าน", "ด้าน"
    for row, village in enumerate(villages, start=2):
        lists.cell(row=row, column=1, value=village.label).number_format = "@"
    for row, code in enumerate(SECTORS, start=2):
        lists.cell(row=row, column=2, value=thai_sectors[code])
    lists.sheet_state = "hidden"

    def column_range(key: str) -> str:
        letter = sheet.cell(row=1, column=COLUMNS.index(BY_KEY[key]) + 1).column_letter
        return f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"

    sector_list = DataValidation(
        type="list",
        formula1=f"'รายการ'!$B$2:$B${len(SECTORS) + 1}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="ด้าน",
        error="เลือกด้านจากรายการ",
    )
    sector_list.add(column_range("sector"))
    sheet.add_data_validation(sector_list)
    if villages:
        village_list = DataValidation(
            type="list",
            formula1=f"'รายการ'!$A$2:$A${len(villages) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="หมู่ที่",
            error="เลือกหมู่บ้านจากรายการ",
        )
        village_list.add(column_range("village"))
        sheet.add_data_validation(village_list)
    budget_check = DataValidation(
        type="decimal",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="งบประมาณ (บาท)",
        error="พิมพ์จำนวนเงินเป็นบาท ไม่ติดลบ เช่น 150000",
    )
    budget_check.add(column_range("budget"))
    sheet.add_data_validation(budget_check)
    for row in range(3, TEMPLATE_ROWS + 2):
        sheet.cell(row=row, column=COLUMNS.index(BY_KEY["budget"]) + 1).number_format = "#,##0.00"

    _write_instructions(help_sheet, plan, villages)
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def _write_instructions(sheet, plan: Plan, villages: list[Village]) -> None:
    lines = [
        (f"แบบนำเข้าแผนหมู่บ้าน ตำบล{plan.tambon.name} ปีงบประมาณ {plan.fiscal_year}", True),
        ("", False),
        ("วิธีกรอก", True),
        ("1. กรอกในแผ่นงาน “โครงการ” หนึ่งแถวต่อหนึ่งโครงการ", False),
        ("2. ช่องสีเหลืองต้องกรอก: หมู่ที่, ชื่อโครงการ, ด้าน, งบประมาณ (บาท)", False),
        ("3. หมู่ที่และด้าน: เลือกจากรายการในช่อง (หรือพิมพ์เลขหมู่ เช่น 3 หรือ ๓)", False),
        ("4. งบประมาณ: ตัวเลขเป็นบาท เช่น 150000 หรือ 150,000 ถ้าไม่ใช้เงินให้ใส่ 0", False),
        ("5. ลำดับในหมู่บ้าน: ลำดับความสำคัญของหมู่บ้านเอง (1 = สำคัญที่สุด) ว่างไว้ได้ จะเรียงตามแถว", False),
        ("6. ลบแถวตัวอย่าง (ขึ้นต้นด้วย “(ตัวอย่าง)”) ได้ ถ้าไม่ลบระบบจะข้ามให้", False),
        ("7. เรียงคอลัมน์ใหม่หรือเว้นแถวว่างได้ ระบบอ่านตามชื่อหัวคอลัมน์", False),
        ("8. ไม่ควรใช้สูตรคำนวณ ถ้ามีสูตร ระบบใช้ค่าที่ Excel คำนวณไว้ และจะไม่บันทึกตัวสูตร", False),
        ("9. บันทึกเป็นไฟล์ .xlsx แล้วอัปโหลดในหน้า “นำเข้าแผนหมู่บ้าน” ระบบจะแสดงตัวอย่างก่อนยืนยัน", False),
        ("   ถ้ามีแถวผิดแม้แถวเดียว จะยังไม่นำเข้าแถวใดเลย จนกว่าจะแก้ไข", False),
        ("", False),
        ("หมู่บ้านในตำบล", True),
    ]
    lines += [(f"หมู่ที่ {v.number} {v.name}", False) for v in villages] or [("(ยังไม่มี)", False)]
    for row, (text, bold) in enumerate(lines, start=1):
        cell = sheet.cell(row=row, column=1, value=text)
        cell.font = Font(bold=bold, size=13 if bold else 12)
    sheet.column_dimensions["A"].width = 100


# --- reading an upload ----------------------------------------------------------------------


def _open(data: bytes):
    """Both views of the workbook: formulas as written, and the values Excel saved with them."""
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise ImportRefused(
            _(
                "This is an old Excel file (.xls). In Excel choose Save As, "
                "Excel Workbook (.xlsx), and upload that."
            )
        )
    if not zipfile.is_zipfile(BytesIO(data)):
        raise ImportRefused(_("This file is not an Excel workbook (.xlsx)."))
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportRefused(_("This file is not an Excel workbook (.xlsx).")) from None
    if "xl/workbook.xml" not in names:
        raise ImportRefused(_("This file is not an Excel workbook (.xlsx)."))
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportRefused(_("The workbook is too large inside; split it into smaller files."))
    try:
        formulas = load_workbook(BytesIO(data), read_only=True, data_only=False)
        values = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise ImportRefused(_("The workbook could not be read; it may be damaged.")) from None
    return formulas, values


def _find_header(rows: list[tuple]) -> tuple[int, dict[str, int], list[str]] | None:
    """The first row (of the first few) naming every required column: its index, the column
    position of each known header, and the headers we do not read."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        positions, ignored = {}, []
        for position, cell in enumerate(row):
            if cell.value is None or not normalise_text(cell.value):
                continue
            key = HEADER_LOOKUP.get(header_key(cell.value))
            if key and key not in positions:
                positions[key] = position
            else:
                ignored.append(normalise_text(cell.value))
        if all(c.key in positions for c in COLUMNS if c.required):
            return index, positions, ignored
    return None


@dataclass
class SheetRows:
    rows: list[tuple]  # each READ_COLUMNS cells wide
    beyond: tuple[int, int] | None = None  # (row, column) of the first value right of them


def _sheet_rows(sheet, max_row: int) -> SheetRows:
    """The first `max_row` rows of a read-only sheet, each cut to READ_COLUMNS cells.

    openpyxl's iter_rows pads every row to the sheet's size, which the file states (and may
    state wrongly) or, once reset, to the row's last cell: so rows are taken from its parser
    here, and a value right of the columns we read is noted, not kept."""
    found = SheetRows(rows=[])
    empty = (EMPTY_CELL,) * READ_COLUMNS
    book = sheet.parent
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        try:
            for index, cells in parser.parse():
                if index > max_row:
                    break
                if index <= len(found.rows):
                    continue  # a row out of order: openpyxl skips it too
                found.rows.extend([empty] * (index - 1 - len(found.rows)))
                row = list(empty)
                for cell in cells:
                    column = cell["column"]
                    if column <= READ_COLUMNS:
                        row[column - 1] = ReadOnlyCell(sheet, **cell)
                    elif found.beyond is None and normalise_text(cell["value"]):
                        found.beyond = (index, column)
                found.rows.append(tuple(row))
        except (ValueError, TypeError, KeyError, IndexError, OverflowError):
            # A cell the parser cannot read: a number such as NaN, a string index out of range.
            raise ImportRefused(
                _(
                    "A cell of sheet %(sheet)s could not be read; the file may be damaged.",
                    sheet=sheet.title,
                )
            ) from None
    return found


def read_workbook(plan: Plan, data: bytes) -> ImportReading:
    formulas, values = _open(data)
    try:
        for sheet_name in formulas.sheetnames:
            formula_sheet = _sheet_rows(formulas[sheet_name], MAX_ROWS + HEADER_SEARCH_ROWS + 1)
            formula_rows = formula_sheet.rows
            found = _find_header(formula_rows)
            if found is None:
                continue
            if len(formula_rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise ImportRefused(
                    _(
                        "The sheet has more than %(max)s rows; split it into smaller files.",
                        max=MAX_ROWS,
                    )
                )
            if formula_sheet.beyond is not None:
                row, column = formula_sheet.beyond
                raise ImportRefused(
                    _(
                        "Row %(row)s has a value in column %(column)s; this import reads columns "
                        "A to %(last)s only. Move the projects into the template's columns, "
                        "delete the columns further right, and upload again.",
                        row=row,
                        column=get_column_letter(column),
                        last=get_column_letter(READ_COLUMNS),
                    )
                )
            value_rows = _sheet_rows(values[sheet_name], len(formula_rows)).rows
            return _read_rows(plan, sheet_name, formula_rows, value_rows, *found)
    finally:
        formulas.close()
        values.close()
    required = ", ".join(c.header for c in COLUMNS if c.required)
    raise ImportRefused(
        _(
            "No sheet has the required column headers: %(headers)s. Download the template "
            "and copy the rows into it.",
            headers=required,
        )
    )


def _cell(formula_row: tuple, value_row: tuple, position: int | None):
    """(value, refused message): a formula gives its saved value, never its text."""
    if position is None or position >= len(formula_row):
        return None, None
    cell = formula_row[position]
    if getattr(cell, "data_type", None) == "f":
        saved = value_row[position].value if position < len(value_row) else None
        if saved is None:
            return None, _(
                "The cell holds a formula without a calculated value; type the value instead."
            )
        return saved, None
    return cell.value, None


def _read_rows(plan, sheet_name, formula_rows, value_rows, header_index, positions, ignored):
    villages = {v.number: v for v in plan.tambon.villages}
    sectors = _sector_lookup()
    reading = ImportReading(sheet=sheet_name, rows=[], ignored_headers=ignored)
    for index in range(header_index + 1, len(formula_rows)):
        raw = {}
        formula_problems = []
        for key, position in positions.items():
            value, refused = _cell(
                formula_rows[index], value_rows[index] if index < len(value_rows) else (), position
            )
            raw[key] = value
            if refused:
                formula_problems.append(RowProblem(BY_KEY[key].header, refused))
        if not formula_problems and all(normalise_text(v) == "" for v in raw.values()):
            continue  # a blank row
        number = index + 1
        title = normalise_text(raw.get("title"))
        if title.casefold().startswith(EXAMPLE_MARKERS):
            reading.skipped_example.append(number)
            continue
        row = ImportRow(number=number, problems=formula_problems)
        _read_values(row, raw, villages, sectors, plan)
        reading.rows.append(row)
    _mark_existing(plan, reading.rows)
    return reading


def _sector_lookup() -> dict[str, str]:
    lookup = {}
    for locale in ("th", "en"):
        for code, label in sector_labels(locale).items():
            lookup[header_key(label)] = code
            lookup[header_key(label.removeprefix("ด้าน"))] = code
    for code in SECTORS:
        lookup[header_key(code)] = code
    return lookup


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalise_text(value)


def _read_values(row: ImportRow, raw: dict, villages: dict, sectors: dict, plan: Plan) -> None:
    def problem(key: str, message: str) -> None:
        row.problems.append(RowProblem(BY_KEY[key].header, message))

    # Village: `3`, `๓`, `หมู่ 3`, `3 บ้านโนน` (the template's list) all name village 3.
    village_text = arabic_digits(_text(raw.get("village")))
    match = re.match(r"^(?:ม\.|หมู่ที่|หมู่)?\s*(\d+)", village_text)
    if not village_text:
        problem("village", _("The village number is empty."))
    elif not match:
        problem("village", _("Type the village number, e.g. 3."))
    elif int(match.group(1)) not in villages:
        known = ", ".join(str(n) for n in sorted(villages)) or "-"
        problem(
            "village",
            _(
                "Village %(number)s is not in this tambon (its villages: %(known)s).",
                number=int(match.group(1)),
                known=known,
            ),
        )
    else:
        row.village = villages[int(match.group(1))]

    title = _text(raw.get("title"))
    if not title:
        problem("title", _("The project title is empty."))
    elif len(title) > TEXT_LIMIT["title"]:
        problem("title", _("The title is longer than %(max)s characters.", max=TEXT_LIMIT["title"]))
    row.values["title"] = title

    sector_text = _text(raw.get("sector"))
    if not sector_text:
        problem("sector", _("The sector is empty; choose one from the list."))
    elif header_key(sector_text) not in sectors:
        problem(
            "sector",
            _(
                "Unknown sector “%(text)s”; choose one of: %(choices)s.",
                text=sector_text,
                choices=", ".join(sector_labels("th").values()),
            ),
        )
    else:
        row.values["sector"] = sectors[header_key(sector_text)]
        row.values["programme"] = PROGRAMME_FOR_SECTOR.get(row.values["sector"], "")

    budget = raw.get("budget")
    try:
        row.values["budget_satang"] = parse_baht("" if budget is None else budget)
    except ValueRefused as refused:
        problem("budget", str(refused))

    for key in ("village_rank", "wanted_year"):
        try:
            number = parse_whole_number(raw.get(key))
        except ValueRefused as refused:
            problem(key, str(refused))
            continue
        if key == "village_rank":
            if number is not None and number < 1:
                problem(key, _("The village's order starts at 1."))
            row.village_rank = number
        elif number is None:
            row.values["wanted_year"] = plan.fiscal_year
        elif not 2400 <= number <= 2800:
            problem(key, _("Type the year in Buddhist Era, e.g. 2570."))
        else:
            row.values["wanted_year"] = number

    for key in (
        "rationale",
        "objective",
        "target_output",
        "location",
        "kpi",
        "expected_result",
        "note",
    ):
        text = _text(raw.get(key))
        limit = TEXT_LIMIT.get(key, 5000)
        if len(text) > limit:
            problem(key, _("The text is longer than %(max)s characters.", max=limit))
        row.values[key] = text


def _mark_existing(plan: Plan, rows: list[ImportRow]) -> None:
    """Warn (not refuse) when a row looks like a project the plan already has, or an earlier
    row of the same file: importing a file twice must not silently double it."""
    existing = titles_by_village(plan)
    seen = {}
    for row in rows:
        if row.village is None or not row.values.get("title"):
            continue
        key = (row.village.id, title_key(row.values["title"]))
        if key in existing:
            row.existing = True
            row.warnings.append(
                _(
                    "Village %(number)s already has a project with this title in the plan.",
                    number=row.village.number,
                )
            )
        elif key in seen:
            row.warnings.append(_("Same village and title as row %(row)s.", row=seen[key]))
        seen.setdefault(key, row.number)


# --- importing ------------------------------------------------------------------------------


def import_rows(
    plan: Plan, reading: ImportReading, *, include_existing: bool, actor: User | None
) -> list[Project]:
    """Save the rows as new projects in one change; the caller commits (or rolls back). Raises
    ImportRefused when any row is bad: then nothing at all is saved."""
    if reading.problems:
        raise ImportRefused(_("Some rows have problems; nothing was imported."))
    rows = [row for row in reading.rows if include_existing or not row.existing]
    if not rows:
        raise ImportRefused(_("There is no new project to import."))
    entry = record_change(
        plan,
        "import",
        actor=actor,
        details={"count": len(rows), "source": "excel"},
    )
    rank = next_rank(plan, "unsorted")
    # Each village's rows in the order it gave (the order column, else the row order), after the
    # projects the village already has.
    village_rank = {}
    ordered = sorted(rows, key=lambda r: (r.village_rank is None, r.village_rank or 0, r.number))
    for row in ordered:
        if row.village.id not in village_rank:
            village_rank[row.village.id] = next_village_rank(plan, row.village)
        else:
            village_rank[row.village.id] += 1
        row.values["_village_rank"] = village_rank[row.village.id]
    created = []
    for offset, row in enumerate(rows):
        values = {k: v for k, v in row.values.items() if not k.startswith("_")}
        project = Project(
            plan=plan,
            funding_group="unsorted",
            rank=rank + offset,
            village_rank=row.values["_village_rank"],
            villages=[row.village],
            proposed_by=row.village,
            **values,
        )
        db.session.add(project)
        created.append(project)
    db.session.flush()
    entry.before = {"projects": {str(p.id): None for p in created}}
    entry.after = {"projects": {str(p.id): project_snapshot(p) for p in created}}
    return created
