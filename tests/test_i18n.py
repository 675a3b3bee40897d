"""Spanish and English: every interface string is translated, and pages follow the reader's language."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations
from conftest import ROOT, PUBLISHED

CATALOGUE = ROOT / "editor" / "translations" / "es" / "LC_MESSAGES"


def _interface_strings() -> set[str]:
    method_map = [("editor/**.py", "python"), ("web/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_interface_string_has_a_spanish_translation():
    with open(CATALOGUE / "messages.po", "rb") as f:
        catalogue = read_po(f, locale="es")
    translated = {m.id: m.string for m in catalogue if m.id and m.string}
    singulars = {msgid[0] if isinstance(msgid, tuple) else msgid for msgid in translated}
    missing = sorted(_interface_strings() - singulars)
    assert not missing, f"untranslated interface strings (run make i18n and translate): {missing}"
    compiled = Translations.load(str(ROOT / "editor" / "translations"), ["es"])
    def compiled_text(msgid):
        if isinstance(msgid, tuple):  # a plural: singular and plural forms
            return (compiled.ngettext(msgid[0], msgid[1], 1), compiled.ngettext(msgid[0], msgid[1], 2))
        return compiled.gettext(msgid)

    stale = [msgid for msgid, text in translated.items() if compiled_text(msgid) != tuple(text) and
             compiled_text(msgid) != text]
    assert not stale, f"messages.mo is older than messages.po (run make i18n): {stale[:5]}"


def test_pages_follow_the_browser_language_and_the_switch(server):
    import requests

    spanish = requests.get(server.url + "/", headers={"Accept-Language": "es-MX,es;q=0.9"}, timeout=10)
    english = requests.get(server.url + "/", headers={"Accept-Language": "en-GB,en;q=0.9"}, timeout=10)
    assert "<h1>Documentos</h1>" in spanish.text and 'lang="es"' in spanish.text
    assert "<h1>Documents</h1>" in english.text and 'lang="en"' in english.text
    # The document keeps its own language whatever the interface speaks.
    page = requests.get(f"{server.url}/d/{PUBLISHED}", headers={"Accept-Language": "en"}, timeout=10)
    assert "Artículo 1" in page.text and "Table of contents" in page.text
    switched = requests.get(server.url + "/?lang=es", headers={"Accept-Language": "en"}, timeout=10)
    assert "<h1>Documentos</h1>" in switched.text
