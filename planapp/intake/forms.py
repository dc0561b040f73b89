"""Forms of the set-up screens and the village projects. Every validator names its message, so
the error next to the field is in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from planapp.domain import (
    AGENCY_KIND_LABELS,
    AGENCY_KINDS,
    PLAN_PREAMBLE_LABELS,
    PROGRAMME_LABELS,
    PROGRAMMES,
    SECTOR_LABELS,
    SECTORS,
    STRATEGY_LEVEL_LABELS,
    STRATEGY_LEVELS,
)
from planapp.forms import AppForm, WholeNumberField
from planapp.intake.values import ValueRefused, parse_baht, satang_to_text


def _required(message=None):
    return DataRequired(message=message or _l("Please fill this in."))


def _length(maximum: int):
    # Length fills in %(max)d itself: a lazy string never gets values of ours to interpolate.
    return Length(max=maximum, message=_l("At most %(max)d characters."))


class BahtField(StringField):
    """Baht as typed (`150,000`, `๑๕๐๐๐๐`, `1,500.50`); `data` is integer satang."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_baht(valuelist[0])
            except ValueRefused as refused:
                raise ValueError(str(refused)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return satang_to_text(self.data)


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _choices(codes, labels):
    return [(code, labels[code]) for code in codes]


class TambonForm(AppForm):
    name = StringField(_l("Tambon name"), validators=[_required(), _length(200)])
    district = StringField(_l("District"), validators=[_required(), _length(200)])
    province = StringField(_l("Province"), validators=[_required(), _length(200)])
    local_admin_agency_id = SelectField(
        _l("Local administration that receives the plan"), coerce=int, validators=[Optional()]
    )


class VillageForm(AppForm):
    number = WholeNumberField(
        _l("Village number (Moo)"),
        validators=[
            InputRequired(message=_l("Type the village number.")),
            NumberRange(min=1, max=999, message=_l("A village number is between 1 and 999.")),
        ],
    )
    name = StringField(_l("Village name"), validators=[_required(), _length(200)])


class PlanForm(AppForm):
    fiscal_year = WholeNumberField(
        _l("Fiscal year (Buddhist Era)"),
        validators=[
            InputRequired(message=_l("Type the fiscal year, e.g. 2570.")),
            NumberRange(
                min=2400, max=2800, message=_l("Type the year in Buddhist Era, e.g. 2570.")
            ),
        ],
    )
    plan_start_year = WholeNumberField(
        _l("First year of the five-year local development plan"),
        validators=[
            Optional(),
            NumberRange(
                min=2400, max=2800, message=_l("Type the year in Buddhist Era, e.g. 2570.")
            ),
        ],
    )
    grouping = SelectField(
        _l("Group the plan's projects by"),
        choices=[
            ("strategy", _l("Strategy and programme (ยุทธศาสตร์/แผนงาน)")),
            ("issue", _l("Development issue (ประเด็นการพัฒนา)")),
        ],
    )
    show_kpi = BooleanField(_l("Show the KPI column in the plan's forms"))
    identity = TextAreaField(_l("Identity"), validators=[_length(5000)])
    development_position = TextAreaField(_l("Development position"), validators=[_length(5000)])
    direction = TextAreaField(_l("Development direction"), validators=[_length(5000)])
    potential = TextAreaField(_l("Potential"), validators=[_length(5000)])
    key_problems = TextAreaField(_l("Key problems"), validators=[_length(5000)])
    # ก.–จ. of the ผ.02 forms: what the plan answers to.
    national_strategy = TextAreaField(
        PLAN_PREAMBLE_LABELS["national_strategy"], validators=[_length(2000)]
    )
    national_plan = TextAreaField(PLAN_PREAMBLE_LABELS["national_plan"], validators=[_length(2000)])
    sdgs = TextAreaField(PLAN_PREAMBLE_LABELS["sdgs"], validators=[_length(2000)])
    province_strategy = TextAreaField(
        PLAN_PREAMBLE_LABELS["province_strategy"], validators=[_length(2000)]
    )
    province_local_strategy = TextAreaField(
        PLAN_PREAMBLE_LABELS["province_local_strategy"], validators=[_length(2000)]
    )
    version = HiddenField()


class AgencyForm(AppForm):
    name = StringField(_l("Agency name"), validators=[_required(), _length(300)])
    kind = SelectField(_l("Kind"), choices=_choices(AGENCY_KINDS, AGENCY_KIND_LABELS))


class StrategyForm(AppForm):
    level = SelectField(_l("Level"), choices=_choices(STRATEGY_LEVELS, STRATEGY_LEVEL_LABELS))
    code = StringField(_l("Code"), validators=[_required(), _length(40)])
    name = StringField(_l("Strategy"), validators=[_required(), _length(500)])
    # A tactic (กลยุทธ์) names the strategy it belongs to; 0: a strategy of its own.
    parent_id = SelectField(_l("Tactic of the strategy"), coerce=int, default=0)
    # The area it belongs to: which tambons' plans see it (planapp/areas.py checks the rest).
    area_kind = SelectField(
        _l("Area"),
        choices=[
            ("national", _l("National: every tambon")),
            ("province", _l("A province: its tambons")),
            ("district", _l("A district: its tambons")),
            ("local", _l("A local administration (อปท.): the tambons it serves")),
        ],
        default="national",
    )
    area_province = StringField(_l("Province of the area"))
    area_district = StringField(_l("District of the area"))
    area_agency_id = SelectField(
        _l("Local administration of the area"), coerce=int, default=0, validate_choice=False
    )

    def set_parents(self, strategies, editing=None) -> None:
        """The strategies a tactic can belong to: those that are not tactics themselves."""
        self.parent_id.choices = [(0, _l("None: this is a strategy"))] + [
            (s.id, f"{STRATEGY_LEVEL_LABELS[s.level]} {s.code}: {s.name}")
            for s in strategies
            if s.parent_id is None and (editing is None or s.id != editing.id)
        ]

    def set_agencies(self, agencies) -> None:
        self.area_agency_id.choices = [(0, _l("None"))] + [(a.id, a.name) for a in agencies]


class ProjectForm(AppForm):
    title = StringField(
        _l("Project title"),
        validators=[_required(_l("Type the project title.")), _length(500)],
    )
    village_ids = CheckboxesField(
        _l("Villages that propose it"),
        coerce=int,
        validators=[DataRequired(message=_l("Choose at least one village."))],
    )
    sector = SelectField(_l("Sector"), choices=_choices(SECTORS, SECTOR_LABELS))
    budget_satang = BahtField(
        _l("Estimated budget (baht)"),
        validators=[InputRequired(message=_l("Type the budget: 0 if no money is needed."))],
    )
    wanted_year = WholeNumberField(
        _l("Wanted in fiscal year (Buddhist Era)"),
        validators=[
            Optional(),
            NumberRange(
                min=2400, max=2800, message=_l("Type the year in Buddhist Era, e.g. 2570.")
            ),
        ],
    )
    rationale = TextAreaField(_l("Rationale / problem"), validators=[_length(5000)])
    objective = TextAreaField(_l("Objective"), validators=[_length(5000)])
    target_output = TextAreaField(_l("Target / output"), validators=[_length(5000)])
    location = StringField(_l("Location"), validators=[_length(500)])
    programme = SelectField(
        _l("Programme (แผนงาน)"),
        choices=[("", _l("From the sector"))] + _choices(PROGRAMMES, PROGRAMME_LABELS),
    )
    kpi = TextAreaField(_l("KPI"), validators=[_length(2000)])
    expected_result = TextAreaField(_l("Expected result"), validators=[_length(2000)])
    note = TextAreaField(_l("Note"), validators=[_length(2000)])
    # Shown when a village already has a project with the title: the import warns of the same.
    same_title_ok = BooleanField(_l("Save it all the same: it is another project"))
    same_title_asked = False
    version = HiddenField()

    def values(self) -> dict:
        """The project's fields from the form, as stored."""
        return {
            "title": self.title.data.strip(),
            "sector": self.sector.data,
            "budget_satang": self.budget_satang.data,
            "wanted_year": self.wanted_year.data,
            "rationale": self.rationale.data.strip(),
            "objective": self.objective.data.strip(),
            "target_output": self.target_output.data.strip(),
            "location": self.location.data.strip(),
            "programme": self.programme.data,
            "kpi": self.kpi.data.strip(),
            "expected_result": self.expected_result.data.strip(),
            "note": self.note.data.strip(),
        }


class ConfirmForm(AppForm):
    """A bare POST with CSRF and the plan version the user saw."""

    version = HiddenField()


class MergeForm(AppForm):
    project_ids = CheckboxesField(_l("Projects"), coerce=int)
    keeper_id = SelectField(_l("Keep as the tambon project"), coerce=int)
    title = StringField(
        _l("Title of the merged project"),
        validators=[_required(_l("Type the project title.")), _length(500)],
    )
    budget_satang = BahtField(
        _l("Budget of the merged project (baht)"),
        validators=[InputRequired(message=_l("Type the budget: 0 if no money is needed."))],
    )
    version = HiddenField()


class ImportUploadForm(AppForm):
    file = FileField(_l("Excel file (.xlsx)"))


class ImportConfirmForm(AppForm):
    token = HiddenField()
    include_existing = BooleanField(_l("Import the rows that look like existing projects too"))
