"""Spoken answers, transcribed on this server: the learner's voice never leaves it.

``audio`` checks an upload and decodes it to 16 kHz mono samples (``mp4`` tells whether an MP4
upload from Safari arrived whole), ``engine`` runs faster-whisper (CTranslate2, int8 on the CPU),
``delivery`` turns word timestamps into plain-language feedback on pace, fillers and pauses, and
``jobs`` runs transcriptions off the request workers: on an RQ worker
when Redis is configured (the model loaded once per machine), else on one thread in the process.

Nothing here imports Flask or faster-whisper at import time: the app can import the package and
ask ``engine.available()`` / ``jobs.available()`` whether to offer recording at all.
"""
