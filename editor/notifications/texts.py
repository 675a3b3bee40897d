"""A notification's text is a catalogue key (an English msgid) with JSON arguments, rendered in
the reader's language when it is read, never frozen in the language it was written in.

An argument is a plain string or number, or a typed value rendered in the reader's language:

* `{"date": "2026-12-07"}`: a date (medium format);
* `{"number": 1000}`: a number with the locale's separators;
* `{"msg": msgid, "args": {…}}`: another catalogue message;
* `{"action": "legal_review"}`: what a threshold obliges (editor.provenance.labels);
* `{"stage": "assembly", "name": ""}`: a stage (its configured name, else the default one);
* `{"list": [a, b, c]}`: "a, b and c"; `{"all": [a, b], "sep": "; "}`: joined by `sep`.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from flask import has_app_context
from flask_babel import get_locale

from ..provenance.labels import ACTION_LABELS
from ..stages.current import DEFAULT_NAMES

log = logging.getLogger(__name__)

LANGUAGES = ("es", "en")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
_CATALOGS: dict[str, NullTranslations] = {}


def N_(msgid: str) -> str:
    """Marks a msgid for the catalogue (pybabel extracts N_) without translating it now."""
    return msgid


def dumps(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False, sort_keys=True)


def loads(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _msgid(label: object) -> str:
    """The msgid of a lazy_gettext label (its first argument), to translate it in a chosen language."""
    args = getattr(label, "_args", None)
    return str(args[0]) if args else str(label)


class _Speaker:
    """The catalogue, dates and numbers of one language, with or without an application context
    (room workers, commands, event handlers all render notifications)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        catalog = _CATALOGS.get(locale)
        if catalog is None:
            catalog = Translations.load(str(TRANSLATIONS), [locale], domain="messages")
            _CATALOGS[locale] = catalog
        self.catalog = catalog

    def gettext(self, msgid: str) -> str:
        return self.catalog.gettext(msgid)

    def value(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "date" in value:
            try:
                return format_date(date.fromisoformat(str(value["date"])), "medium", locale=self.locale)
            except ValueError:
                return str(value["date"])
        if "number" in value:
            return format_decimal(value["number"], locale=self.locale)
        if "msg" in value:
            return self.render(str(value["msg"]), value.get("args") or {})
        if "action" in value:
            action = str(value["action"])
            return self.gettext(_msgid(ACTION_LABELS[action])) if action in ACTION_LABELS else action
        if "stage" in value:
            key = str(value["stage"])
            if value.get("name"):
                return str(value["name"])
            return self.gettext(_msgid(DEFAULT_NAMES[key])) if key in DEFAULT_NAMES else key.replace("_", " ").capitalize()
        if "list" in value:
            items = [str(self.value(v)) for v in value["list"]]
            if len(items) <= 1:
                return "".join(items)
            return self.gettext("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}
        if "all" in value:
            return str(value.get("sep", "; ")).join(str(self.value(v)) for v in value["all"])
        return str(value)

    def render(self, key: str, args: dict[str, Any]) -> str:
        text = self.gettext(key)
        if not args:
            return text
        try:
            return text % {name: self.value(v) for name, v in args.items()}
        except (KeyError, TypeError, ValueError):
            log.warning("notification text %r does not take its arguments %r", key, args)
            return key


def current_language() -> str:
    """The language of the current request (the application's default outside one; "es" outside an app)."""
    if has_app_context():
        locale = get_locale()
        if locale is not None and locale.language in LANGUAGES:
            return locale.language
    return "es"


def render(key: str, args: dict[str, Any] | str | None, locale: str | None = None) -> str:
    """The text in `locale` (default: the current request's language)."""
    if isinstance(args, str) or args is None:
        args = loads(args)
    if locale not in LANGUAGES:
        locale = current_language()
    return _Speaker(locale).render(key, args)


def text_of(notification, locale: str | None = None) -> str:
    """What a notification (or digest item) says, in the reader's language; older rows: `message`."""
    key = getattr(notification, "key", "")
    if not key:
        return getattr(notification, "message", "") or ""
    return render(key, notification.args, locale)
