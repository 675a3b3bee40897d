"""The live editor's strings (web/src/i18n.js) and the server's catalogue (messages.po) agree: an
English string the editor shares with the server has the same Spanish in both.

The editor carries its own strings (its bundle is built without the server), so the two can
drift: a clause's relation to a petition called one thing on the public pages and another in the
editor, or a panel's heading that changes words when the script replaces the template's. Each
English string of i18n.js whose text is also a msgid of the catalogue (placeholders aside: the
editor's functions are called with markers, the catalogue's %(name)s become the same markers,
matched by their order in the English) must have the catalogue's Spanish translation. The few
differences that are meant (the same English word in another sense) or still to settle are
listed below with the exact texts, so any other difference, or a change to one of these, fails.

Run as a script, it lists the editor's strings the catalogue does not have."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess

from babel.messages.pofile import read_po
from conftest import ROOT, require

CATALOGUE = ROOT / "editor" / "translations" / "es" / "LC_MESSAGES" / "messages.po"

# Every string of both languages, flattened to dotted keys ("prov.relations.motivated"); a
# function is called with one marker per parameter (\x01<i>\x02), so its words can be compared.
SCRIPT = r"""
import('./src/i18n.js').then(m => {
  const marker = i => '\x01' + i + '\x02'
  const flat = (o, prefix = '') => Object.entries(o).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' ? flat(v, prefix + k + '.')
      : [[prefix + k, typeof v === 'function' ? String(v(...Array.from({ length: v.length }, (_, i) => marker(i)))) : v]])
  console.log(JSON.stringify({ es: Object.fromEntries(flat(m.strings('es'))), en: Object.fromEntries(flat(m.strings('en'))) }))
})
"""

#: Keys whose Spanish is meant to differ from the catalogue's for the same English:
#: key -> (English, editor's Spanish, catalogue's Spanish, why).
#: Pinned exactly: a change on either side fails, and so does an entry that no longer differs.
DIFFERENCES = {
    "prov.remove": ("Remove", "Quitar", "Eliminar",
                    "the link is taken off the clause, nothing is deleted; the catalogue's Remove deletes a threshold"),
    "prov.submit": ("Link", "Vincular", "Enlace",
                    "the verb, on the button that links; the catalogue's Link is the noun, a column heading"),
    "pub.states.published": ("Published", "Publicados", "Publicada",
                             "the editor's filter shows the published comments (plural); the catalogue's is one "
                             "comment's state"),
}

#: Strings the template renders before the editor mounts and the editor then rewrites (panel
#: headings and hints, the connection status): they must be among the shared ones, or the
#: comparison would not be reading what it should.
ON_THE_PAGE_FIRST = {"connecting", "prov.title", "prov.hint", "cmt.title", "cmt.hint"}

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|%[sdifr]")
_MARKER = re.compile("\x01(\\d+)\x02")


def editor_strings() -> tuple[dict[str, str], dict[str, str]]:
    """(Spanish, English) strings of web/src/i18n.js by dotted key."""
    require(shutil.which("node") is not None, "node is not installed")
    result = subprocess.run(["node", "--input-type=module", "-e", SCRIPT], cwd=ROOT / "web",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return data["es"], data["en"]


def _editor_pair(english: str, spanish: str) -> tuple[str, str]:
    """The editor's markers renumbered by their order in the English text."""
    order: dict[str, str] = {}
    for index in _MARKER.findall(english):
        order.setdefault(index, str(len(order)))
    rename = lambda m: "\x01" + order.get(m.group(1), "?" + m.group(1)) + "\x02"  # noqa: E731
    return _MARKER.sub(rename, english), _MARKER.sub(rename, spanish)


