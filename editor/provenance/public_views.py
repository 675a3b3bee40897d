"""Public provenance pages: why a clause exists, what happened to a petition, a theme's clauses,
events, coverage, and the links as open data."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("provenance", __name__)
