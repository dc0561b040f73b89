"""The base of every form: WTForms' own messages ("This field is required.", "Not a valid
integer value.", ...) in the user's language. WTForms ships no Thai catalog, and Flask-WTF only
reads WTForms' catalogs, so forms take their messages from our merged catalog instead
(planapp/translations/th/LC_MESSAGES/wtforms.po)."""

from __future__ import annotations

from flask_babel import get_translations
from flask_wtf import FlaskForm


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
