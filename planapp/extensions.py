"""Flask extensions, created once and bound to the app in create_app."""

from functools import cached_property

from flask import g
from flask_babel import Babel, Domain, get_locale
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
    locale and its catalog anew for every string (~10 µs), and a board page has over a hundred
    strings. Keyed by the locale object, so `force_locale` inside a request still switches."""

    def get_translations(self):
        locale = get_locale()
        if locale is None:  # outside a request
            return super().get_translations()
        kept = g.get("_request_catalog")
        if kept is None or kept[0] is not locale:
            kept = g._request_catalog = (locale, super().get_translations())
        return kept[1]


class RequestCatalogBabel(Babel):
    @cached_property
    def domain_instance(self):
        return RequestCatalogDomain(domain=self.domain)


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True)
csrf = CSRFProtect()
babel = RequestCatalogBabel()
compress = Compress()
