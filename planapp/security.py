"""Security set-up for every response: the Content Security Policy and the other browser-side
guards, cookie flags, and trusting a reverse proxy's forwarded headers when told to.

The policy allows only what the app serves itself. htmx, its SSE extension and SortableJS all
work under it: htmx's indicator <style> is switched off by the `htmx-config` meta tag in
base.html, and SortableJS moves cards through `element.style`, which CSP does not govern (only
`style="..."` attributes written in HTML are blocked). So templates must use classes, never inline
`style=` attributes, `<script>` blocks or `hx-on`/event-filter expressions (those need eval).
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from flask import Flask, Request, current_app, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, UnicodeConverter

from planapp.intake.values import MAX_WHOLE_NUMBER

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # QR codes and small icons may come as data: URIs rendered by the app itself.
        "img-src 'self' data:",
        "font-src 'self'",
        # htmx requests and the projector's event stream go to the same origin only.
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _without_nul(values: ImmutableMultiDict) -> ImmutableMultiDict:
    return ImmutableMultiDict(
        [
            (key.replace("\x00", ""), value.replace("\x00", ""))
            for key, value in values.items(multi=True)
        ]
    )


class CleanRequest(Request):
    """Form fields and query strings arrive without NUL characters. Nobody types one, it means
    nothing in a plan, and PostgreSQL cannot store it in text: dropping it here lets every form
    keep "text is stored as typed" on both databases instead of failing with a 500."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        self.__dict__["form"] = _without_nul(self.__dict__["form"])

    @property
    def args(self) -> ImmutableMultiDict:
        if "_clean_args" not in self.__dict__:
            self.__dict__["_clean_args"] = _without_nul(super().args)
        return self.__dict__["_clean_args"]


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` of every route: an id or year past what an INTEGER column holds is no page
    (404), where the database would fail on it (a 500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_WHOLE_NUMBER)
        super().__init__(map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """`<name>` (the default converter): one path segment without NUL, which PostgreSQL cannot
    compare (`/live/<token>` with a NUL is no page, not a 500)."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]", 1)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def configure(app: Flask) -> None:
    """Settings read from the environment, before the app's own overrides are applied."""
    secure = _env_flag("PLANAPP_SECURE_COOKIES")
    app.config.setdefault("SECURE_COOKIES", secure)
    # Behind nginx/Caddy, how many proxies put X-Forwarded-For/-Proto in front of us.
    app.config.setdefault("TRUSTED_PROXIES", int(os.environ.get("PLANAPP_TRUSTED_PROXIES", "0")))


def init_app(app: Flask) -> None:
    configure(app)
    app.request_class = CleanRequest
    # Before any blueprint adds its routes: the rules take their converters when added.
    app.url_map.converters.update(
        int=BoundedIntConverter, default=TextConverter, string=TextConverter
    )
    if app.config["SECURE_COOKIES"]:
        # Only over HTTPS: the session and CSRF cookies never travel in clear text.
        app.config["SESSION_COOKIE_SECURE"] = True
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # The login limiter needs the real client address, and url_for the real scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # frame-ancestors covers modern browsers; X-Frame-Options the old tablets.
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        if app.config.get("SESSION_COOKIE_SECURE") and request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Pages may show plans that are not public: keep them out of shared caches and off the
        # back button of a tablet handed to someone else after sign-out.
        if not request.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response


# Names a browser on the laptop itself uses for it. Checked too, so a web page that rebinds
# its own name to 127.0.0.1 cannot use a browser on the laptop to reach the first-run form.
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Host")


def from_this_machine() -> bool:
    """The request comes from a browser on the server itself (a loopback address), never from
    the hall's Wi-Fi. Behind a reverse proxy every request reaches us from the proxy, so none
    counts: with PLANAPP_TRUSTED_PROXIES set, or with any forwarding header, the answer is no
    (ProxyFix would have put the client's own address in `remote_addr`)."""
    if current_app.config.get("TRUSTED_PROXIES"):
        return False
    if any(request.headers.get(name) for name in FORWARDING_HEADERS):
        return False
    try:
        peer = ipaddress.ip_address(request.environ.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    try:
        host = urlsplit("//" + request.host).hostname or ""
    except ValueError:
        return False
    return peer.is_loopback and host in LOOPBACK_NAMES
