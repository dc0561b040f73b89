"""Flask extensions, created once and bound to the app in create_app."""

from functools import cached_property

from flask import g, has_request_context
from flask_babel import Babel, Domain
from flask_compress import Compress
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so Alembic migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RequestCatalogDomain(Domain):
    """Flask-Babel's domain, with the request's catalog looked up once: Flask-Babel finds the
    locale and its catalog anew for every string (some twenty calls each), and a board page has
    over a hundred strings. Kept with the locale it was found for, so `force_locale` inside a
    request still switches; if Flask-Babel's request state ever looks different, every string
    takes Flask-Babel's own way again (slower, never wrong)."""

    def get_translations(self):
        if not has_request_context():
            return super().get_translations()
        state = g._get_current_object().__dict__
        kept = state.get("_request_catalog")
        if kept is not None and kept[0] is _babel_locale(state):
            return kept[1]
        translations = super().get_translations()
        locale = _babel_locale(state)
        if locale is not None:
            state["_request_catalog"] = (locale, translations)
        return translations


def _babel_locale(state: dict):
    """The locale Flask-Babel chose (or `force_locale` set) for this request, None before."""
    return getattr(state.get("_flask_babel"), "babel_locale", None)


class RequestCatalogBabel(Babel):
    @cached_property
    def domain_instance(self):
        return RequestCatalogDomain(domain=self.domain)


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True)
csrf = CSRFProtect()
babel = RequestCatalogBabel()
compress = Compress()
