"""Rate limits (Flask-Limiter): one limiter for the application; routes opt in with
`@limiter.limit(...)`. Keys are the client's address."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])
