from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from planapp.forms import AppForm, WholeNumberField
from planapp.sync.client import check_address


def _an_address(form, field):
    try:
        check_address(field.data or "")
    except ValueError:
        raise ValidationError(
            _l("Type the server's address as it was given, e.g. https://plan.example.org")
        ) from None


class SyncSettingsForm(AppForm):
    server_url = StringField(
        _l("District server's address"),
        validators=[DataRequired(), Length(max=300), _an_address],
        render_kw={"autocomplete": "url", "inputmode": "url", "spellcheck": "false"},
    )
    token = PasswordField(_l("Token of this tambon"), validators=[Length(max=200)])


class PullForm(AppForm):
    replace_changes = BooleanField(_l("Replace the changes made on this laptop"))


class PushForm(AppForm):
    pass


class NewPullForm(AppForm):
    server_url = SyncSettingsForm.server_url
    token = PasswordField(_l("Token of this tambon"), validators=[DataRequired(), Length(max=200)])
    fiscal_year = WholeNumberField(
        _l("Fiscal year (B.E.)"), validators=[DataRequired(), NumberRange(2400, 2800)]
    )


class TokenForm(AppForm):
    label = StringField(
        _l("Which laptop or hall it is for"), validators=[DataRequired(), Length(max=200)]
    )


class RevokeForm(AppForm):
    pass
