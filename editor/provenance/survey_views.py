"""Survey pages: analysts' coding and counts, the theme taxonomy, and respondents' receipts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("survey", __name__)
