"""JSON API for provenance links, suggestions and what became of linked units (the editor's
side panel uses it)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("provenance_api", __name__, url_prefix="/api/v1")
