"""A bare Flask app, the yardstick for bench/http_bench.py: one route, no extensions, no database.

    BIND=127.0.0.1:8001 .venv/bin/gunicorn -c gunicorn.conf.py bench.baseline_app:app

Served exactly like CareerPrep (same gunicorn.conf.py, workers and environment), so the ratio of a
CareerPrep page's requests/s to this one's is what the app's own work costs.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    """The cheapest possible Flask response."""
    return "hello"
