"""How a Thai government spreadsheet looks, for every workbook planapp writes.

The rules the planning office expects (and that the tambon plan and the per-agency exports share):
TH SarabunPSK 16 pt everywhere; a bold header row that is frozen on screen and repeated on every
printed page; column widths that fit Thai text, with wrapping; A4 landscape fitted to the page
width; baht with thousands separators; totals as real SUM formulas over exactly the rows above
them; Buddhist Era dates; and user text that is never taken for a formula.

Everything is written through `SheetWriter`, which appends whole rows. That works the same on a
normal workbook and on a `Workbook(write_only=True)` one (which streams rows to disk and keeps
memory flat for big plans); the only rule write-only mode adds is that widths, frozen panes and
the header are fixed before the first row, which `SheetWriter.__init__` does.

    wb = new_workbook(write_only=True)
    sheet = SheetWriter(wb, "กลุ่ม 1", [Column("ที่", 6, "center"), Column("โครงการ", 40),
                                        Column("งบประมาณ (บาท)", 16, "baht")],
                        title_lines=["บัญชีโครงการ กลุ่ม 1"])
    first = sheet.next_row
    for n, p in enumerate(projects, 1):
        sheet.row([n, p.title, p.budget])
    sheet.total_row("รวม", {3: (first, sheet.next_row - 1)})
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.cell_range import CellRange

FONT_NAME = "TH SarabunPSK"
FONT_SIZE = 16
BAHT = "#,##0"  # whole baht, as the ผ.02 forms print them
BAHT_SATANG = "#,##0.00"  # when any amount in the workbook has satang
COUNT = "#,##0"
PAPERSIZE_A4 = 9  # the OOXML paper code
ROW_HEIGHT = 24  # points: one line of 16 pt Sarabun with its tall vowels and tone marks
LINE_HEIGHT = 25  # points per further line of wrapped text
# TH SarabunPSK is narrow: a character takes about 0.75 of the "0" Excel measures widths with.
CHAR_WIDTH = 0.75
_WRAPPING = {"text", "header", "title", "plain", "label", "total_label"}
# Excel refuses longer cells; text longer than this is cut with a visible mark.
MAX_CELL_CHARS = 32_767
# A leading =, +, - or @ makes Excel (and LibreOffice) read typed text as a formula: the
# CSV/formula-injection family (OWASP). In the workbook such text is stored as a string and
# marked "quote prefix", so it shows exactly as typed and stays text even if an officer edits it.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

THAI_MONTHS = [
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
]  # fmt: skip

_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")


def thai_font(bold: bool = False) -> Font:
    return Font(name=FONT_NAME, size=FONT_SIZE, bold=bold)


# Cell kinds a column (or a single cell) can have; each is one named style in the workbook, so
# the officer sees them in Excel's style gallery and every cell costs one small style reference.
_KINDS = {
    "text": dict(alignment=Alignment(vertical="top", wrap_text=True), border=_BOX),
    "center": dict(alignment=Alignment(horizontal="center", vertical="top"), border=_BOX),
    "baht": dict(alignment=Alignment(horizontal="right", vertical="top"), border=_BOX),
    "count": dict(alignment=Alignment(horizontal="right", vertical="top"), border=_BOX),
    "header": dict(
        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        border=_BOX,
        fill=_HEADER_FILL,
    ),
    "title": dict(alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
    "plain": dict(alignment=Alignment(vertical="top", wrap_text=True)),
    "label": dict(alignment=Alignment(vertical="top", wrap_text=True)),
    "total_label": dict(
        alignment=Alignment(horizontal="right", vertical="top", wrap_text=True),
        border=_BOX,
        fill=_TOTAL_FILL,
    ),
    "total_baht": dict(
        alignment=Alignment(horizontal="right", vertical="top"), border=_BOX, fill=_TOTAL_FILL
    ),
    "total_count": dict(
        alignment=Alignment(horizontal="right", vertical="top"), border=_BOX, fill=_TOTAL_FILL
    ),
}
_BOLD_KINDS = {"header", "title", "label", "total_label", "total_baht", "total_count"}
_NUMBER_KINDS = {"baht", "total_baht", "count", "total_count"}


def style_name(kind: str) -> str:
    return f"th_{kind}"


def new_workbook(write_only: bool = False, satang: bool = False) -> Workbook:
    """A workbook whose default font (also of empty cells and of what the officer types later) is
    TH SarabunPSK 16, with the named styles of `_KINDS`. `satang=True` shows baht as #,##0.00."""
    wb = Workbook(write_only=write_only)
    # openpyxl has no public setter for the default font: font 0 is what cellXfs 0 and the
    # "Normal" style use, so replace it before any other style is registered.
    wb._fonts = IndexedList([thai_font()])
    wb._named_styles["Normal"].font = thai_font()
    money = BAHT_SATANG if satang else BAHT
    for kind, parts in _KINDS.items():
        number_format = "General"
        if kind in ("baht", "total_baht"):
            number_format = money
        elif kind in ("count", "total_count"):
            number_format = COUNT
        wb.add_named_style(
            NamedStyle(
                name=style_name(kind),
                font=thai_font(bold=kind in _BOLD_KINDS),
                number_format=number_format,
                **parts,
            )
        )
    return wb


