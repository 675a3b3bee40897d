"""Constituent, the application (editor.app builds it: `from editor import create_app`).

The package itself stays light: importing one of its modules (editor.db for the migrations,
editor.models for a script) must not import the whole application, so `create_app` and
`services_of` are looked up in editor.app on first use (PEP 562)."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "services_of"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        # Lazy on purpose: see the module's docstring.
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module 'editor' has no attribute {name!r}")
