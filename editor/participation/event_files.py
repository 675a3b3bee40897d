"""Files organisers upload with the conclusions of their event: which are accepted, how each is
checked, and where it is kept.

Accepted: PDF documents and JPEG, PNG and WebP images, at most EVENT_FILES_MAX of them with one
set of conclusions and EVENT_FILE_MAX_BYTES each. A file is judged by its content, never by the
name or the type its browser claims: its first bytes must be those of an accepted format, it must
parse as that format (pypdf reads its pages; Pillow decodes the whole image), and its name must
end with that format's extension (a PNG called acta.pdf is refused as renamed, and so is a PDF
called acta.exe). Programs (Windows, Linux and macOS executables, scripts), web pages and SVG
drawings are refused by what they are, so the organiser is told why. PDFs that carry scripts,
launch actions or embedded files are refused too: conclusions need none of them.

Nothing here touches the disk until every file of an upload has passed (`check_all`); then each
is written under a random name (`store`) in EVENT_FILES_FOLDER, else `<instance>/event_files`,
and removed again (`remove`) if the database refuses the record. Files are served with the type
their content proved, as downloads or inline images, never as anything a browser would run
(editor.participation.event_views).
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader

from .signin import ParticipationError

#: What each accepted kind is served as, and the extensions its name may end with.
MEDIA_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTENSIONS = {"pdf": ("pdf",), "jpeg": ("jpg", "jpeg"), "png": ("png",), "webp": ("webp",)}
IMAGE_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
#: Largest image, in pixels (a 40-megapixel photograph): a small file that decodes to gigabytes is refused.
MAX_PIXELS = 40_000_000
#: PDF names of active content: scripts, actions that start programs, files inside the file.
PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia")
MAX_FILENAME = 150


@dataclass(frozen=True)
class CheckedFile:
    """An uploaded file that passed every check, in memory until it is stored."""

    filename: str
    kind: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def safe_filename(name: str | None) -> str:
    """The name a file is shown and offered with: its last path part, without control or
    direction characters, at most MAX_FILENAME characters (the extension kept)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(extension) - 1] + dot + extension) if dot and len(extension) <= 5 \
            else name[:MAX_FILENAME]
    return name


def _extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def sniff(head: bytes) -> str:
    """What the first bytes of a file say it is: an accepted kind, or "program", "web", "other"."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"MZ", b"\x7fELF", b"#!", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                        b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\x00asm", b"dex\n")):
        return "program"
    start = head[:1024].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    if start.startswith((b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body", b"<iframe")) \
            or b"<svg" in start or b"<script" in start or b"<html" in start:
        return "web"
    return "other"


def _refuse(message: str) -> ParticipationError:
    return ParticipationError("invalid", message)


def _kind_words(kind: str) -> str:
    return {"pdf": _("a PDF document"), "jpeg": _("a JPEG image"), "png": _("a PNG image"),
            "webp": _("a WebP image")}[kind]


def check_file(filename: str | None, stream, max_bytes: int) -> CheckedFile:
    """The file read from `stream`, if it is what it claims to be (see the module); else
    ParticipationError saying why, in the organiser's words."""
    name = safe_filename(filename) or _("file")
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _refuse(_("“%(name)s” is larger than %(limit)s MB: make it smaller (a PDF exported with less image "
                        "quality, a photograph at a lower resolution) or upload it elsewhere and give the link.",
                        name=name, limit=f"{max_bytes / (1024 * 1024):g}"))
    if not data:
        raise _refuse(_("“%(name)s” is empty.", name=name))
    kind = sniff(data[:2048])
    if kind == "program":
        raise _refuse(_("“%(name)s” is a program (an executable file), not a document or an image: it is refused.",
                        name=name))
    if kind == "web":
        raise _refuse(_("“%(name)s” is a web page or an SVG drawing, which can carry scripts: they are not accepted. "
                        "Save it as PDF, or as a PNG or JPEG image.", name=name))
    if kind == "other":
        raise _refuse(_("“%(name)s” is not a PDF document or a JPEG, PNG or WebP image: only those are accepted.",
                        name=name))
    extension = _extension(name)
    if extension not in EXTENSIONS[kind]:
        raise _refuse(_("“%(name)s” is really %(kind)s, but its name says otherwise: a renamed file is refused. "
                        "Give it its own extension (.%(extension)s) and upload it again.",
                        name=name, kind=_kind_words(kind), extension=EXTENSIONS[kind][0]))
    if kind == "pdf":
        _check_pdf(name, data)
    else:
        _check_image(name, kind, data)
    return CheckedFile(filename=name, kind=kind, data=data)


def _check_pdf(name: str, data: bytes) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refuse(_("“%(name)s” is protected by a password: upload it without the protection.", name=name))
        pages = len(reader.pages)
    except ParticipationError:
        raise
    except Exception:  # noqa: BLE001 - pypdf raises many kinds of error on a damaged file; each means "not a PDF"
        pages = 0
    if pages < 1:
        raise _refuse(_("“%(name)s” starts like a PDF but cannot be read as one: it is damaged, or not a PDF.",
                        name=name))
    if any(marker in data for marker in PDF_ACTIVE):
        raise _refuse(_("“%(name)s” contains scripts, actions or embedded files, which conclusions do not need: "
                        "save it again as a plain PDF (for example with “Print to PDF”).", name=name))


def _check_image(name: str, kind: str, data: bytes) -> None:
    damaged = _("“%(name)s” starts like an image but cannot be read as one: it is damaged, or not an image.",
                name=name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != IMAGE_FORMATS[kind]:
                    raise _refuse(damaged)
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise _refuse(_("“%(name)s” is an image of more than %(limit)d megapixels: make it smaller.",
                                    name=name, limit=MAX_PIXELS // 1_000_000))
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # verify() reads the structure; decoding every pixel finds the rest
    except ParticipationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise _refuse(damaged) from None


def check_all(uploads, max_files: int, max_bytes: int) -> list[CheckedFile]:
    """Every (filename, stream) of one upload, checked; none is kept unless all pass. Parts with
    no name and no content (a file field left empty) are skipped."""
    chosen = [(name, stream) for name, stream in uploads if name]
    if len(chosen) > max_files:
        raise _refuse(_("You may attach at most %(limit)d files to your conclusions; you chose %(count)d.",
                        limit=max_files, count=len(chosen)))
    return [check_file(name, stream, max_bytes) for name, stream in chosen]


def files_folder(config) -> Path:
    return Path(config.get("EVENT_FILES_FOLDER") or Path(config["INSTANCE_PATH"]) / "event_files")


def store(folder: Path, files: list[CheckedFile]) -> list[str]:
    """Write the files under new random names (never overwriting); returns the names."""
    folder.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    try:
        for checked in files:
            name = secrets.token_hex(16)
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            names.append(name)
            with os.fdopen(fd, "wb") as out:
                out.write(checked.data)
    except OSError:
        remove(folder, names)
        raise
    return names


def remove(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).unlink(missing_ok=True)


def path_of(folder: Path, stored_name: str) -> Path | None:
    """The stored file, if `stored_name` is one of ours (hexadecimal) and it exists."""
    if len(stored_name) != 32 or any(ch not in "0123456789abcdef" for ch in stored_name):
        return None
    path = folder / stored_name
    return path if path.is_file() else None
