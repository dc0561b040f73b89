"""Event streams a hall full of phones holds open (issue 13, item 3): they never take what the
facilitator needs; at most so many per client address and per server process (503 with
Retry-After and a clear message above); each ends after its lifetime and the view reconnects.

The first tests use Flask's test client; the others a real gunicorn started as `make run` starts
it (tests/browser.py), with hundreds of raw connections from distinct loopback addresses, as the
phones of a hall each have their own address on the Wi-Fi."""

from __future__ import annotations

import selectors
import socket
import struct
import sys
from contextlib import ExitStack

import pytest
from playwright.sync_api import expect

from planapp import live, streams
from tests.browser import PG_ADMIN_URL, Tablet

# --- admission and lifetime (Flask's test client) ---------------------------------------------


@pytest.fixture
def limits(app):
    """Small caps for the test: 2 streams per address, 3 in total."""
    app.extensions["stream_limits"] = streams.StreamLimits(per_address=2, total=3, lifetime=300)
    return app.extensions["stream_limits"]


def stream_from(client, plan, address, **query):
    return client.get(
        f"/live/{plan.public_token}/events",
        query_string={"layout": "phone", "version": str(plan.version), **query},
        environ_base={"REMOTE_ADDR": address},
        buffered=False,
    )


def test_streams_per_address_and_in_total_are_capped_with_a_clear_503(client, demo_plan, limits):
    first = stream_from(client, demo_plan, "10.0.0.7")
    second = stream_from(client, demo_plan, "10.0.0.7")
    assert first.status_code == second.status_code == 200

    refused = stream_from(client, demo_plan, "10.0.0.7")
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.mimetype == "text/plain"
    # Thai by default: "too many live views from this device or network; it tries again".
    assert "มากเกินไป" in refused.get_data(as_text=True)

    other = stream_from(client, demo_plan, "10.0.0.8")  # another phone: still room in total
    assert other.status_code == 200
    full = stream_from(client, demo_plan, "10.0.0.9")
    assert full.status_code == 503
    assert "Retry-After" in full.headers
    assert full.get_data(as_text=True) != refused.get_data(as_text=True)  # says which cap

    # A stream that ends (or whose client goes away) gives its place back, even one that never
    # sent a byte. (Closed in the reverse order of opening: the test client runs them all in
    # one thread, where each holds its request context.)
    other.close()
    second.close()
    assert limits.open_streams("10.0.0.7") == 1
    again = stream_from(client, demo_plan, "10.0.0.7")
    assert again.status_code == 200
    again.close()
    first.close()
    assert limits.open_streams() == 0


def test_the_refusal_speaks_english_when_chosen(client, demo_plan, limits):
    client.post("/language", data={"language": "en"})
    held = [stream_from(client, demo_plan, "10.0.0.7") for _ in range(2)]
    refused = stream_from(client, demo_plan, "10.0.0.7")
    assert refused.status_code == 503
    assert "Too many live views" in refused.get_data(as_text=True)
    for response in reversed(held):
        response.close()


def read_to_the_end(response) -> bytes:
    """The whole stream; one that does not end within a generous number of keep-alive comments
    fails the test instead of hanging it."""
    received = []
    for chunk in response.response:
        received.append(chunk)
        assert len(received) < 200, "the stream did not end"
    response.close()
    return b"".join(received)


def test_a_stream_ends_after_its_lifetime_and_brings_nothing_if_nothing_changed(
    client, demo_plan, limits, monkeypatch
):
    monkeypatch.setattr(live, "KEEP_ALIVE_SECONDS", 0.1)
    limits.lifetime = 0.5
    body = read_to_the_end(stream_from(client, demo_plan, "10.0.0.7"))
    assert body.startswith(b"retry:")
    assert b"event:" not in body  # the view is current: nothing to send before it ends
    assert limits.open_streams() == 0

    # A view further behind still gets the current state before its stream ends.
    body = read_to_the_end(stream_from(client, demo_plan, "10.0.0.7", version="-1"))
    assert b"event: state" in body


