"""Rate limits (Flask-Limiter): one limiter for the application; routes opt in with
`@limiter.limit(...)`. Keys are the client's address."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def configured(key: str) -> Callable[[], str]:
    """The limit named by the configuration entry `key` (e.g. "SEARCH_RATE_LIMIT"), read per
    request so that each application's configuration counts."""
    return lambda: current_app.config[key]
