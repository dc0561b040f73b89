"""gunicorn settings read from the project folder (`make run`, the browser tests, the Deploying
section's command).

The app runs under gunicorn's gevent worker (`--worker-class gevent`): every connection is a
greenlet, so a hall full of phones holding their event streams open, and clients that send half a
request and stop, cost a little memory each instead of one of a fixed number of threads that the
facilitator's requests also need (docs/DEVELOPING.md, "Live views", says why and what it costs).

Open event streams (projectors, phones) never finish by themselves, so on shutdown gunicorn
would wait its whole graceful timeout for them. On SIGTERM we first wake and end every stream
(the views reconnect to the next server by themselves), then let gunicorn stop as usual."""

import gc
import resource
import signal
import sys

# Connections one worker serves at once: the open streams (PLANAPP_STREAMS_TOTAL, 2,000 by
# default, answers 503 above) with room to spare for requests and half-open connections. When
# the pool is full the worker stops accepting, the facilitator included, so keep it well above.
worker_connections = 4000
# Under the gevent worker this also bounds how long a connection may take to send its request
# line and headers: a client that sends half a request and stops is dropped after 5 seconds.
keepalive = 5


def on_starting(server):
    """Every connection is a file descriptor: raise the soft limit (1,024 on many laptops) so
    that a full pool of connections fits, as far as the hard limit allows."""
    wanted = server.cfg.worker_connections + 256  # + database files, sockets, logs
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        if new < wanted:
            server.log.warning(
                "open-file limit %s is below the %s connections a worker may hold; "
                "raise it (ulimit -Hn, LimitNOFILE=) or lower --worker-connections",
                new,
                server.cfg.worker_connections,
            )


def post_worker_init(worker):
    _check_psycopg_cooperates()
    _freeze_what_the_app_loaded()
    gevent = _gevent_of(worker)
    previous = signal.getsignal(signal.SIGTERM)

    def end_streams_then_exit(signum, frame):
        from planapp import live

        if gevent is None:
            live.close_all(worker.wsgi)
        else:
            # The handler runs in gevent's hub, which must not wait on anything: end the
            # streams from a greenlet of their own.
            gevent.spawn(live.close_all, worker.wsgi)
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, end_streams_then_exit)


def _freeze_what_the_app_loaded():
    """The app, its libraries and their caches are some 130,000 objects that live as long as the
    worker. Python's full garbage collection walks all of them every so often, a pause of 50 to
    200 ms that lands on whichever request is running (bench/board.py's slowest moves and pages).
    Frozen once loaded, they are left out of every collection; what requests create is still
    collected as before."""
    gc.collect()
    gc.freeze()


def _gevent_of(worker):
    if not type(worker).__module__.startswith("gunicorn.workers.ggevent"):
        return None
    import gevent

    return gevent


def _check_psycopg_cooperates():
    """psycopg picks its way of waiting for the database when first imported: its C function,
    unless gevent has patched `select` by then. The C wait would hold the whole worker (every
    stream, the facilitator) during each query and the live listener's waits. gunicorn patches
    in the worker before it loads the app; psycopg imported earlier (--preload, a fork server)
    would miss it, so refuse to serve rather than stall."""
    waiting = sys.modules.get("psycopg.waiting")
    monkey = sys.modules.get("gevent.monkey")
    if waiting is None or monkey is None or not monkey.is_module_patched("select"):
        return
    if waiting.wait is getattr(waiting, "wait_c", None):
        raise RuntimeError(
            "psycopg was imported before gevent patched the process: its database waits would "
            "block every connection of this worker; import it after the worker starts"
        )
