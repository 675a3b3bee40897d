"""Committee pages for petitions: import, signatures, thresholds, obligations, hearings."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("petitions", __name__)
