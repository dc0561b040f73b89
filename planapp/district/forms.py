"""Forms of the district area. Fields are plain text: the domain functions parse and check
them, so every refusal carries our own message, in Thai or English."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from planapp.domain import FOLLOWUP, FOLLOWUP_LABELS
from planapp.forms import THAI_DATE_PLACEHOLDER, AppForm


class FollowupForm(AppForm):
    """One project's follow-up; each row of the page has its own, prefixed with the project."""

    status = SelectField(
        _l("Follow-up status"),
        choices=[(code, FOLLOWUP_LABELS[code]) for code in FOLLOWUP],
        validate_choice=False,  # the domain refuses with a message that says why
    )
    # Text, read by followup.py with planapp.forms.parse_thai_date (its own refusal message).
    day = StringField(_l("Date"), render_kw={"placeholder": THAI_DATE_PLACEHOLDER})
    amount = StringField(
        _l("Amount in the budget ordinance (baht)"), render_kw={"inputmode": "decimal"}
    )
    year = StringField(
        _l("Budget fiscal year (B.E.)"), render_kw={"inputmode": "numeric", "maxlength": 4}
    )
    note = TextAreaField(_l("Note (the reason, when dropped)"), render_kw={"rows": 2})
    seen_status = HiddenField()

    def limit_choices(self, statuses: list[str]) -> None:
        self.status.choices = [(code, FOLLOWUP_LABELS[code]) for code in statuses]


class CarryOverForm(AppForm):
    fiscal_year = StringField(
        _l("New fiscal year (B.E.)"), render_kw={"inputmode": "numeric", "maxlength": 4}
    )
