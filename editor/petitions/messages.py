"""What the reference resolver (akoma_ntoso.citations) says, in the reader's language.

The resolver gives each problem and note a code and its arguments; unit names in them ("Artículo
16, apartado A") stay in the document's language, the words around them follow the reader's.
Outside a request (the command line) the words are English (editor.errors.say).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from akoma_ntoso.citations import Resolution, Said

from ..errors import say as _


def _either(names: tuple[str, ...]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return _("%(some)s or %(last)s", some=", ".join(names[:-1]), last=names[-1])


def _places(places: tuple[tuple[str, str], ...]) -> str:
    return "; ".join(_("in %(unit)s", unit=text) if how == "in" else text for how, text in places)


SAYINGS: dict[str, Callable[[Mapping], str]] = {
    "cite.no_unit": lambda a: _("the citation names no unit"),
    "cite.missing": lambda a: _("there is no %(name)s", name=a["name"]),
    "cite.ambiguous": lambda a: _("%(name)s is ambiguous: there are %(count)d (%(places)s); say which",
                                  name=a["name"], count=a["count"], places=_places(a["places"])),
    "cite.no_child": lambda a: _("%(unit)s has no %(name)s", unit=a["unit"], name=a["name"]),
    "cite.deeper": lambda a: _("%(unit)s has no %(name)s of its own, and %(count)d of its parts have one "
                               "(%(places)s); say which", unit=a["unit"], name=a["name"], count=a["count"],
                               places=a["places"]),
    "cite.read_as": lambda a: _("%(unit)s has no %(name)s of its own; read as %(read)s",
                                unit=a["unit"], name=a["name"], read=a["read"]),
    "cite.also": lambda a: _("it could also mean %(meanings)s", meanings=_either(a["meanings"])),
}


def said(message: Said) -> str:
    code, args = message
    return SAYINGS[code](dict(args))


def problem_of(resolution: Resolution) -> str:
    """Why a citation names no unit (or names it imprecisely), in the reader's language."""
    if resolution.problem_code is not None:
        return said(resolution.problem_code)
    return resolution.problem or _("not found")


def note_of(resolution: Resolution) -> str:
    """What a resolved citation's reading skipped or could also mean, in the reader's language."""
    if resolution.note_codes:
        return "; ".join(said(note) for note in resolution.note_codes)
    return resolution.note or ""
