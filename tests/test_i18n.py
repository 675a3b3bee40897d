"""Spanish and English: every interface string is translated, and pages follow the reader's language."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import Translations
from conftest import PUBLISHED, ROOT

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


# --- every page in both languages -----------------------------------------------------------
#
# Each page is fetched in Spanish and in English (Accept-Language). The Spanish page's visible
# text (text nodes, plus aria-label, placeholder, title and alt, which screen readers say) must
# contain none of the catalogue's English msgids, and the English page's interface parts none of
# their Spanish translations. The rule for what counts as a telltale string:
#
# * a msgid is split at its placeholders (%(num)d, %(name)s) into literal fragments; each fragment
#   of at least 4 characters with a letter in it is looked for, as whole words, case-sensitively;
# * a fragment is ignored when it also occurs (case-insensitively, as whole words) in some string
#   of the other language: "Total", "CSV", "Akoma Ntoso", "Local" are both Spanish and English;
# * a msgid whose translation is identical is no evidence of anything and is skipped.
#
# The legal text and anything else marked with a `lang` other than the page's is not interface:
# documents keep their own language. The English check reads only what is interface by nature
# (the site header, tabs, table column headers, buttons, form labels and legends), since petition
# titles, theme names, clause labels and the text are data in Spanish. Identifiers in <code>
# (eIds such as "preamble", audit event names) are not words of either language.

import re  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402

pytest_plugins = ("demo_site",)  # its fixtures: demo_template, demo_server
from lxml import html as lxml_html  # noqa: E402

from editor.demo import DEMO_SLUG  # noqa: E402

S = f"/d/{DEMO_SLUG}"
#: (path, who): public pages anonymously, committee pages as a committee member, the rest as admin.
#: "<petition>" and "<event>" become the first petition's and event's pages.
WALK = [
    ("/", None), ("/login", None), (S, None), (S + "/art_1", None), (S + "/preamble", None),
    (S + "/petitions", None), ("<petition>", None), (S + "/themes", None), (S + "/themes/agua", None),
    (S + "/events", None), ("<event>", None), (S + "/coverage", None), (S + "/amendments", None),
    (S + "/versions", None), (S + "/edit", None), ("/receipt", None),
    ("/search?q=agua", None), ("/search?q=zzyzx", None),
    ("/account", "ana"), (S + "/edit", "ana"), (S, "ana"), (S + "/petitions/manage", "ana"),
    ("<petition>/manage", "ana"), (S + "/petitions/thresholds", "ana"), ("/notifications", "ana"),
    (S + "/survey", "ana"), (S + "/survey?theme=agua", "ana"), (S + "/survey/answers", "ana"),
    (S + "/survey/themes", "ana"), (S + "/amendments/new", "ana"), (S + "/reviews", "ana"),
    (S + "/events/new", "ana"), (S + "/compare?from=live&to=live", "ana"), (S + "/report", "ana"),
    ("/import", "ana"),
    ("/admin/users", "admin"), ("/admin/audit", "admin"), (S + "/members", "admin"),
    (S + "/stages/configure", "admin"),
]
#: Pages that answer with a refusal page in the demo's stage (drafting: no amendments yet), which
#: must speak the reader's language as well.
REFUSALS = {S + "/amendments/new": 409}
SPOKEN_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")
URL = re.compile(r"https?://\S+")
PLACEHOLDER = re.compile(r"%\([^)]*\)[a-z]|%[a-z]")
INTERFACE = ("//header[contains(@class,'site-header')]", "//nav[contains(@class,'doc-tabs')]",
             "//nav[contains(@class,'survey-nav')]", "//th[@scope='col']", "//button", "//label", "//legend")


def _catalogue_pairs() -> list[tuple[str, str]]:
    """(English, Spanish) for every message and plural form whose translation differs."""
    with open(CATALOGUE / "messages.po", "rb") as f:
        catalogue = read_po(f, locale="es")
    pairs = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english, spanish in zip(ids, strings, strict=False):  # a language may have more plural forms
            if spanish and english != spanish:
                pairs.append((english, spanish))
    return pairs


def _fragments(message: str) -> list[str]:
    parts = (" ".join(p.split()) for p in PLACEHOLDER.split(message))
    return [p.strip(" .,:;·()¿?¡!«»\"'…-") for p in parts if len(p.strip()) >= 4 and re.search(r"[^\W\d_]", p)]


def _words(fragment: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(fragment) + r"(?!\w)")


@pytest.fixture(scope="module")
def telltales():
    """English fragments that must not show in Spanish, and Spanish ones that must not in English."""
    pairs = _catalogue_pairs()
    all_spanish = "\n".join(s for _, s in pairs).lower()
    all_english = "\n".join(e for e, _ in pairs).lower()

    def keep(fragment: str, other_language: str) -> bool:
        return len(fragment) >= 4 and not _words(fragment.lower()).search(other_language)

    english = {f for e, _ in pairs for f in _fragments(e) if keep(f, all_spanish)}
    spanish = {f for _, s in pairs for f in _fragments(s) if keep(f, all_english)}
    return [(f, _words(f)) for f in sorted(english)], [(f, _words(f)) for f in sorted(spanish)]


def _interface_text(tree, page_lang: str, only_interface: bool) -> str:
    """The text a reader sees or hears, without parts in another language than the page's."""
    for element in tree.xpath("//script | //style | //template | //code"):  # <code>: identifiers (eIds, keys)
        element.drop_tree()
    for element in tree.xpath("//*[@lang]"):
        if element.tag != "html" and element.get("lang") != page_lang and element.getparent() is not None:
            element.drop_tree()
    roots = [e for xpath in INTERFACE for e in tree.xpath(xpath)] if only_interface else [tree]
    chunks = []
    for root in roots:
        chunks.append(root.text_content())
        for element in root.iter():
            chunks.extend(element.get(a, "") for a in SPOKEN_ATTRIBUTES)
    return URL.sub(" ", " ".join(" ".join(chunks).split()))  # addresses (a printed permalink) are not words


