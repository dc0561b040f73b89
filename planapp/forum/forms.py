"""The project panel: what the forum decides about one project (feasibility, urgency, agencies,
strategies and programme, a note). New agencies can be typed in on the spot."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from planapp.domain import (
    AGENCY_KIND_LABELS,
    AGENCY_KINDS,
    FEASIBILITY,
    FEASIBILITY_LABELS,
    PROGRAMME_LABELS,
    PROGRAMMES,
    STRATEGY_LEVEL_LABELS,
    URGENCY,
    URGENCY_LABELS,
)
from planapp.forms import AppForm


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProjectPanelForm(AppForm):
    class Meta:
        csrf = False  # the htmx header carries the token (checked by CSRFProtect for every POST)

    feasibility = RadioField(
        _l("Feasibility"), choices=[(code, FEASIBILITY_LABELS[code]) for code in FEASIBILITY]
    )
    feasibility_reason = TextAreaField(
        _l("Reason it is not feasible"), validators=[Length(max=2000)]
    )
    urgency = RadioField(
        _l("Urgency"),
        choices=[("", _l("Not set"))] + [(code, URGENCY_LABELS[code]) for code in URGENCY],
        default="",
        validate_choice=True,
    )
    lead_agency_id = SelectField(_l("Lead agency"), coerce=optional_int, validate_choice=True)
    new_lead_agency = StringField(
        _l("Or a new lead agency"), validators=[Optional(), Length(max=300)]
    )
    supporting_agency_ids = MultiCheckboxField(_l("Supporting agencies"), coerce=int)
    new_supporting_agency = StringField(
        _l("Add a new supporting agency"), validators=[Optional(), Length(max=300)]
    )
    new_agency_kind = SelectField(
        _l("Kind of the new agency"),
        choices=[(code, AGENCY_KIND_LABELS[code]) for code in AGENCY_KINDS],
        default="government",
    )
    strategy_ids = MultiCheckboxField(_l("Strategies it aligns with"), coerce=int)
    # แผนงาน: proposed from the sector when the project was typed in, changeable here.
    programme = SelectField(
        _l("Programme (แผนงาน)"),
        choices=[("", _l("Not given"))] + [(code, PROGRAMME_LABELS[code]) for code in PROGRAMMES],
        default="",
        validate_choice=True,
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])

    def set_choices(self, agencies, strategies) -> None:
        self.lead_agency_id.choices = [(None, _l("Not named yet"))] + [
            (agency.id, agency.name) for agency in agencies
        ]
        self.supporting_agency_ids.choices = [(agency.id, agency.name) for agency in agencies]
        self.strategy_ids.choices = [
            (s.id, f"{STRATEGY_LEVEL_LABELS[s.level]} {s.code}: {s.name}") for s in strategies
        ]

    def validate_feasibility_reason(self, field) -> None:
        if self.feasibility.data == "not_feasible" and not (field.data or "").strip():
            raise ValidationError(_l("Say why the project is not feasible."))

    def validate_new_lead_agency(self, field) -> None:
        if (field.data or "").strip() and self.lead_agency_id.data:
            raise ValidationError(_l("Choose an agency from the list or type a new one, not both."))
