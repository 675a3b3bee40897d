"""Word-level redlines with diff-match-patch.

diff-match-patch diffs characters; legal readers want whole words struck and inserted. Each word
(with the spaces after it) is mapped to one private character, the strings of those characters
are diffed, and the result is mapped back: a word is either kept, deleted or inserted whole.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from diff_match_patch import diff_match_patch
from markupsafe import Markup, escape

_TOKEN = re.compile(r"\S+\s*|\s+")
# Private-use characters stand for words: far more than any clause has distinct words.
_FIRST = 0xE000
_LIMIT = 0xF8FF - _FIRST

KEEP, DELETE, INSERT = 0, -1, 1


@dataclass(frozen=True)
class Change:
    op: int  # KEEP, DELETE or INSERT
    text: str


def word_diff(old: str, new: str, timeout: float = 1.0) -> list[Change]:
    """The changes that turn `old` into `new`, whole words at a time.

    Both texts are compared in Unicode NFC, so that an accent typed as one character or as a
    letter plus a combining mark is the same word.
    """
    old, new = unicodedata.normalize("NFC", old), unicodedata.normalize("NFC", new)
    vocabulary: dict[str, str] = {}
    words: list[str] = []

    def encode(text: str) -> str:
        out = []
        for token in _TOKEN.findall(text):
            code = vocabulary.get(token)
            if code is None:
                if len(words) >= _LIMIT:  # absurdly many distinct words: fall back to characters
                    raise OverflowError
                code = vocabulary[token] = chr(_FIRST + len(words))
                words.append(token)
            out.append(code)
        return "".join(out)

    engine = diff_match_patch()
    engine.Diff_Timeout = timeout
    try:
        a, b = encode(old), encode(new)
    except OverflowError:
        diffs = engine.diff_main(old, new)
        engine.diff_cleanupSemantic(diffs)
        return [Change(op, text) for op, text in diffs]
    diffs = engine.diff_main(a, b, False)
    engine.diff_cleanupSemantic(diffs)
    return [Change(op, "".join(words[ord(c) - _FIRST] for c in codes)) for op, codes in diffs]


def redline_html(changes: list[Change]) -> Markup:
    """`<del>` and `<ins>` markup for a diff (text escaped)."""
    parts = []
    for change in changes:
        text = escape(change.text)
        if change.op == DELETE:
            parts.append(Markup("<del>{}</del>").format(text))
        elif change.op == INSERT:
            parts.append(Markup("<ins>{}</ins>").format(text))
        else:
            parts.append(text)
    return Markup("").join(parts)


def similarity(changes: list[Change]) -> float:
    """Share of the words of both texts that the diff keeps (0..1)."""
    kept = sum(len(c.text.split()) for c in changes if c.op == KEEP)
    total = kept * 2 + sum(len(c.text.split()) for c in changes if c.op != KEEP)
    return (2 * kept / total) if total else 1.0