def _resolve(server, path: str) -> str:
    if path.startswith("<petition>"):
        listing = requests.get(f"{server.url}{S}/petitions", timeout=10).text
        return re.search(rf'href="({S}/petitions/\d+)"', listing).group(1) + path[len("<petition>"):]
    if path == "<event>":
        listing = requests.get(f"{server.url}{S}/events", timeout=10).text
        return re.search(rf'href="({S}/events/\d+)"', listing).group(1)
    return path


@pytest.mark.parametrize("path,who", WALK, ids=[f"{p}@{w or 'public'}" for p, w in WALK])
def test_every_page_speaks_the_readers_language(demo_server, telltales, path, who):
    english_fragments, spanish_fragments = telltales
    session = demo_server.login(who) if who else requests.Session()
    url = demo_server.url + _resolve(demo_server, path)
    pages = {}
    for lang in ("es", "en"):
        response = session.get(url, headers={"Accept-Language": lang}, timeout=30)
        assert response.status_code == REFUSALS.get(path, 200), f"{url} in {lang}: {response.status_code}"
        tree = lxml_html.fromstring(response.content)
        assert tree.get("lang") == lang, f"{url}: <html lang={tree.get('lang')!r}> for a reader of {lang}"
        pages[lang] = tree
    # Documents keep their own language: the legal text stays Spanish for an English reader.
    for text in pages["en"].xpath("//*[contains(concat(' ', @class, ' '), ' legal-text ')]"):
        assert text.get("lang") == "es", f"{url}: the legal text lost its language"
    spanish_text = _interface_text(pages["es"], "es", only_interface=False)
    untranslated = sorted({f for f, pattern in english_fragments if pattern.search(spanish_text)})
    assert not untranslated, f"{path} in Spanish shows English interface strings: {untranslated}"
    english_text = _interface_text(pages["en"], "en", only_interface=True)
    leftover = sorted({f for f, pattern in spanish_fragments if pattern.search(english_text)})
    assert not leftover, f"{path} in English shows Spanish interface strings: {leftover}"


def test_the_switch_overrides_the_browser_language(demo_server):
    page = requests.get(f"{demo_server.url}{S}/art_1?lang=en", headers={"Accept-Language": "es"}, timeout=10)
    tree = lxml_html.fromstring(page.content)
    assert tree.get("lang") == "en" and "Why this clause exists" in page.text
    assert tree.xpath("//article[contains(@class,'legal-text')]")[0].get("lang") == "es"
