"""gunicorn settings for CareerPrep (`make serve`, or `gunicorn -c gunicorn.conf.py app:app`).

Every value can be overridden from the environment, so one file serves a laptop and a fleet.
"""

import multiprocessing
import os
import re

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Sync workers: CPU-bound Flask work plus short database calls. 2 x cores + 1 is gunicorn's guidance.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = 50 if max_requests else 0

# gunicorn itself trusts no proxy headers; the app honours X-Forwarded-* only when
# TRUSTED_PROXIES (the number of proxies in front) is set, through werkzeug's ProxyFix.
forwarded_allow_ips = ""

_access_log = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = None if _access_log.lower() in ("", "none", "off") else _access_log
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# The request id ties this line to the app's structured log lines for the same request.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'

# gunicorn 27 opens a control socket, by default one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn/
# gunicorn.ctl): two instances on one host would share it. One socket per instance, named after its
# bind address (GUNICORN_CONTROL_SOCKET chooses the path).
_runtime = os.environ.get("XDG_RUNTIME_DIR") or os.path.join(os.path.expanduser("~"), ".gunicorn")
control_socket = os.environ.get(
    "GUNICORN_CONTROL_SOCKET",
    os.path.join(_runtime, "careerprep-" + re.sub(r"[^A-Za-z0-9.-]+", "_", bind) + ".ctl"),
)


def when_ready(server):
    """`make run`: say where CareerPrep is once it really listens (CAREERPREP_BANNER=1)."""
    if not os.environ.get("CAREERPREP_BANNER"):
        return
    address = bind if "://" in bind or bind.startswith("unix:") else f"http://{bind}"
    print(
        f"\n  CareerPrep is running at {address}\n"
        "  Make the first admin in another terminal:\n"
        "      .venv/bin/flask --app app create-admin you@example.com\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
