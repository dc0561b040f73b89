"""The fragment layer: every region a page swaps or a live event sends (a column, a column head,
a card, the totals, the cut line, the timer, the step bar, the summary...) is a macro of its
area's regions template (`forum/_regions.html`, `projector/_regions.html`,
`meeting/_regions.html`), rendered alone by name here. The full pages call the same macros, so a
swap, a live event and a reload render a region alike, and nothing ever cuts rendered HTML apart.

Macros rather than blocks (jinja2-fragments): a macro takes its data as arguments, so a region
says what it shows and can be rendered anywhere (a request, a live stream, a test) from those
arguments alone; Flask's own `get_template_attribute` does the lookup, no extra library.

Live events are server-sent events whose data is a set of htmx out-of-band swaps (`event`).
"""

from __future__ import annotations

import zlib

from flask import get_template_attribute
from markupsafe import Markup


def region(template: str, name: str, /, *args, **kwargs) -> Markup:
    """Render the region `name` (a macro of `template`) alone."""
    return get_template_attribute(template, name)(*args, **kwargs)


class Kept:
    """What a render made, kept by a key that holds everything it shows (so a key never
    names a stale render), shared by every request of the process. Bounded: cleared whole when
    full. The board keeps its cards and columns, the history its moves' words."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._kept: dict = {}

    def get(self, key, make):
        """The kept value of `key`, or `make()`'s, kept from now on."""
        value = self._kept.get(key)
        if value is None:
            if len(self._kept) >= self.most:
                self._kept.clear()
            value = self._kept[key] = make()
        return value


def event(version: int, kind: str, html: str) -> bytes:
    """A server-sent event carrying out-of-band swaps. The templates' indentation and blank lines
    stay home (no region holds a <pre>). An event without a data line is never delivered, so a
    change that shows nothing new still has one (and moves the view's version on)."""
    lines = [line for line in map(str.strip, html.splitlines()) if line] or [""]
    data = "\n".join("data: " + line for line in lines)
    return f"id: {version}\nevent: {kind}\n{data}\n\n".encode()


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether the client takes gzip (the browsers of the hall: Chromium asks for gzip, deflate
    over plain HTTP, and for br and zstd only over HTTPS)."""
    for part in accept_encoding.lower().split(","):
        name, _, quality = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            return quality.strip() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class GzipStream:
    """Compresses an event stream as it goes: one gzip stream for the whole connection, each
    event flushed at once (Z_SYNC_FLUSH), so the browser reads every event when it is sent, and
    the repeated markup of later events is compressed against the earlier ones. (Flask-Compress,
    which compresses the pages, would hold a stream's events back until its buffer fills.)"""

    LEVEL = 6

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(self.LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)

    def __call__(self, chunk: bytes) -> bytes:
        return self._compressor.compress(chunk) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
