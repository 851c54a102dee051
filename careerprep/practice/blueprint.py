"""The practice blueprint: the drill (views.py) and each card's own pages (card_views.py) register on it."""

from flask import Blueprint

bp = Blueprint("practice", __name__)
