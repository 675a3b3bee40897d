"""The errors of the legal-text model: what is wrong with a document or a number, said plainly."""

from __future__ import annotations


class AkomaNtosoError(ValueError):
    """Base of every error raised by `akoma_ntoso`; the web layer maps it to a 4xx once."""


class NumberingError(AkomaNtosoError):
    """A number, numbering style, unit kind or language that the numbering rules cannot handle."""


class DocumentStructureError(AkomaNtosoError):
    """The live tree breaks the shape fixed in docs/document-model.md.

    `path` is the child-index path of the offending element from `<body>`, counting every
    element child (text blocks included), the same paths `guids.plan_guid_repairs` uses;
    `()` means the body itself.
    """

    def __init__(self, message: str, path: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


class NothingToImport(AkomaNtosoError):
    """An importer recognised no unit at all in its input: nothing is created."""
