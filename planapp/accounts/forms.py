from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, RadioField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from planapp.forms import AppForm

MIN_PASSWORD_LENGTH = 8


class LoginForm(AppForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class CheckboxListField(SelectMultipleField):
    """Tambons to assign, as a list of touch-sized checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        # Unknown ids (a tambon deleted meanwhile, a forged value) are an error, not ignored.
        known = {choice.value for choice in self.choices}
        if any(value not in known for value in self.data or []):
            raise ValidationError(_l("Choose tambons from the list."))


def _plain_username(form, field):
    value = field.data or ""
    if any(ch.isspace() for ch in value) or not value.isprintable():
        raise ValidationError(_l("A username has no spaces or invisible characters."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


ROLE_CHOICES = [
    SelectChoice("facilitator", _l("Facilitator: edits the plans of the tambons assigned")),
    SelectChoice(
        "district_officer",
        _l("District officer: reads and exports the plans and roll-ups of one district"),
    ),
    SelectChoice(
        "provincial_officer",
        _l("Provincial officer: reads and exports the plans and roll-ups of one province"),
    ),
    SelectChoice("admin", _l("Administrator: manages users, tambons and every plan")),
]


class UserForm(AppForm):
    """Name, role and tambons of a user; the create form adds the first password."""

    username = StringField(
        _l("Username"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=80), _plain_username],
    )
    display_name = StringField(
        _l("Name shown in the change log"), filters=[_strip], validators=[Length(max=200)]
    )
    role = RadioField(_l("Role"), choices=ROLE_CHOICES, default="facilitator")
    tambons = CheckboxListField(_l("Tambons this facilitator edits"), coerce=int)
    # Checked by planapp/accounts/users.py (officer_area), which says which field is at fault.
    area_province = StringField(_l("Officer's province"), filters=[_strip])
    area_district = StringField(_l("District officer's district"), filters=[_strip])


def new_password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("At least %(min)d characters."),  # Length fills in %(min)d
            ),
        ],
    )


def password_confirmation_field() -> PasswordField:
    return PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class NewUserForm(UserForm):
    password = new_password_field(_l("Password"))
    confirm = password_confirmation_field()


class PasswordForm(AppForm):
    """An administrator sets a new password for a user who forgot theirs."""

    password = new_password_field(_l("New password"))
    confirm = password_confirmation_field()


class ConfirmForm(AppForm):
    """A button that changes something: only the CSRF token."""


class FirstAdministratorForm(NewUserForm):
    """The first run: the administrator's name and password, typed on the laptop itself (an
    administrator, with no tambons: those fields are left out)."""

    role = None
    tambons = None
    area_province = None
    area_district = None
