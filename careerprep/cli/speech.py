"""Speech commands: the machine's transcription worker, and fetching the model once."""

from __future__ import annotations

import click
from flask import current_app

from .blueprint import bp


@bp.cli.command("speech-worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (tests, cron).")
def speech_worker(burst: bool) -> None:
    """Transcribe recorded answers from the Redis queue (SPEECH_REDIS_URL): run one per machine."""
    from ..speech import jobs

    settings = jobs.SpeechSettings.from_mapping(current_app.config)
    if not settings.redis_url:
        raise click.ClickException(
            "SPEECH_REDIS_URL is not set: without it each app process transcribes on its own thread"
        )
    try:
        jobs.run_worker(settings, burst=burst)
    except ImportError as exc:
        raise click.ClickException(
            f"the speech extra is not installed ({exc}): pip install -e '.[speech]'"
        ) from None


@bp.cli.command("speech-model")
def speech_model() -> None:
    """Download SPEECH_MODEL into the local cache (once), then check that it loads."""
    from ..speech import engine

    spec = current_app.config["SPEECH_MODEL"]
    try:
        engine.load_model(spec)
    except ImportError as exc:
        raise click.ClickException(
            f"the speech extra is not installed ({exc}): pip install -e '.[speech]'"
        ) from None
    click.echo(f"speech model {spec!r} is ready: {engine.local_model_path(spec) or spec}")
