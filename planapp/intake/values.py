"""Reading numbers as people type them: `150,000`, `150000.00`, `๑๕๐,๐๐๐ บาท`, a number cell.

Used by the project form and the Excel import, so both accept and refuse exactly the same things.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from planapp.i18n import gettext as gettext  # the importer's messages

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# The largest budget we accept (ten thousand million baht): beyond it is a typing slip.
MAX_BAHT = Decimal("10000000000")
# The largest whole number an INTEGER column holds on PostgreSQL: beyond it nothing is right.
MAX_WHOLE_NUMBER = 2**31 - 1


class ValueRefused(ValueError):
    """A value that cannot be read; the message says why in the user's words."""


def normalise_text(value) -> str:
    """Text as typed, without surrounding spaces (also the no-break and zero-width kinds that
    copy-paste from Word brings along)."""
    if value is None:
        return ""
    return str(value).strip().strip("\u00a0\u200b\ufeff").strip()


def arabic_digits(text: str) -> str:
    return text.translate(THAI_DIGITS)


def parse_baht(value) -> int:
    """Baht to integer satang. Accepts numbers, `150,000`, `150000.00`, `150,000.-`, Thai digits,
    a trailing `บาท`. Refuses blanks, words, negatives and more than two decimals."""
    if isinstance(value, bool):
        raise ValueRefused(_l("Type the budget as a number of baht."))
    if isinstance(value, int | float | Decimal):
        amount = Decimal(str(value))
    else:
        text = arabic_digits(normalise_text(value))
        text = re.sub(r"\s*(บาท|baht|THB|฿)\s*$", "", text, flags=re.IGNORECASE).strip()
        text = text.removesuffix(".-")  # the ledger habit "150,000.-"
        if not text:
            raise ValueRefused(_l("The budget is empty: type 0 if no money is needed."))
        if text.startswith("-") or text.startswith("−"):
            raise ValueRefused(_l("The budget cannot be negative."))
        # Thousands separators: commas (or spaces) between groups of three digits.
        if not re.fullmatch(r"\d{1,3}([, ]\d{3})+(\.\d+)?|\d+(\.\d+)?", text):
            raise ValueRefused(_l("The budget must be a number of baht, e.g. 150,000."))
        amount = Decimal(text.replace(",", "").replace(" ", ""))
    try:
        if not amount.is_finite():
            raise InvalidOperation
        satang = amount * 100
    except InvalidOperation:
        raise ValueRefused(_l("The budget must be a number of baht, e.g. 150,000.")) from None
    if amount < 0:
        raise ValueRefused(_l("The budget cannot be negative."))
    if amount > MAX_BAHT:
        raise ValueRefused(_l("The budget is too large to be right."))
    if satang != satang.to_integral_value():
        raise ValueRefused(_l("The budget can have at most two decimals (satang)."))
    return int(satang)


def parse_whole_number(value) -> int | None:
    """A whole number from a cell or a form (`3`, `๓`, `3.0`, ` 3 `, `1,500`, `๑๕๐,๐๐๐`); None
    when blank."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or value != int(value):  # NaN, 1e400 from a cell
            raise ValueRefused(_l("Type a whole number."))
        number = int(value)
    else:
        text = arabic_digits(normalise_text(value))
        if not text:
            return None
        # Thousands separators: commas between groups of three digits.
        match = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(\.0+)?", text)
        if not match:
            raise ValueRefused(_l("Type a whole number."))
        digits = match.group(1).replace(",", "")
        if len(digits) > 20:  # int() of thousands of digits is slow, and refused anyway
            raise ValueRefused(_l("The number is too large."))
        number = int(digits)
    if abs(number) > MAX_WHOLE_NUMBER:
        raise ValueRefused(_l("The number is too large."))
    return number


def whole_number_or_none(value) -> int | None:
    """A whole number people do not type (an id or version in a hidden field, a query string):
    None when it is not one, or past what the database holds, so it finds nothing."""
    try:
        return parse_whole_number(value)
    except ValueRefused:
        return None


def satang_to_text(satang: int | None) -> str:
    """Satang back to what a person types in the budget field: `150,000` or `1,500.50`."""
    if satang is None:
        return ""
    amount = Decimal(satang) / 100
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def title_key(title: str) -> str:
    """Titles compared for the "already exists" warning: case, spaces and Thai digits aside."""
    return re.sub(r"\s+", " ", arabic_digits(title).casefold()).strip()