def clean_text(value: str) -> str:
    """Text as typed, minus what an .xlsx cannot hold (control characters, over-long text)."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - 1] + "…"
    return value


def _apply_style(c: Cell, ws, kind: str) -> None:
    """`c.style = style_name(kind)`, minus openpyxl's search of the named-style list by name
    on every cell (a third of the export's time on big plans): the style arrays are looked up
    once per workbook and copied, as openpyxl's own descriptor does."""
    wb = ws.parent
    arrays = wb.__dict__.setdefault("_planapp_style_arrays", {})
    array = arrays.get(kind)
    if array is None:
        array = arrays[kind] = wb._named_styles[style_name(kind)].as_tuple()
    c._style = copy(array)


def cell(ws, value, kind: str = "text") -> Cell:
    """One cell for `SheetWriter.row` (or `ws.append`). Strings are always stored as strings:
    never as a formula, never as an error code, whatever they start with."""
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    elif isinstance(value, (date, datetime)):
        value = be_date_text(value)
    if isinstance(value, str):
        value = clean_text(value)
        c = WriteOnlyCell(ws, value)
        if c.data_type != "s":  # openpyxl turned "=..." into a formula or "#N/A" into an error
            c.data_type = "s"
        _apply_style(c, ws, kind)
        if value.startswith(FORMULA_TRIGGERS):
            c.quotePrefix = True
        return c
    c = WriteOnlyCell(ws, value)
    _apply_style(c, ws, kind)
    return c


def formula(ws, text: str, kind: str) -> Cell:
    """A formula we wrote ourselves (never user text): `text` starts with '='."""
    assert text.startswith("=")
    c = WriteOnlyCell(ws, text)
    _apply_style(c, ws, kind)
    return c


def sum_formula(column: int, first_row: int, last_row: int) -> str:
    """=SUM over exactly rows first..last of one column; 0 for an empty block (a reversed range
    would be read by Excel as the rows around it)."""
    if last_row < first_row:
        return "=0"
    letter = get_column_letter(column)
    return f"=SUM({letter}{first_row}:{letter}{last_row})"


def count_formula(column: int, first_row: int, last_row: int) -> str:
    """=COUNTA over exactly rows first..last of one (always filled) column."""
    if last_row < first_row:
        return "=0"
    letter = get_column_letter(column)
    return f"=COUNTA({letter}{first_row}:{letter}{last_row})"


def sum_cells(refs: Iterable[str]) -> str:
    """=SUM of scattered cells (e.g. the subtotal rows of the blocks above), or 0 if none."""
    refs = list(refs)
    if not refs:
        return "=0"
    # Excel caps a function at 255 arguments; chain with + beyond that.
    chunks = [refs[i : i + 250] for i in range(0, len(refs), 250)]
    return "=" + "+".join(f"SUM({','.join(chunk)})" for chunk in chunks)


def be_date_text(value: date | datetime | None, thai: bool = True) -> str:
    """'20 พฤศจิกายน 2569': the date as Thai documents print it (Buddhist Era year). Written as
    text because Excel's Buddhist-calendar number formats do not survive LibreOffice."""
    if value is None:
        return ""
    year = value.year + 543
    if thai:
        return f"{value.day} {THAI_MONTHS[value.month - 1]} {year}"
    return f"{value.day} {value:%B} {year} BE"


def display_width(text: str) -> int:
    """How many character cells Thai text takes: vowels and tone marks above and below the line
    (combining marks) take no width of their own."""
    text = str(text)
    return len(text) - len(_NON_SPACING.findall(text))


# Non-spacing marks: Thai vowels and tone marks above and below the line, general diacritics.
_NON_SPACING = re.compile(
    "["
    + "".join(
        chr(code)
        for code in [*range(0x0300, 0x0370), *range(0x0E31, 0x0E4F)]
        if unicodedata.category(chr(code)) == "Mn"
    )
    + "]"
)


def fit_width(texts: Iterable, minimum: float = 6, maximum: float = 50) -> float:
    """A column width (in Excel's character units) for these values: the widest line, bounded;
    longer text wraps."""
    widest = 0
    for text in texts:
        if text is None:
            continue
        for line in str(text).splitlines() or [""]:
            widest = max(widest, display_width(line))
    return max(minimum, min(maximum, round(widest * CHAR_WIDTH + 2, 1)))


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` wraps to in a column `width` units wide (an estimate on the safe
    side: a row a little too tall reads fine, a clipped one does not)."""
    # Thai wraps at word boundaries, so lines run shorter than the column.
    per_line = int(max(1.0, (width - 1.5) / (CHAR_WIDTH * 1.6)))
    lines = 0
    for line in text.split("\n"):
        # Most cells fit on one line even counting every mark: skip measuring those.
        lines += 1 if len(line) <= per_line else max(1, -(-display_width(line) // per_line))
    return lines


@dataclass
class Column:
    """A column of a table: its header, width (Excel character units) and cell kind.
    `group` puts a second header row above: consecutive columns with the same group share one
    merged group cell (e.g. งบประมาณ over the five plan years)."""

    header: str
    width: float = 20
    kind: str = "text"
    group: str | None = None


class SheetWriter:
    """Appends rows to one sheet with the government look. Row numbers are 1-based and tracked,
    so totals can name exactly the rows they add up."""

    def __init__(
        self,
        wb: Workbook,
        title: str,
        columns: Sequence[Column],
        title_lines: Sequence[str] = (),
        landscape: bool = True,
        header: bool = True,
    ):
        self.wb = wb
        self.ws = wb.create_sheet(sheet_title(wb, title))
        self.columns = list(columns)
        self.widths = [column.width for column in self.columns]
        self.next_row = 1
        ws = self.ws
        for index, column in enumerate(self.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        grouped = any(column.group for column in self.columns)
        header_rows = (2 if grouped else 1) if header else 0
        self.header_first = len(title_lines) + 1
        self.header_last = len(title_lines) + header_rows
        if header:
            # Frozen below the header on screen; the same rows repeat on every printed page.
            ws.freeze_panes = f"A{self.header_last + 1}"
            ws.print_title_rows = f"{self.header_first}:{self.header_last}"
        page_setup(ws, landscape=landscape)
        ws.sheet_format.defaultRowHeight = ROW_HEIGHT
        for line in title_lines:
            self.merged_line(line, kind="title")
        if header:
            self._header(grouped)

    @property
    def width(self) -> int:
        return len(self.columns)

    def _header(self, grouped: bool) -> None:
        first = self.next_row
        if not grouped:
            self.row([column.header for column in self.columns], kinds="header")
            return
        top, bottom = [], []
        for column in self.columns:
            top.append(column.group or column.header)
            bottom.append(column.header if column.group else None)
        self.row(top, kinds="header")
        self.row(bottom, kinds="header")
        index = 0
        while index < self.width:
            column = self.columns[index]
            end = index
            if column.group:
                while end + 1 < self.width and self.columns[end + 1].group == column.group:
                    end += 1
                if end > index:
                    self.merge(first, index + 1, first, end + 1)
            else:
                self.merge(first, index + 1, first + 1, index + 1)
            index = end + 1

    def merge(self, row1: int, col1: int, row2: int, col2: int) -> None:
        # Straight into the set: openpyxl's `add` first compares the range with every merge
        # already made (quadratic in a sheet of thousands of merged lines), and ours never
        # overlap (each merges cells of rows written just now).
        merged = CellRange(min_col=col1, min_row=row1, max_col=col2, max_row=row2)
        self.ws.merged_cells.ranges.add(merged)

    def merged_line(self, text: str, kind: str = "title") -> int:
        """A line of text across the whole table width (titles, notes)."""
        row = self.row([text], kinds=[kind], spans={0: self.width})
        if self.width > 1:
            self.merge(row, 1, row, self.width)
        return row

    def row(
        self,
        values: Sequence,
        kinds: str | Sequence[str] | None = None,
        spans: dict[int, int] | None = None,
    ) -> int:
        """Append one row; values may be plain values, or cells made with `cell`/`formula`.
        Strings starting with '=' are text unless made with `formula`. Returns its row number.
        `spans` {column index: number of columns} tells which cells will be merged across
        columns, so their text is measured against the merged width. The row is made tall
        enough for its wrapped text: spreadsheet programs do not all grow rows by themselves
        (LibreOffice keeps the default height)."""
        if kinds is None:
            kinds = [column.kind for column in self.columns]
        elif isinstance(kinds, str):
            kinds = [kinds] * len(values)
        cells = []
        lines = 1
        widths = self.widths
        for index, (value, kind) in enumerate(zip(values, kinds, strict=False)):
            if value is None:
                cells.append(None)
                continue
            if not isinstance(value, Cell):
                value = cell(self.ws, value, kind)
            cells.append(value)
            if kind in _WRAPPING and value.data_type == "s" and value.value:
                if spans and index in spans:
                    width = sum(widths[index : index + spans[index]])
                else:
                    width = widths[index] if index < len(widths) else 0
                lines = max(lines, wrapped_lines(value.value, width))
        if lines > 1:
            self.ws.row_dimensions[self.next_row].height = ROW_HEIGHT + LINE_HEIGHT * (lines - 1)
        self.ws.append(cells)
        row = self.next_row
        self.next_row += 1
        return row

    def blank_row(self) -> int:
        return self.row([])

    def formula(self, text: str, kind: str) -> Cell:
        return formula(self.ws, text, kind)

    def total_row(
        self,
        label: str,
        sums: dict[int, tuple[int, int]] | None = None,
        label_column: int = 2,
        counts: dict[int, tuple[int, int]] | None = None,
        formulas: dict[int, tuple[str, str]] | None = None,
    ) -> int:
        """A bold total row: `label` across columns 1..`label_column` (merged), and for
        each {column: (first_row, last_row)} a SUM (or COUNTA in `counts`) over exactly those
        rows of that column; `formulas` {column: (formula, kind)} for any other total (e.g.
        `sum_cells` of subtotal rows)."""
        values: list = [None] * self.width
        kinds = ["total_label"] * self.width
        values[0] = label
        for column, (first, last) in (sums or {}).items():
            values[column - 1] = self.formula(sum_formula(column, first, last), "total_baht")
        for column, (first, last) in (counts or {}).items():
            values[column - 1] = self.formula(count_formula(column, first, last), "total_count")
        for column, (text, kind) in (formulas or {}).items():
            values[column - 1] = self.formula(text, kind)
        hidden = [i + 1 for i, v in enumerate(values[1:label_column], 1) if v is not None]
        assert not hidden, f"columns {hidden} would be hidden under the merged label"
        # Border the empty cells of the total row too, so it prints as one closed line.
        for index, value in enumerate(values):
            if value is None:
                values[index] = cell(self.ws, "", "total_label")
        row = self.row(values, kinds, spans={0: label_column})
        if label_column > 1:
            self.merge(row, 1, row, label_column)
        return row


def sheet_title(wb: Workbook, wanted: str) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\ ."""
    name = re.sub(r"[\[\]:*?/\\]", " ", wanted).strip().strip("'") or "Sheet"
    name = name[:31]
    taken = set(wb.sheetnames)
    candidate, n = name, 2
    while candidate in taken:
        suffix = f" ({n})"
        candidate = name[: 31 - len(suffix)] + suffix
        n += 1
    return candidate


def page_setup(ws, landscape: bool = True) -> None:
    """A4, landscape (or portrait), fitted to one page wide and as many pages tall as needed,
    narrow margins, centred, page numbers in the footer."""
    ws.page_setup.paperSize = PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "&P / &N"
    ws.oddFooter.center.font = FONT_NAME
    ws.oddFooter.center.size = 14
