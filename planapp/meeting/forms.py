"""The forum record form: date, place, chair and the number of people from each village."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from planapp.forms import AppForm, ThaiDateField, WholeNumberField

MAX_PEOPLE = 100_000


class ForumRecordForm(AppForm):
    forum_date = ThaiDateField(_l("Date of the forum"), validators=[InputRequired()])
    forum_place = StringField(_l("Place"), validators=[InputRequired(), Length(max=300)])
    forum_chair = StringField(_l("Chair of the forum"), validators=[Length(max=200)])
    version = HiddenField()

    def village_fields(self):
        return [field for field in self if field.name.startswith("people_")]


def forum_record_form(villages, formdata=None, **kwargs) -> ForumRecordForm:
    """The form with one attendance field per village of the tambon (`people_<village id>`)."""

    class Form(ForumRecordForm):
        pass

    for village in villages:
        setattr(
            Form,
            f"people_{village.id}",
            WholeNumberField(
                # Built per request: gettext's plain str is escaped where the label is shown.
                # A lazy string counts as markup, and this one carries the village's name.
                _("Village %(label)s", label=village.label),
                validators=[
                    Optional(),
                    NumberRange(
                        min=0,
                        max=MAX_PEOPLE,
                        message=_l("Type a number of people from 0 to 100,000."),
                    ),
                ],
            ),
        )
    if formdata is None:
        return Form(**kwargs)
    return Form(formdata=formdata, **kwargs)