def test_a_lease_never_waits_past_its_end(monkeypatch):
    lease = streams.Lease(lifetime=60)
    assert 0 < lease.timeout(15) <= 15 and not lease.over
    ended = streams.Lease(lifetime=0)
    assert ended.timeout(15) == 0 and ended.over
    # Jitter: a stream lives between four fifths of the lifetime and all of it.
    limits = streams.StreamLimits(per_address=1, total=1, lifetime=100)
    monkeypatch.setattr(streams.random, "random", lambda: 0.0)
    assert 99 < limits.lease().timeout(1000) <= 100
    monkeypatch.setattr(streams.random, "random", lambda: 0.999)
    assert 80 <= limits.lease().timeout(1000) < 81


# --- a hall of phones against a real server ---------------------------------------------------


def hall_address(number: int, block: int = 1) -> str:
    """A distinct loopback address per phone (127.<block>.x.y), as phones on a hall's Wi-Fi."""
    return f"127.{block}.{number // 250}.{number % 250 + 1}"


def connect_from(address: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((address, 0))
    sock.settimeout(60)
    sock.connect(("127.0.0.1", port))
    return sock


def public_token(live_server) -> str:
    plan_id = live_server.plan_id
    live_server.execute("UPDATE plans SET is_public = :yes WHERE id = :id", yes=True, id=plan_id)
    [(token,)] = live_server.query("SELECT public_token FROM plans WHERE id = :id", id=plan_id)
    return token


def read_until(socks: list[socket.socket], marker: bytes, timeout: float = 60) -> set:
    """Read every socket until `marker` has come on it (or the generous timeout); the sockets
    on which it came."""
    pending = {sock: b"" for sock in socks}
    done = set()
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        while len(done) < len(socks):
            ready = selector.select(timeout=timeout)
            if not ready:
                break
            for key, _events in ready:
                sock = key.fileobj
                chunk = sock.recv(65536)
                pending[sock] = pending[sock][-len(marker) :] + chunk
                if marker in pending[sock] or not chunk:
                    selector.unregister(sock)
                    if chunk:
                        done.add(sock)
    return done


STREAMS = 300  # more than the 256 threads `make run` had, more than the test server's 32
HALF_OPEN = 300


def test_a_hall_of_open_streams_and_half_sent_requests_leaves_the_board_answering(live_server):
    """Hundreds of phones hold the stream open (none reads what it is sent: slow clients) and
    hundreds of connections send half a request line and stop: the facilitator still signs in,
    gets the board and saves a change, and the change reaches every phone. In the PostgreSQL run
    with two workers and the LISTEN/NOTIFY broker, as the district server runs."""
    if PG_ADMIN_URL:
        live_server.env["PLANAPP_LIVE_BROKER"] = "postgres"
        live_server.extra_args = ["--workers", "2"]
        live_server.restart()
    token = public_token(live_server)
    request = (
        f"GET /live/{token}/events?layout=phone&version=0 HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    with ExitStack() as stack:
        phones = []
        for number in range(STREAMS):
            sock = stack.enter_context(connect_from(hall_address(number), live_server.port))
            sock.sendall(request)
            phones.append(sock)
        for number in range(HALF_OPEN):
            sock = stack.enter_context(connect_from(hall_address(number, 2), live_server.port))
            sock.sendall(b"GET /live/" + token.encode()[:4])  # ... and nothing more

        tablet = Tablet(live_server.base_url, timeout=60)
        tablet.sign_in("facilitator")
        board = tablet.get(f"/plans/{live_server.plan_id}/board")
        assert "data-board" in board

        assert len(read_until(phones, b" 200 OK\r\n")) == STREAMS
        [(version,)] = live_server.query(
            "SELECT version FROM plans WHERE id = :id", id=live_server.plan_id
        )
        status = tablet.post(f"/plans/{live_server.plan_id}/screen", {"mode": "summary"})
        assert status == 200
        caught_up = read_until(phones, f"id: {version + 1}\n".encode())
        assert len(caught_up) == STREAMS


def new_view(browser, live_server, token):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="th-TH")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url(f"/live/{token}"))
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    return context, page


def change_the_screen(live_server, mode: str) -> None:
    tablet = Tablet(live_server.base_url)
    tablet.sign_in("facilitator")
    assert tablet.post(f"/plans/{live_server.plan_id}/screen", {"mode": mode}) == 200


