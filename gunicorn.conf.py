"""gunicorn settings read from the project folder (`make run`, the browser tests).

Open event streams (projectors, phones) never finish by themselves, so on shutdown gunicorn
would wait its whole graceful timeout for them. On SIGTERM we first wake and end every stream
(the views reconnect to the next server by themselves), then let gunicorn stop as usual."""

import signal


def post_worker_init(worker):
    previous = signal.getsignal(signal.SIGTERM)

    def end_streams_then_exit(signum, frame):
        from planapp import live

        live.close_all(worker.wsgi)
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, end_streams_then_exit)
