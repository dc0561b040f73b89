from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from planapp.forms import AppForm


class PlanImportForm(AppForm):
    file = FileField(
        _l("Plan file (.json) exported from planapp"),
        validators=[FileRequired(_l("Choose the plan file."))],
    )
    replace = BooleanField(_l("Replace the plan of the same tambon and year on this server"))
