"""How numbers and dates read: baht with thousands separators, Buddhist Era years."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale

THAI_MONTHS = [
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
]  # fmt: skip
THAI_MONTHS_SHORT = [
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
]  # fmt: skip
ENGLISH_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


def baht(satang: int | None) -> str:
    """1500000 satang -> '15,000'; 1550 -> '15.50'. Whole baht show no decimals."""
    if satang is None:
        return ""
    if satang % 100 == 0:  # the common case, thousands of times a board: no Decimal
        return f"{satang // 100:,}"
    amount = Decimal(satang) / 100
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def be_year(year_ce: int) -> int:
    return year_ce + 543


def _thai() -> bool:
    return str(get_locale() or "th").startswith("th")


def be_date(value: date | datetime | None, short: bool = False) -> str:
    """A date with its Buddhist Era year, e.g. '20 พฤศจิกายน 2569' or '20 November 2569 BE'."""
    if value is None:
        return ""
    if _thai():
        months = THAI_MONTHS_SHORT if short else THAI_MONTHS
        return f"{value.day} {months[value.month - 1]} {be_year(value.year)}"
    month = ENGLISH_MONTHS[value.month - 1]
    return f"{value.day} {month[:3] if short else month} {be_year(value.year)} BE"


def local_time(value: datetime | None) -> datetime | None:
    """Stored times are UTC; people read them in the hall's time zone."""
    if value is None:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)


def be_datetime(value: datetime | None) -> str:
    local = local_time(value)
    if local is None:
        return ""
    return f"{be_date(local, short=True)} {local:%H:%M}"


def hhmm(value: datetime | None) -> str:
    local = local_time(value)
    return f"{local:%H:%M}" if local else ""


def init_app(app) -> None:
    app.add_template_filter(baht)
    app.add_template_filter(be_date)
    app.add_template_filter(be_datetime)
    app.add_template_filter(hhmm)

    from planapp import domain

    # A global (not a context processor): regions rendered by name see it too.
    app.jinja_env.globals["domain"] = domain
