"""Answering out loud: upload a recording, follow its transcription, see the transcript as the draft."""

from . import views  # noqa: F401 (routes)
from .views import bp

__all__ = ["bp"]


def register(app) -> None:
    """Bind the speech backend to the app and give templates what the recorder and feedback need."""
    from . import service, template_helpers

    service.init_app(app)
    template_helpers.register(app)