def _catalogue_pair(msgid: str, msgstr: str, python_format: bool) -> tuple[str, str]:
    """The catalogue's placeholders as the same markers, numbered by their order in the msgid."""
    if not python_format:
        return msgid, msgstr
    order: dict[str, str] = {}

    def mark(text: str, learn: bool) -> str:
        positional = itertools.count()

        def one(m: re.Match) -> str:
            name = m.group(1) or "#" + str(next(positional))
            if learn:
                order.setdefault(name, str(len(order)))
            return "\x01" + order.get(name, "?" + name) + "\x02"
        return _PLACEHOLDER.sub(one, text).replace("%%", "%")

    return mark(msgid, True), mark(msgstr, False)


def catalogue_strings() -> dict[str, set[str]]:
    """English (with markers) -> its Spanish translations in the catalogue (plural forms each)."""
    with open(CATALOGUE, "rb") as f:
        catalogue = read_po(f, locale="es")
    found: dict[str, set[str]] = {}
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid, msgstr in zip(ids, strings, strict=False):  # plural forms: one id per English form
            if msgstr:
                english, spanish = _catalogue_pair(msgid, msgstr, message.python_format)
                found.setdefault(english, set()).add(spanish)
    return found


def compare() -> tuple[dict[str, tuple[str, str, set[str]]], list[str]]:
    """(shared key -> (English, editor's Spanish, catalogue's Spanish set), keys only in i18n.js),
    texts with their markers shown as {0}, {1}…"""
    spanish, english = editor_strings()
    catalogue = catalogue_strings()
    show = lambda text: _MARKER.sub(lambda m: "{" + m.group(1) + "}", text)  # noqa: E731
    shared, only_editor = {}, []
    for key, en in english.items():
        if not en:
            continue
        en_marked, es_marked = _editor_pair(en, spanish.get(key, ""))
        if en_marked in catalogue:
            shared[key] = (show(en_marked), show(es_marked), {show(s) for s in catalogue[en_marked]})
        else:
            only_editor.append(key)
    return shared, only_editor


def test_both_languages_have_the_same_strings():
    spanish, english = editor_strings()
    assert sorted(spanish) == sorted(english), {
        "only Spanish": sorted(set(spanish) - set(english)), "only English": sorted(set(english) - set(spanish))}


def test_the_editor_and_the_catalogue_translate_shared_strings_alike():
    shared, only_editor = compare()
    print(f"{len(shared)} strings shared with the catalogue; only in web/src/i18n.js ({len(only_editor)}):",
          ", ".join(only_editor))
    missing = ON_THE_PAGE_FIRST - set(shared)
    assert not missing, f"not found in the catalogue (is web/src/i18n.js read right?): {sorted(missing)}"
    disagree = {}
    for key, (en, es, server) in sorted(shared.items()):
        if es in server:
            continue
        if key in DIFFERENCES and DIFFERENCES[key][:3] == (en, es, *server) and len(server) == 1:
            continue
        disagree[key] = {"English": en, "web/src/i18n.js": es, "messages.po": sorted(server)}
    assert not disagree, (
        "web/src/i18n.js and editor/translations/es/LC_MESSAGES/messages.po translate these differently "
        "(make them agree, or list a meant difference in DIFFERENCES):\n"
        + "\n".join(f"  {k}: {v}" for k, v in disagree.items()))


def test_every_listed_difference_is_still_one():
    shared, _ = compare()
    stale = {}
    for key, (en, es, server_es, _why) in DIFFERENCES.items():
        if key not in shared:
            stale[key] = "no longer shared with the catalogue"
        elif shared[key][1] in shared[key][2]:
            stale[key] = "the two agree now"
        elif shared[key] != (en, es, {server_es}):
            stale[key] = f"now {shared[key]}"
    assert not stale, f"DIFFERENCES lists what no longer holds (update or drop it): {stale}"


if __name__ == "__main__":
    shared_strings, editor_only = compare()
    print(f"shared with the catalogue ({len(shared_strings)}):")
    for k, (en, es, server) in sorted(shared_strings.items()):
        print(f"  {k}: {en!r} -> {es!r}" + ("" if es in server else f"  (catalogue: {sorted(server)})"))
    print(f"only in web/src/i18n.js ({len(editor_only)}):")
    for k in editor_only:
        print("  " + k)
