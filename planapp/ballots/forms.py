"""The facilitator's new vote round (group, picks, ballots per village) and the phone's code."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from planapp.ballots.rounds import MAX_BALLOTS_PER_VILLAGE, MAX_PICKS
from planapp.domain import FUNDING_GROUPS, GROUP_LABELS
from planapp.forms import AppForm, WholeNumberField


class RoundForm(AppForm):
    funding_group = SelectField(
        _l("Funding group to vote on"),
        choices=[SelectChoice(group, GROUP_LABELS[group]) for group in FUNDING_GROUPS],
        validators=[InputRequired()],
    )
    picks = WholeNumberField(
        _l("Picks per ballot"),
        default=3,
        validators=[
            InputRequired(),
            NumberRange(min=1, max=MAX_PICKS, message=_l("Type a number of picks from 1 to 20.")),
        ],
    )

    def village_fields(self):
        return [field for field in self if field.name.startswith("ballots_")]

    def per_village(self) -> dict[int, int]:
        return {int(f.name.removeprefix("ballots_")): f.data or 0 for f in self.village_fields()}


def round_form(villages, defaults: dict[int, int], formdata=None) -> RoundForm:
    """The form with one "ballots" field per village (`ballots_<village id>`), by default the
    village's attendance."""

    class Form(RoundForm):
        pass

    for village in villages:
        setattr(
            Form,
            f"ballots_{village.id}",
            WholeNumberField(
                # gettext, not a lazy string: the label carries the village's name (text).
                _("Village %(label)s", label=village.label),
                default=defaults.get(village.id, 0),
                validators=[
                    Optional(),
                    NumberRange(
                        min=0,
                        max=MAX_BALLOTS_PER_VILLAGE,
                        message=_l("Type a number of ballots from 0 to 5,000."),
                    ),
                ],
            ),
        )
    return Form() if formdata is None else Form(formdata=formdata)


class CodeForm(AppForm):
    code = StringField(
        _l("Ballot code"),
        validators=[InputRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
