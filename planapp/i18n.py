"""Thai first, English available.

Message ids are English; each area keeps its Thai catalog beside its code
(`planapp/<area>/translations/th/LC_MESSAGES/messages.po`, shared strings in
`planapp/translations/`). At start the catalogs are merged and compiled into the instance folder,
so a new string needs no build step and areas never edit one shared file.
"""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import gettext as babel_gettext

from planapp.extensions import babel

PACKAGE_DIR = Path(__file__).parent


def catalog_files(language: str) -> list[Path]:
    pattern = f"translations/{language}/LC_MESSAGES/*.po"
    return sorted(PACKAGE_DIR.glob(pattern)) + sorted(PACKAGE_DIR.glob(f"*/{pattern}"))


def merged_catalog(language: str) -> Catalog:
    merged = Catalog(locale=language, domain="messages")
    for path in catalog_files(language):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string:
                    merged[message.id] = message
    return merged


def compiled_catalog(language: str) -> bytes:
    """The merged catalog as a .mo file. Kept per process while its sources are unchanged (same
    path, size and mtime each): the tests create hundreds of apps in one process."""
    sources = tuple(
        (str(path), stat.st_size, stat.st_mtime_ns)
        for path in catalog_files(language)
        for stat in [path.stat()]
    )
    return _compiled(language, sources)


@functools.lru_cache(maxsize=8)
def _compiled(language: str, _sources: tuple) -> bytes:
    compiled = io.BytesIO()
    write_mo(compiled, merged_catalog(language))
    return compiled.getvalue()


def compile_catalogs(target: Path, languages: list[str]) -> None:
    for language in languages:
        out_dir = target / language / "LC_MESSAGES"
        out_dir.mkdir(parents=True, exist_ok=True)
        # Write then rename: other worker processes may be reading the old file right now.
        scratch = out_dir / f"messages.mo.{os.getpid()}"
        scratch.write_bytes(compiled_catalog(language))
        os.replace(scratch, out_dir / "messages.mo")


def select_locale() -> str:
    if not has_request_context():  # a command, a test: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("language")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def gettext(message: str, **values) -> str:
    """Translated while serving a request; the English text elsewhere (command line, scripts),
    where no language has been chosen. Import it as `_` so the catalog tools still find it.
    A plain `str`, so Jinja escapes it: a message that carries user data (a name from a file)
    must never be a lazy string, which Jinja would print as markup."""
    if has_request_context():
        return babel_gettext(message, **values)
    return message % values if values else message


def init_app(app) -> None:
    target = Path(app.instance_path) / "translations"
    compile_catalogs(target, [lang for lang in app.config["LANGUAGES"] if lang != "en"])
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    babel.init_app(app, locale_selector=select_locale)

    # Templates ask the domain straight away (Flask-Babel's own callables look the domain up
    # for every string first).
    def catalog():
        return babel.domain_instance.get_translations()

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
    )

    @app.context_processor
    def inject_language():
        return {"current_language": str(get_locale()), "request_path": request.full_path}


EXTRACT_METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
EXTRACT_KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
}


def untranslated(language: str = "th") -> list[tuple[str, str | tuple]]:
    """(file, message id) of every string in code and templates with no translation."""
    from babel.messages.extract import extract_from_dir

    catalog = merged_catalog(language)
    missing = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE_DIR), EXTRACT_METHODS, keywords=EXTRACT_KEYWORDS
    ):
        key = message[0] if isinstance(message, tuple) else message
        if not catalog.get(key):
            missing.setdefault(key, (filename, message))
    return sorted(missing.values(), key=lambda item: item[0])


def po_stub(missing: list[tuple[str, str | tuple]]) -> str:
    """Entries to paste into a messages.po and translate."""

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    entries = []
    for filename, message in missing:
        if isinstance(message, tuple):
            entries.append(
                f"#: {filename}\nmsgid {quoted(message[0])}\nmsgid_plural {quoted(message[1])}\n"
                'msgstr[0] ""\n'
            )
        else:
            entries.append(f'#: {filename}\nmsgid {quoted(message)}\nmsgstr ""\n')
    return "\n".join(entries)
