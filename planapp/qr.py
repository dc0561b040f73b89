"""QR codes as SVG answers: the phone view's address on the projector, a ballot's on its card."""

from __future__ import annotations

import io

from flask import Response


def qr_response(address: str) -> Response:
    import segno

    buffer = io.BytesIO()
    segno.make(address, error="m").save(
        buffer, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False,
        svgclass="qr", title=address,
    )  # fmt: skip
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"  # the address depends on the host asked
    return response
