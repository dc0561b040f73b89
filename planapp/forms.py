"""The base of every form: WTForms' own messages ("This field is required.", "Not a valid
integer value.", ...) in the user's language. WTForms ships no Thai catalog, and Flask-WTF only
reads WTForms' catalogs, so forms take their messages from our merged catalog instead
(planapp/translations/th/LC_MESSAGES/wtforms.po)."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField

from planapp.intake.values import MAX_WHOLE_NUMBER, ValueRefused, arabic_digits, parse_whole_number


class CatalogMessages:
    """The translations object WTForms asks for: gettext and ngettext over our catalog."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class AppForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return CatalogMessages()

    def process(self, *args, **kwargs):
        super().process(*args, **kwargs)
        # A text field that a posted form left out reads as empty, as a browser sends an empty
        # one; None would fail further on (a `.strip()`, a NOT NULL column) with a 500.
        # An integer past what the database holds is refused here, before a validator compares
        # it as a float (400 digits overflow) or it reaches a column.
        for field in self:
            if (
                type(field) in (StringField, TextAreaField)
                and getattr(field, "raw_data", None) == []
                and field.data is None
            ):
                field.data = ""
            elif (
                isinstance(field, IntegerField)
                and isinstance(field.data, int)
                and abs(field.data) > MAX_WHOLE_NUMBER
            ):
                field.data = None
                field.process_errors.append(_l("The number is too large."))


# Years from here on are Buddhist Era (2400 BE = 1857 CE): no forum date is that old.
FIRST_BE_YEAR = 2400
BE_OFFSET = 543


def parse_thai_date(text: str) -> date:
    """A date as people in Thailand write it: `20/11/2569` (day/month/Buddhist Era year), also
    with Thai digits, dashes or dots, a Western year, or ISO `2026-11-20`. ValueError if not."""
    text = arabic_digits(text).strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        parts = re.fullmatch(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})", text)
        if not parts:
            raise ValueError(text)
        day, month, year = (int(part) for part in parts.groups())
    if year >= FIRST_BE_YEAR:
        year -= BE_OFFSET
    return date(year, month, day)


# What a date field shows before anything is typed; followed by `parse_thai_date`.
THAI_DATE_PLACEHOLDER = _l("dd/mm/yyyy (BE), e.g. 20/11/2569")


class ThaiDateField(StringField):
    """A date typed as day/month/Buddhist Era year, shown the same way. (The browser's own date
    picker shows Western years, and the hall thinks in พ.ศ.)"""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {})
        kwargs["render_kw"].setdefault("placeholder", THAI_DATE_PLACEHOLDER)
        kwargs["render_kw"].setdefault("autocomplete", "off")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, date):
            return f"{self.data.day}/{self.data.month}/{self.data.year + BE_OFFSET}"
        return ""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        try:
            self.data = parse_thai_date(valuelist[0])
        except ValueError:
            raise ValueError(
                self.gettext("Type the date as day/month/year (BE), e.g. 20/11/2569.")
            ) from None


class WholeNumberField(StringField):
    """A whole number typed as people type it: Thai or Western digits, thousands separators
    (`25`, `๒๕`, `1,500`, `๑๕๐,๐๐๐`). A text input (design brief section 6: a `type=number`
    input drops what it cannot read, Thai digits included); `inputmode` brings up the digits
    keyboard. Anything else is refused with a message next to the field."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {})
        kwargs["render_kw"].setdefault("inputmode", "numeric")
        kwargs["render_kw"].setdefault("autocomplete", "off")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist:
            try:
                self.data = parse_whole_number(valuelist[0])
            except ValueRefused as refused:
                raise ValueError(str(refused)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)
