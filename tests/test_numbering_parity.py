"""The browser and the server number units the same way: the labels people see while editing are
the labels the public pages, the API and the Akoma Ntoso export use."""

from __future__ import annotations

import json
import shutil
import subprocess

from conftest import ROOT, require

from akoma_ntoso import NUMBERED_KINDS, STYLES, format_label, format_number, resolve_styles

SCRIPT = """
import('./src/numbering.js').then(m => {
  const styles = %s, kinds = %s, out = {numbers: {}, labels: {}}
  for (const s of styles) out.numbers[s] = Array.from({length: 99}, (_, i) => m.formatNumber(i + 1, s))
  for (const lang of ['spa', 'eng']) for (const k of kinds) for (const n of ['1', '16 Bis', 'IV', 'a', 'PRIMERO'])
    out.labels[lang + '|' + k + '|' + n] = m.formatLabel(k, n, lang)
  out.defaults = m.DEFAULT_STYLES
  console.log(JSON.stringify(out))
})
"""


def test_browser_and_server_format_numbers_and_labels_identically():
    require(shutil.which("node") is not None, "node is not installed")
    kinds = [k for k in NUMBERED_KINDS]
    script = SCRIPT % (json.dumps(list(STYLES)), json.dumps(kinds))
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
