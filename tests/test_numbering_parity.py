"""The browser and the server number units the same way: the labels people see while editing are
the labels the public pages, the API and the Akoma Ntoso export use."""

from __future__ import annotations

import json
import shutil
import subprocess

from conftest import ROOT, require
from lxml import etree

from akoma_ntoso import (
    LANGUAGES,
    NUMBERED_KINDS,
    STYLES,
    UNNUMBERED,
    format_label,
    format_number,
    iter_units,
    new_guid,
    read_units,
    resolve_styles,
)

SCRIPT = """
import('./src/numbering.js').then(m => {
  const styles = %s, kinds = %s, out = {numbers: {}, labels: {}}
  for (const s of styles) out.numbers[s] = Array.from({length: 99}, (_, i) => m.formatNumber(i + 1, s))
  for (const lang of %s) for (const k of kinds) for (const n of ['1', '16 Bis', 'IV', 'a', 'PRIMERO'])
    out.labels[lang + '|' + k + '|' + n] = m.formatLabel(k, n, lang)
  out.defaults = m.DEFAULT_STYLES
  out.styles = Object.fromEntries(%s.map(lang => [lang, m.stylesFor(lang)]))
  out.transitional = m.numberUnits([{kind: 'article'}, {kind: 'transitional', children: [{kind: 'article'},
    {kind: 'article', children: [{kind: 'paragraph'}]}]}, {kind: 'transitional', children: [{kind: 'article'}]}])
    .map(e => e.label)
  out.unnumbered = m.numberUnits([{kind: 'article', children: [{kind: 'paragraph', pin: m.UNNUMBERED},
    {kind: 'paragraph'}, {kind: 'paragraph', pin: '-'}, {kind: 'paragraph'}]}]).map(e => e.label)
  console.log(JSON.stringify(out))
})
"""


def _script(kinds) -> str:
    languages = json.dumps(list(LANGUAGES))
    return SCRIPT % (json.dumps(list(STYLES)), json.dumps(list(kinds)), languages, languages)


def test_browser_and_server_format_numbers_and_labels_identically():
    require(shutil.which("node") is not None, "node is not installed")
    kinds = [*NUMBERED_KINDS, "transitional"]  # and the transitory articles' labels
    script = _script(kinds)
    result = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT / "web",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    browser = json.loads(result.stdout)
    for style in STYLES:
        server = [format_number(style, n) for n in range(1, 100)]
        assert browser["numbers"][style] == server, f"style {style} differs"
    for key, label in browser["labels"].items():
        lang, kind, num = key.split("|")
        assert label == format_label(kind, num, lang), key
    # and an unconfigured Spanish document uses the same style per kind in both
    assert browser["defaults"] == resolve_styles("spa")
    assert set(LANGUAGES) == {"spa", "eng", "por", "fra"}
    for language in LANGUAGES:  # as does a document in any language
        assert browser["styles"][language] == resolve_styles(language), language


def test_unnumbered_units_show_no_label_and_do_not_count_in_the_browser_either():
    require(shutil.which("node") is not None, "node is not installed")
    script = _script(NUMBERED_KINDS)
    result = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT / "web",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    body = etree.fromstring(
        f'<body><article guid="{new_guid()}"><paragraph guid="{new_guid()}" pin="{UNNUMBERED}"/>'
        f'<paragraph guid="{new_guid()}"/><paragraph guid="{new_guid()}" pin="{UNNUMBERED}"/>'
        f'<paragraph guid="{new_guid()}"/></article></body>'
    )
    server = [u.label for u in iter_units(read_units(body, {}))]
    assert json.loads(result.stdout)["unnumbered"] == server == ["Artículo 1", "", "A.", "", "B."]


def test_transitory_articles_count_within_their_group_in_the_browser_too():
    """Transitory articles are PRIMERO, SEGUNDO… in each group of transitional provisions, apart
    from the body's articles, in the editor as on the public pages."""
    require(shutil.which("node") is not None, "node is not installed")
    script = _script(NUMBERED_KINDS)
    result = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT / "web",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    g = new_guid
    body = etree.fromstring(
        f'<body><article guid="{g()}"/><transitional guid="{g()}"><article guid="{g()}"/>'
        f'<article guid="{g()}"><paragraph guid="{g()}"/></article></transitional>'
        f'<transitional guid="{g()}"><article guid="{g()}"/></transitional></body>'
    )
    server = [u.label for u in iter_units(read_units(body, {}))]
    assert json.loads(result.stdout)["transitional"] == server == [
        "Artículo 1", "", "Artículo PRIMERO transitorio", "Artículo SEGUNDO transitorio", "A.", "",
        "Artículo PRIMERO transitorio"]