@pytest.mark.browser
def test_a_view_whose_stream_ended_reconnects_and_still_follows(browser, live_server):
    live_server.env["PLANAPP_STREAM_LIFETIME"] = "1"
    live_server.restart()
    token = public_token(live_server)
    context, projector = new_view(browser, live_server, token)
    try:
        for _ in range(2):  # streams in a row, each ended by the server after its second
            with projector.expect_request("**/events?**"):
                pass
        change_the_screen(live_server, "summary")
        expect(projector.locator("[data-mode]")).to_have_attribute("data-mode", "summary")
        assert projector.evaluate("window.__sameDocument === true")
    finally:
        context.close()


@pytest.mark.browser
def test_a_refused_view_keeps_trying_and_gets_in_once_a_place_is_free(browser, live_server):
    """One stream per address here: a second view from the same address is refused (503) while
    a phone holds the place; its stream (htmx's SSE extension) retries with a growing delay, and
    gets in once the phone is gone."""
    live_server.env["PLANAPP_STREAMS_PER_ADDRESS"] = "1"
    live_server.restart()
    token = public_token(live_server)
    phone = connect_from("127.0.0.1", live_server.port)
    phone.sendall(
        f"GET /live/{token}/events?layout=phone HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    )
    assert read_until([phone], b" 200 OK\r\n")
    context = None
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="th-TH")
        context.set_default_timeout(15_000)
        view = context.new_page()
        with view.expect_response(lambda r: "/events?" in r.url and r.status == 503):
            view.goto(live_server.url(f"/live/{token}"))
        view.evaluate("window.__sameDocument = true")
        # The phone goes (a reset, as a phone leaving the Wi-Fi); its stream notices at the next
        # event, and its place is free.
        phone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        phone.close()
        with view.expect_response(
            lambda r: "/events?" in r.url and r.status == 200, timeout=60_000
        ):
            change_the_screen(live_server, "summary")
        expect(view.locator("[data-mode]")).to_have_attribute("data-mode", "summary")
        assert view.evaluate("window.__sameDocument === true")
    finally:
        phone.close()
        if context is not None:
            context.close()


def test_the_server_refuses_to_run_with_psycopg_waiting_in_c_under_gevent(monkeypatch):
    """psycopg imported before gevent patched the process keeps its C wait, which would block
    the whole worker on every query: gunicorn.conf.py stops the worker instead."""
    import runpy
    import types

    from tests.browser import ROOT

    check = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["_check_psycopg_cooperates"]
    patched = types.SimpleNamespace(is_module_patched=lambda name: name == "select")
    monkeypatch.setitem(sys.modules, "gevent.monkey", patched)

    def wait_c():
        pass

    monkeypatch.setitem(
        sys.modules, "psycopg.waiting", types.SimpleNamespace(wait=wait_c, wait_c=wait_c)
    )
    with pytest.raises(RuntimeError, match="psycopg was imported before gevent"):
        check()
    monkeypatch.setitem(
        sys.modules, "psycopg.waiting", types.SimpleNamespace(wait=print, wait_c=wait_c)
    )
    check()  # a cooperative wait: serve


def test_a_change_wakes_every_view_of_a_crowd_in_groups():
    """More views than one wake group (live.WAKE_BATCH): every one hears of the change, and
    closing the broker wakes every one of those still waiting."""
    import threading

    from planapp.live import WAKE_BATCH, MemoryBroker

    broker = MemoryBroker()
    views = 3 * WAKE_BATCH + 7
    heard: list = []
    ready = threading.Barrier(views + 1)

    def view(plan_id):
        ready.wait()
        heard.append((plan_id, broker.wait(plan_id, 0, timeout=60)))

    crowd = [threading.Thread(target=view, args=(1 + n % 2,)) for n in range(views)]
    for thread in crowd:
        thread.start()
    ready.wait()
    while broker.waiting_views() < views:  # every view is waiting before the change
        threading.Event().wait(0.01)
    broker.publish(1, 5)
    broker.close()  # the other plan's views end without news
    for thread in crowd:
        thread.join(timeout=60)
    assert sorted(heard) == sorted([(1, 5)] * (views - views // 2) + [(2, None)] * (views // 2))
