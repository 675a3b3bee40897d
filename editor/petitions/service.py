"""Petitions: importing them with their signature counts, thresholds and what crossing one
obliges the committee to do, hearings with the petitioners, and links to the units their
references name.

A petition platform exports petitions as CSV or JSON: title, petitioner(s), proposal text, URL,
signature counts (one, or several over time) and, for the 2016 Mexico City petitions, the
references of the final text the petition ended up in. `import_petitions` reads such a file,
checks every row before writing anything, records what is new, and then:

* every threshold of the document (`ensure_thresholds`, from `DEFAULT_THRESHOLDS` the first
  time) that a petition has reached and that has no event for it yet gets exactly one
  `PetitionEvent`, dated by the first count at or over it, one `Obligation` (due that date plus
  the threshold's days, assigned to the committee members with the fewest open obligations)
  and one `Notification` per petition and import for every active committee member and
  administrator;
* when units are given, `link_references` links the petition to the units its references name
  (`akoma_ntoso.citations`), and reports what it cannot resolve. The references are read
  against the numbering of a text the importer chooses (`reference_text`: by default the latest
  frozen version, or the live text): "Art. 16" is the unit that was Artículo 16 in that version,
  whatever its number today. The link stores that unit's GUID, and the petition remembers the
  version (`Petition.references_version`) so that its pages can say where a number has shifted
  since ("Artículo 16 en la versión 2, hoy Artículo 17": `shifted_links`).

Importing the same data again adds nothing. Error messages of the domain functions are plain
English for the people importing (like the rest of the domain layer); notifications are written
in the document's language.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from akoma_ntoso import Unit, ancestors, iter_units
from akoma_ntoso.citations import Citation, resolve, resolve_references
from akoma_ntoso.citations import _same_number as same_number  # the resolver's own number equality
from akoma_ntoso.naming import KIND_PLURALS, component, unit_name

from .. import clock
from ..errors import say as _
from ..inputs import BadJSON, parse_json, shown, whole_number
from ..models import Document, User
from ..notifications.service import notify_all
from ..notifications.texts import N_
from ..permissions import EDITING_ROLES
from ..provenance.links import create_link, links_of_source
from ..provenance.models import ProvenanceLink
from ..provenance.text import fold
from ..stages.versions import get_version, live_text, version_text, versions_of
from .messages import problem_of
from .models import (
    ACTIONS,
    DEFAULT_THRESHOLDS,
    Hearing,
    HearingMember,
    Obligation,
    ObligationMember,
    Petition,
    PetitionEvent,
    SignatureCount,
    Threshold,
)

#: The largest petitions file accepted (a platform's export of thousands of petitions fits).
MAX_IMPORT_BYTES = 5 * 1024 * 1024
#: The most petition rows (or counts) in one file.
MAX_ROWS = 50_000
#: More signatures than this is a typing error, not a petition (and would overflow a 32-bit int).
MAX_SIGNATURES = 1_000_000_000
FORMATS = ("csv", "json")
#: Dates before this are typing errors (petition platforms are younger).
EARLIEST = date(1990, 1, 1)
#: Committee members an obligation may be assigned to.
MAX_MEMBERS = 3
MAX_NOTES = 10_000
#: The committee's published reason for a petition it did not (or only partly) incorporate.
MAX_REASON = 2_000
MAX_DUE_DAYS = 3650

_FIELD_LIMITS = {"title": 500, "petitioners": 500, "url": 500, "final_text_refs": 500, "proposal": 100_000}

#: CSV column names (folded: lower case, no accents, "_" for spaces) and the field each gives.
_COLUMNS = {
    "title": "title", "petition": "title", "titulo": "title", "peticion": "title", "name": "title",
    "petitioners": "petitioners", "petitioner": "petitioners", "peticionario": "petitioners",
    "peticionarios": "petitioners", "author": "petitioners", "authors": "petitioners",
    "signatures": "signatures", "signature_count": "signatures", "firmas": "signatures",
    "proposal": "proposal", "propuesta": "proposal", "text": "proposal", "description": "proposal",
    "url": "url", "link": "url",
    "counted_at": "counted_at", "date": "counted_at", "fecha": "counted_at",
    "final_text_refs": "final_text_refs", "refs": "final_text_refs", "references": "final_text_refs",
}
_THOUSANDS = re.compile(r"\d{1,3}(?:([,. \u00a0_])\d{3})(?:\1\d{3})*")


class PetitionImportError(ValueError):
    """A petitions file that cannot be imported; the message names the row and the column."""


class PetitionError(ValueError):
    """A request about petitions (thresholds, obligations, hearings) that cannot be carried out."""


# --- reading files ---------------------------------------------------------------------------


@dataclass
class _Row:
    """One petition as a file gives it (several rows of one petition merged)."""
    where: str
    title: str
    url: str | None
    petitioners: str = ""
    proposal: str = ""
    final_text_refs: str = ""
    #: which of the text fields the file gives a value for (the others are left as they are)
    given: set[str] = field(default_factory=set)
    #: (counted at, signatures, where in the file)
    counts: list[tuple[datetime, int, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.url or fold(self.title)


def parse_moment(text: str) -> datetime:
    """An ISO date ("2016-05-01", midnight UTC) or date-time ("2016-05-01T10:00Z"), in UTC.

    ValueError says what is wrong.
    """
    text = text.strip()
    if not text:
        raise ValueError(_("no date given"))
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = datetime.combine(date.fromisoformat(text), time(), timezone.utc)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(_("%(value)s is not an ISO date (2016-05-01) or date-time (2016-05-01T10:00:00Z)",
                           value=shown(text))) from None
    try:
        in_utc = clock.as_utc(moment)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is past the last day there is in UTC
        raise ValueError(_("%(value)s is out of range", value=shown(text))) from None
    return _check_moment(in_utc)


def _check_moment(moment: datetime) -> datetime:
    if moment.date() < EARLIEST:
        raise ValueError(_("%(day)s is before %(year)s", day=moment.date().isoformat(), year=EARLIEST.year))
    if moment > clock.now() + timedelta(days=1):
        raise ValueError(_("%(day)s is in the future", day=moment.date().isoformat()))
    return moment


def _signatures(value: object) -> int:
    """A signature count from a CSV cell or a JSON value; ValueError says why it is not one."""
    if isinstance(value, bool) or value is None:
        raise ValueError(_("%(value)s is not a number of signatures", value=shown(value)))
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(_("%(value)s is not a whole number", value=shown(value)))
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-") and text[1:].strip().replace(",", "").isdigit():
            raise ValueError(_("%(value)s is negative", value=shown(text)))
        if _THOUSANDS.fullmatch(text):
            text = re.sub(r"\D", "", text)
        number = whole_number(text)
        if number is None:
            raise ValueError(_("%(value)s is not a whole number", value=shown(text)))
        value = number
    if not isinstance(value, int):
        raise ValueError(_("%(value)s is not a whole number", value=shown(value)))
    if value < 0:
        raise ValueError(_("%(value)s is negative", value=value))
    if value > MAX_SIGNATURES:
        raise ValueError(_("%(value)s is more signatures than there are people", value=f"{value:,}"))
    return value


def _text(value: object, column: str, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and column == "petitioners" and all(isinstance(v, str) for v in value):
        value = ", ".join(v.strip() for v in value if v.strip())
    if not isinstance(value, str):
        raise PetitionImportError(f"{where}, {column}: " + _("expected text, found %(type)s", type=type(value).__name__))
    value = value.strip()
    limit = _FIELD_LIMITS[column]
    if len(value) > limit:
        raise PetitionImportError(f"{where}, {column}: " + _("longer than %(limit)s characters (%(length)s)",
                                                              limit=f"{limit:,}", length=f"{len(value):,}"))
    return value


def _url(value: str, where: str) -> str | None:
    if not value:
        return None
    if not re.match(r"https?://[^\s/]+", value):
        raise PetitionImportError(f"{where}, url: " + _("%(value)s is not an http(s) address", value=shown(value, 120)))
    return value


def _row(where: str, values: dict, counts: list[tuple[datetime, int, str]]) -> _Row:
    title = _text(values.get("title"), "title", where)
    if not title:
        raise PetitionImportError(f"{where}, title: " + _("the petition has no title"))
    row = _Row(where=where, title=title, url=_url(_text(values.get("url"), "url", where), where), counts=counts)
    for column in ("petitioners", "proposal", "final_text_refs"):
        value = _text(values.get(column), column, where)
        if value:
            setattr(row, column, value)
            row.given.add(column)
    return row


def _read_csv(text: str, at: datetime) -> tuple[list[_Row], list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise PetitionImportError(_("line 1: the header cannot be read as CSV (%(error)s)", error=exc)) from None
    if not header or not any(cell.strip() for cell in header):
        raise PetitionImportError(_("the file is empty: expected a header line (title,petitioners,signatures,…)"))
    columns: list[str | None] = []
    seen: dict[str, str] = {}
    for cell in header:
        name = "_".join(fold(cell).split())
        canonical = _COLUMNS.get(name)
        if canonical in seen:
            raise PetitionImportError(
                _("line 1: the columns %(one)s and %(other)s both give the %(column)s", one=shown(seen[canonical]),
                  other=shown(cell.strip()), column=canonical))
        if canonical:
            seen[canonical] = cell.strip()
        columns.append(canonical)
    if "title" not in seen:
        found = ", ".join(shown(c.strip(), 40) for c in header[:12]) + (", …" if len(header) > 12 else "")
        raise PetitionImportError(
            _("line 1: no title column (expected 'title' or 'petition'); the header has %(found)s", found=found))
    rows: list[_Row] = []
    try:
        for cells in reader:
            line = reader.line_num
            where = _("line %(n)d", n=line)
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise PetitionImportError(
                    _("%(where)s: %(fields)d fields, but the header has %(columns)d (a comma inside a value needs "
                      "quotes)", where=where, fields=len(cells), columns=len(header)))
            if len(rows) >= MAX_ROWS:
                raise PetitionImportError(_("%(where)s: more than %(n)s rows", where=where, n=f"{MAX_ROWS:,}"))
            values = {column: cell for column, cell in zip(columns, cells, strict=True) if column}
            counts: list[tuple[datetime, int, str]] = []
            raw = (values.get("signatures") or "").strip()
            if raw:
                try:
                    signatures = _signatures(raw)
                except ValueError as exc:
                    raise PetitionImportError(f"{where}, {seen['signatures']}: {exc}") from None
                moment = at
                if (values.get("counted_at") or "").strip():
                    try:
                        moment = parse_moment(values["counted_at"])
                    except ValueError as exc:
                        raise PetitionImportError(f"{where}, {seen['counted_at']}: {exc}") from None
                counts.append((moment, signatures, where))
            try:
                rows.append(_row(where, values, counts))
            except PetitionImportError as exc:
                # name the column as the file spells it
                message = str(exc)
                for canonical, spelled in seen.items():
                    message = message.replace(f"{where}, {canonical}:", f"{where}, {spelled}:")
                raise PetitionImportError(message) from None
    except csv.Error as exc:
        raise PetitionImportError(_("line %(n)d: not valid CSV (%(error)s)", n=reader.line_num, error=exc)) from None
    ignored = [cell.strip() for cell, column in zip(header, columns, strict=True) if column is None and cell.strip()]
    return rows, ignored


def _read_json(text: str, at: datetime) -> list[_Row]:
    try:
        data = parse_json(text)
    except BadJSON as exc:
        raise PetitionImportError(_("not valid JSON: %(error)s", error=exc)) from None
    if isinstance(data, dict) and "petitions" in data:
        data = data["petitions"]
    if not isinstance(data, list):
        raise PetitionImportError(
            _('expected a list of petitions, or an object {"petitions": [...]}; found %(found)s',
              found=_('an object without "petitions"') if isinstance(data, dict) else type(data).__name__))
    if len(data) > MAX_ROWS:
        raise PetitionImportError(_("more than %(n)s petitions", n=f"{MAX_ROWS:,}"))
    rows: list[_Row] = []
    for index, item in enumerate(data, start=1):
        where = _("petition %(n)d", n=index)
        if not isinstance(item, dict):
            raise PetitionImportError(_("%(where)s: expected an object, found %(type)s", where=where,
                                        type=type(item).__name__))
        values = dict(item)
        if "title" not in values and "petition" in values:
            values["title"] = values["petition"]
        if "petitioners" not in values and "petitioner" in values:
            values["petitioners"] = values["petitioner"]
        if "final_text_refs" not in values and "refs" in values:
            values["final_text_refs"] = values["refs"]
        counts: list[tuple[datetime, int, str]] = []
        signatures = values.get("signatures")
        if isinstance(signatures, list):
            if len(signatures) > MAX_ROWS:
                raise PetitionImportError(f"{where}, signatures: " + _("more than %(n)s counts", n=f"{MAX_ROWS:,}"))
            for n, entry in enumerate(signatures, start=1):
                spot = f"{where}, signatures[{n}]"
                if not isinstance(entry, dict) or "count" not in entry or "at" not in entry:
                    raise PetitionImportError(f"{spot}: " + _('expected {"at": "2016-05-01", "count": 1234}'))
                if not isinstance(entry["at"], str):
                    raise PetitionImportError(f"{spot}, at: " + _("expected an ISO date as text"))
                try:
                    moment = parse_moment(entry["at"])
                except ValueError as exc:
                    raise PetitionImportError(f"{spot}, at: {exc}") from None
                try:
                    counts.append((moment, _signatures(entry["count"]), spot))
                except ValueError as exc:
                    raise PetitionImportError(f"{spot}, count: {exc}") from None
        elif signatures is not None:
            try:
                number = _signatures(signatures)
            except ValueError as exc:
                raise PetitionImportError(f"{where}, signatures: {exc}") from None
            moment = at
            if values.get("counted_at") is not None:
                if not isinstance(values["counted_at"], str):
                    raise PetitionImportError(f"{where}, counted_at: " + _("expected an ISO date as text"))
                try:
                    moment = parse_moment(values["counted_at"])
                except ValueError as exc:
                    raise PetitionImportError(f"{where}, counted_at: {exc}") from None
            counts.append((moment, number, where))
        rows.append(_row(where, values, counts))
    return rows


def _merge(rows: list[_Row]) -> list[_Row]:
    """One row per petition: rows of the same petition (same URL, else same folded title) merged.

    A row without URL joins the one petition of the file with a URL and the same title, if any.
    """
    merged: dict[str, _Row] = {}
    with_url: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        target = merged.get(row.key)
        if target is None:
            merged[row.key] = row
            if row.url:
                with_url[fold(row.title)].append(row)
            continue
        _absorb(target, row)
    for key, row in list(merged.items()):
        if row.url is None and len(with_url.get(key, ())) == 1:
            _absorb(with_url[key][0], row)
            del merged[key]
    for row in merged.values():
        by_time: dict[datetime, tuple[int, str]] = {}
        for moment, number, where in row.counts:
            if moment in by_time and by_time[moment][0] != number:
                raise PetitionImportError(
                    _("%(where)s: %(title)s has %(number)s signatures at %(moment)s, but %(other)s gives %(count)s at "
                      "the same time", where=where, title=shown(row.title, 120), number=f"{number:,}",
                      moment=moment.isoformat(), other=by_time[moment][1], count=f"{by_time[moment][0]:,}"))
            by_time.setdefault(moment, (number, where))
        row.counts = sorted({(m, n, w) for m, (n, w) in by_time.items()})
    return list(merged.values())


def _absorb(target: _Row, row: _Row) -> None:
    for column in row.given:
        setattr(target, column, getattr(row, column))
        target.given.add(column)
    target.title = row.title or target.title
    target.counts.extend(row.counts)


# --- importing -------------------------------------------------------------------------------


@dataclass
class Crossing:
    """A threshold a petition reached, with the event and obligation it created."""
    petition: Petition
    threshold: Threshold
    event: PetitionEvent
    obligation: Obligation
    members: list[User]


@dataclass
class PetitionImport:
    """What an import did."""
    created: list[Petition] = field(default_factory=list)
    updated: list[Petition] = field(default_factory=list)
    unchanged: list[Petition] = field(default_factory=list)
    counts_recorded: int = 0
    crossings: list[Crossing] = field(default_factory=list)
    notifications: int = 0
    #: one report per petition whose references were read (only when units were given)
    links: list[LinkReport] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    #: the version whose numbering the references were read against (None: the live text's)
    version: int | None = None

    @property
    def links_made(self) -> int:
        return sum(report.created for report in self.links)


def import_petitions(
    db,
    document: Document,
    data: bytes,
    fmt: str,
    at: datetime | None = None,
    units: Sequence[Unit] | None = None,
    version: int | None = None,
    live_units: Sequence[Unit] | None = None,
) -> PetitionImport:
    """Import petitions and signature counts from a CSV or JSON export into `document`.

    `at` is when the counts without a date of their own were counted (default: now, UTC).
    Every row is checked before anything is written: on `PetitionImportError` (its message
    names the row and the column) nothing has changed. On success the import is committed.
    With `units` (the live text's, `read_live(services, slug).units`) the references of new
    petitions, of petitions whose references changed and of petitions with no link yet are
    linked (`link_references`). `units` may be a frozen version's (`version`, its number; see
    `reference_text`), the links then going to those units in `live_units`.
    """
    if fmt not in FORMATS:
        raise PetitionImportError(_("unknown format %(format)s; expected csv or json", format=repr(fmt)))
    if len(data) > MAX_IMPORT_BYTES:
        raise PetitionImportError(
            _("the file is %(size)s MB; petition imports are limited to %(limit)d MB",
              size=f"{len(data) / 1048576:.1f}", limit=MAX_IMPORT_BYTES // 1048576))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PetitionImportError(_("the file is not UTF-8 text (byte %(n)d cannot be read)", n=exc.start)) from None
    if not text.strip():
        raise PetitionImportError(_("the file is empty"))
    try:
        at = _check_moment(clock.as_utc(at)) if at is not None else clock.now()
    except ValueError as exc:
        raise PetitionImportError(_("the time of the counts: %(error)s", error=exc)) from None
    if fmt == "csv":
        if text.lstrip().startswith(("[", "{")):
            raise PetitionImportError(_("this looks like JSON, not CSV: choose the JSON format"))
        rows, ignored = _read_csv(text, at)
    else:
        rows, ignored = _read_json(text, at), []
    if not rows:
        raise PetitionImportError(_("the file holds no petitions"))
    rows = _merge(rows)

    petitions = list(db.scalars(select(Petition).where(Petition.document_id == document.id)))
    index = _Index(petitions)
    plan = [(row, index.match(row)) for row in rows]
    existing_counts = _counts_of(db, [p.id for _row, p in plan if p is not None])
    for row, petition in plan:  # still checking: a count contradicting a stored one is an error
        if petition is None:
            continue
        stored = {clock.as_utc(c.counted_at): c.signatures for c in existing_counts.get(petition.id, ())}
        for moment, number, where in row.counts:
            if moment in stored and stored[moment] != number:
                raise PetitionImportError(
                    _("%(where)s: %(title)s already has %(stored)s signatures counted at %(moment)s; this file gives "
                      "%(number)s for the same time", where=where, title=shown(row.title, 120),
                      stored=f"{stored[moment]:,}", moment=moment.isoformat(), number=f"{number:,}"))

    result = PetitionImport(ignored_columns=ignored, version=version if live_units is not None else None)
    try:
        thresholds = ensure_thresholds(db, document)
        touched: list[tuple[_Row, Petition, bool, bool]] = []
        relink: set[int] = set()
        for row, petition in plan:
            created = petition is None
            if created:
                petition = Petition(document_id=document.id, key=row.key, title=row.title, url=row.url)
                db.add(petition)
                relink.add(id(petition))
            changed = created
            if row.url and petition.key != row.url:  # a URL for a petition known by its title
                petition.key, petition.url, changed = row.url, row.url, True
            if petition.title != row.title:
                petition.title, changed = row.title, True
            for column in sorted(row.given):
                if getattr(petition, column) != getattr(row, column):
                    setattr(petition, column, getattr(row, column))
                    changed = True
                    if column == "final_text_refs":
                        relink.add(id(petition))
            touched.append((row, petition, created, changed))
        db.flush()  # ids for the new petitions
        new_counts: list[dict] = []
        for row, petition, created, changed in touched:
            fresh = _new_counts(petition, row.counts, existing_counts.get(petition.id, []))
            new_counts.extend(fresh)
            added = len(fresh)
            result.counts_recorded += added
            if created:
                result.created.append(petition)
            elif changed or added:
                result.updated.append(petition)
            else:
                result.unchanged.append(petition)
        petitions_touched = [petition for _row, petition, _c, _ch in touched]
        if new_counts:  # one multi-row insert: counts need no identity in this session
            db.execute(insert(SignatureCount), new_counts)
        db.flush()
        result.crossings = evaluate_thresholds(db, document, petitions_touched, thresholds)
        result.notifications = notify_crossings(db, document, result.crossings)
        if units is not None:
            linked = {link.source_id for link in _petition_links(db, document)}
            for petition in petitions_touched:
                create = id(petition) in relink or petition.id not in linked
                result.links.append(link_references(db, document, units, petition, create=create, version=version,
                                                    live_units=live_units))
        db.commit()
    except IntegrityError:
        db.rollback()
        raise PetitionImportError(
            _("another import changed these petitions at the same time; nothing was imported, try again")) from None
    except BaseException:
        db.rollback()
        raise
    return result


class _Index:
    """The document's petitions by key and by folded title, to find the one a row is about."""
    def __init__(self, petitions: list[Petition]) -> None:
        self.by_key = {p.key: p for p in petitions}
        self.by_title: dict[str, list[Petition]] = defaultdict(list)
        for petition in petitions:
            self.by_title[fold(petition.title)].append(petition)
        self.claimed: set[int] = set()

    def match(self, row: _Row) -> Petition | None:
        """The petition a row is about: same URL; else, for a row with a URL, the petition known
        by the same folded title and no URL; for a row without one, the same folded title."""
        title = fold(row.title)
        if row.url:
            found = self.by_key.get(row.url)
            if found is None:
                candidate = self.by_key.get(title)
                found = candidate if candidate is not None and not candidate.url else None
        else:
            found = self.by_key.get(title)
            if found is None:
                same = self.by_title.get(title, [])
                found = same[0] if len(same) == 1 else None
        if found is not None and found.id in self.claimed and self.by_key.get(row.key) is not found:
            return None  # matched by title by an earlier row already: this one is another petition
        if found is not None:
            self.claimed.add(found.id)
        return found


def _counts_of(db, petition_ids: list[int]) -> dict[int, list[SignatureCount]]:
    grouped: dict[int, list[SignatureCount]] = defaultdict(list)
    if petition_ids:
        rows = db.scalars(select(SignatureCount).where(SignatureCount.petition_id.in_(petition_ids)))
        for count in rows:
            grouped[count.petition_id].append(count)
    return grouped


def _new_counts(petition: Petition, counts, stored: list[SignatureCount]) -> list[dict]:
    """The counts that say something new, as rows to insert: not already stored, and different
    from the count just before them in time (re-importing the same numbers adds nothing)."""
    history = sorted((clock.as_utc(c.counted_at), c.signatures) for c in stored)
    rows = []
    for moment, number, _where in counts:
        if any(m == moment for m, _n in history):
            continue
        before = [n for m, n in history if m < moment]
        if before and before[-1] == number:
            continue
        rows.append({"petition_id": petition.id, "counted_at": moment, "signatures": number})
        history = sorted([*history, (moment, number)])
    return rows


def _petition_links(db, document: Document):

    return db.scalars(
        select(ProvenanceLink).where(
            ProvenanceLink.document_id == document.id, ProvenanceLink.source_kind == "petition"))


# --- thresholds, events, obligations, notifications ------------------------------------------


def ensure_thresholds(db, document: Document) -> list[Threshold]:
    """The document's thresholds, lowest first; the defaults are created (flushed) the first time."""
    thresholds = list(
        db.scalars(select(Threshold).where(Threshold.document_id == document.id).order_by(Threshold.signatures)))
    if not thresholds:
        for signatures, action, due_days, members in DEFAULT_THRESHOLDS:
            threshold = Threshold(document_id=document.id, signatures=signatures, action=action,
                                  due_days=due_days, members=members)
            db.add(threshold)
            thresholds.append(threshold)
        db.flush()
    return thresholds


def _check_threshold(signatures: int, action: str, due_days: int, members: int) -> None:
    if not isinstance(signatures, int) or not 0 < signatures <= MAX_SIGNATURES:
        raise PetitionError(_("the signatures of a threshold must be between 1 and %(n)s", n=f"{MAX_SIGNATURES:,}"))
    if action not in ACTIONS:
        raise PetitionError(_("unknown action %(action)s; expected one of %(actions)s", action=repr(action),
                              actions=", ".join(ACTIONS)))
    if not isinstance(due_days, int) or not 0 <= due_days <= MAX_DUE_DAYS:
        raise PetitionError(_("the days to fulfil an obligation must be between 0 and %(n)d", n=MAX_DUE_DAYS))
    if not isinstance(members, int) or not 0 <= members <= MAX_MEMBERS:
        raise PetitionError(_("the members assigned must be between 0 and %(n)d", n=MAX_MEMBERS))


def _crossed_by(db, threshold: Threshold) -> int:
    return db.scalar(select(func.count()).select_from(PetitionEvent).where(
        PetitionEvent.threshold_id == threshold.id)) or 0


def save_threshold(
    db, document: Document, signatures: int, action: str, due_days: int, members: int,
    threshold_id: int | None = None,
) -> Threshold:
    """Add a threshold to `document` (no `threshold_id`) or change one (flushed; the caller commits).

    A threshold some petition already crossed keeps its number of signatures (its history would
    lie otherwise): add another one instead. Two thresholds of one document never share a number.
    """
    _check_threshold(signatures, action, due_days, members)
    thresholds = ensure_thresholds(db, document)
    threshold = None
    if threshold_id is not None:
        threshold = next((t for t in thresholds if t.id == threshold_id), None)
        if threshold is None:
            raise PetitionError(_("there is no threshold %(id)s in %(slug)s", id=threshold_id, slug=repr(document.slug)))
    if any(t.signatures == signatures and t is not threshold for t in thresholds):
        raise PetitionError(_("there is already a threshold at %(n)s signatures", n=f"{signatures:,}"))
    if threshold is None:
        threshold = Threshold(document_id=document.id, signatures=signatures)
        db.add(threshold)
    elif threshold.signatures != signatures and (crossed := _crossed_by(db, threshold)):
        raise PetitionError(
            _("%(count)d petition(s) already crossed the threshold at %(n)s signatures; its number stays as it is "
              "(add a new threshold instead)", count=crossed, n=f"{threshold.signatures:,}"))
    threshold.signatures, threshold.action = signatures, action
    threshold.due_days, threshold.members = due_days, members
    db.flush()
    return threshold


def delete_threshold(db, document: Document, threshold_id: int) -> None:
    """Remove a threshold nobody crossed yet (flushed; the caller commits); a document keeps one."""
    thresholds = ensure_thresholds(db, document)
    threshold = next((t for t in thresholds if t.id == threshold_id), None)
    if threshold is None:
        raise PetitionError(_("there is no threshold %(id)s in %(slug)s", id=threshold_id, slug=repr(document.slug)))
    if crossed := _crossed_by(db, threshold):
        raise PetitionError(
            _("%(count)d petition(s) already crossed the threshold at %(n)s signatures; it stays, as part of "
              "their history", count=crossed, n=f"{threshold.signatures:,}"))
    if len(thresholds) == 1:
        raise PetitionError(_("a document keeps at least one threshold"))
    db.delete(threshold)
    db.flush()


def committee_members(db) -> list[User]:
    """The active accounts that may sit on the committee's side: committee members and admins."""
    return list(db.scalars(
        select(User).where(User.role.in_(sorted(EDITING_ROLES)), User.active.is_(True)).order_by(User.name, User.id)))


def _open_load(db) -> dict[int, int]:
    """Open obligations per user (all documents)."""
    rows = db.execute(
        select(ObligationMember.user_id, func.count())
        .join(Obligation, Obligation.id == ObligationMember.obligation_id)
        .where(Obligation.status == "open")
        .group_by(ObligationMember.user_id))
    return {user_id: n for user_id, n in rows}


def evaluate_thresholds(
    db, document: Document, petitions: Iterable[Petition] | None = None,
    thresholds: list[Threshold] | None = None,
) -> list[Crossing]:
    """Record every threshold reached by `petitions` (default: all of the document's) that has no
    event yet: one event dated by the first count at or over it, one obligation assigned to the
    members with the fewest open obligations. Flushed; the caller commits and notifies."""
    thresholds = thresholds if thresholds is not None else ensure_thresholds(db, document)
    if petitions is None:
        petitions = db.scalars(select(Petition).where(Petition.document_id == document.id).order_by(Petition.id))
    petitions = list(petitions)
    if not petitions or not thresholds:
        return []
    ids = [p.id for p in petitions]
    counts = _counts_of(db, ids)
    done = {(petition_id, threshold_id) for petition_id, threshold_id in db.execute(
        select(PetitionEvent.petition_id, PetitionEvent.threshold_id).where(
            PetitionEvent.petition_id.in_(ids), PetitionEvent.threshold_id.is_not(None)))}
    members = committee_members(db)
    load = _open_load(db)
    crossings: list[Crossing] = []
    for petition in petitions:
        history = sorted((clock.as_utc(c.counted_at), c.signatures) for c in counts.get(petition.id, ()))
        for threshold in sorted(thresholds, key=lambda t: t.signatures):
            if (petition.id, threshold.id) in done:
                continue
            first = next(((m, n) for m, n in history if n >= threshold.signatures), None)
            if first is None:
                continue
            moment, number = first
            event = PetitionEvent(
                petition_id=petition.id, kind="threshold", threshold_id=threshold.id, occurred_at=moment,
                description=f"{threshold.signatures} signatures reached ({number} counted on {moment.date().isoformat()})")
            obligation = Obligation(
                petition_id=petition.id, threshold_id=threshold.id, action=threshold.action,
                due_on=moment.date() + timedelta(days=threshold.due_days), status="open")
            db.add_all([event, obligation])
            chosen = sorted(members, key=lambda u: (load.get(u.id, 0), u.role != "committee", u.id))
            chosen = chosen[: threshold.members]
            for user in chosen:
                load[user.id] = load.get(user.id, 0) + 1
            crossings.append(Crossing(petition, threshold, event, obligation, chosen))
    db.flush()  # one batch of events and obligations, then who is assigned to each
    for crossing in crossings:
        for user in crossing.members:
            db.add(ObligationMember(obligation_id=crossing.obligation.id, user_id=user.id))
    db.flush()
    return crossings


def staff_path(document: Document, petition: Petition) -> str:
    """The committee's page of a petition (a path: notifications are written outside requests)."""
    return f"/d/{document.slug}/petitions/{petition.id}/manage"


def notify_crossings(db, document: Document, crossings: list[Crossing]) -> int:
    """One notification per petition that crossed thresholds, for every active committee member
    and administrator as each chose (editor.notifications: kind "threshold"), rendered in the
    reader's language when read; returns how many in-app notifications were added."""
    if not crossings:
        return 0
    by_petition: dict[int, list[Crossing]] = defaultdict(list)
    for crossing in crossings:
        by_petition[crossing.petition.id].append(crossing)
    recipients = committee_members(db)
    added = 0
    for group in by_petition.values():
        petition = group[0].petition
        args = {
            "title": petition.title,
            "thresholds": {"list": [{"number": c.threshold.signatures} for c in group]},
            "actions": {"sep": "; ", "all": [
                {"msg": N_("%(action)s by %(due)s"), "args": {"action": {"action": c.obligation.action},
                                                              "due": {"date": c.obligation.due_on.isoformat()}}}
                for c in group]},
        }
        added += notify_all(db, recipients, document, "threshold",
                            N_("“%(title)s” reached %(thresholds)s signatures: %(actions)s."), args,
                            staff_path(document, petition))
    db.flush()
    return added


# --- obligations and hearings ----------------------------------------------------------------


def _members(db, member_ids: Iterable[int]) -> list[User]:
    ids = []
    for raw in member_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise PetitionError(_("%(value)s is not a user id", value=repr(raw))) from None
    ids = sorted(set(ids))
    allowed = {u.id: u for u in committee_members(db)}
    wrong = [i for i in ids if i not in allowed]
    if wrong:
        raise PetitionError(
            _("only active committee members and administrators can be chosen; not: %(ids)s",
              ids=", ".join(str(i) for i in wrong)))
    return [allowed[i] for i in ids]


def assign_obligation(db, obligation: Obligation, member_ids: Iterable[int]) -> list[User]:
    """Assign an obligation to up to three committee members (replacing who had it). Flushed."""
    members = _members(db, member_ids)
    if len(members) > MAX_MEMBERS:
        raise PetitionError(_("an obligation is assigned to at most %(n)d members", n=MAX_MEMBERS))
    for row in db.scalars(select(ObligationMember).where(ObligationMember.obligation_id == obligation.id)):
        db.delete(row)
    db.flush()
    for user in members:
        db.add(ObligationMember(obligation_id=obligation.id, user_id=user.id))
    db.flush()
    return members


def set_obligation_done(db, obligation: Obligation, done: bool = True) -> None:
    """Mark an obligation done (now) or open again. Flushed; the caller commits."""
    obligation.status = "done" if done else "open"
    obligation.done_at = clock.now() if done else None
    db.flush()


def record_hearing(db, petition: Petition, held_on: date, member_ids, notes: str, user) -> Hearing:
    """Record a meeting of committee members with the petitioners (flushed; the caller commits).

    `member_ids` are committee members or administrators (at least one); `held_on` lies between
    1990 and today (tomorrow, for time zones ahead of UTC).
    """
    if not isinstance(held_on, date):
        raise PetitionError(_("the date of the hearing is missing"))
    if isinstance(held_on, datetime):
        held_on = held_on.date()
    if held_on < EARLIEST:
        raise PetitionError(_("%(day)s is before %(year)s: check the date of the hearing", day=held_on.isoformat(),
                              year=EARLIEST.year))
    if held_on > clock.now().date() + timedelta(days=1):
        raise PetitionError(_("%(day)s is in the future: record a hearing once it was held", day=held_on.isoformat()))
    members = _members(db, member_ids)
    if not members:
        raise PetitionError(_("choose the committee members who were present"))
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise PetitionError(_("the notes are longer than %(n)s characters", n=f"{MAX_NOTES:,}"))
    hearing = Hearing(petition_id=petition.id, held_on=held_on, notes=notes, recorded_by=getattr(user, "id", None))
    db.add(hearing)
    db.flush()
    for member in members:
        db.add(HearingMember(hearing_id=hearing.id, user_id=member.id))
    db.flush()
    return hearing


def set_outcome_reason(petition: Petition, reason: str) -> tuple[str, str]:
    """Publish (or, with an empty text, withdraw) the committee's reason for not incorporating the
    petition, or for incorporating only part of it. Returns (before, after); the caller commits
    and audits. Raises PetitionError with nothing changed."""
    if not isinstance(reason, str):
        raise PetitionError(_("The reason must be text."))
    text = "\n".join(line.rstrip() for line in reason.replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()
    if any(ord(c) < 32 and c not in "\n\t" for c in text) or "\x7f" in text:
        raise PetitionError(_("The reason contains control characters; write plain text."))
    if len(text) > MAX_REASON:
        raise PetitionError(_("The reason is %(length)d characters long; the limit is %(limit)d.",
                              length=len(text), limit=MAX_REASON))
    before = petition.outcome_reason or ""
    petition.outcome_reason = text
    return before, text


# --- what the pages show ----------------------------------------------------------------------


def signature_history(db, petition: Petition) -> list[SignatureCount]:
    """The petition's counts, oldest first."""
    return list(db.scalars(select(SignatureCount).where(SignatureCount.petition_id == petition.id)
                           .order_by(SignatureCount.counted_at)))


def current_count(db, petition: Petition) -> SignatureCount | None:
    """The latest count of the petition, or None when none was ever recorded."""
    return db.scalar(select(SignatureCount).where(SignatureCount.petition_id == petition.id)
                     .order_by(SignatureCount.counted_at.desc()).limit(1))


def current_signatures(db, petition: Petition) -> int | None:
    """The petition's signatures as last counted (None when never counted)."""
    count = current_count(db, petition)
    return count.signatures if count is not None else None


@dataclass(frozen=True)
class ReachedThreshold:
    threshold: Threshold
    event: PetitionEvent

    @property
    def signatures(self) -> int:
        return self.threshold.signatures

    @property
    def reached_at(self) -> datetime:
        return clock.as_utc(self.event.occurred_at)


def thresholds_reached(db, petition: Petition) -> list[ReachedThreshold]:
    """The thresholds the petition crossed, lowest first, each with its event."""
    rows = db.execute(
        select(Threshold, PetitionEvent)
        .join(PetitionEvent, PetitionEvent.threshold_id == Threshold.id)
        .where(PetitionEvent.petition_id == petition.id)
        .order_by(Threshold.signatures))
    return [ReachedThreshold(threshold, event) for threshold, event in rows]


def petition_events(db, petition: Petition) -> list[PetitionEvent]:
    """The petition's recorded events (thresholds crossed), oldest first."""
    return list(db.scalars(select(PetitionEvent).where(PetitionEvent.petition_id == petition.id)
                           .order_by(PetitionEvent.occurred_at, PetitionEvent.id)))


@dataclass(frozen=True)
class TimelineEntry:
    """One dated fact of a petition: a threshold crossed (with its obligation) or a hearing."""
    kind: str  # "threshold" | "hearing"
    occurred_on: date
    threshold: Threshold | None = None
    event: PetitionEvent | None = None
    obligation: Obligation | None = None
    hearing: Hearing | None = None
    members: tuple[User, ...] = ()


def timeline(db, petition: Petition) -> list[TimelineEntry]:
    """Thresholds crossed and hearings held, oldest first: "what happened to my petition"."""
    entries: list[TimelineEntry] = []
    obligations = {o.threshold_id: o for o in obligations_of(db, petition)}
    for reached in thresholds_reached(db, petition):
        entries.append(TimelineEntry("threshold", reached.reached_at.date(), reached.threshold, reached.event,
                                     obligations.get(reached.threshold.id)))
    for hearing, members in hearings_of(db, petition):
        entries.append(TimelineEntry("hearing", hearing.held_on, hearing=hearing, members=tuple(members)))
    entries.sort(key=lambda e: (e.occurred_on, e.kind != "threshold"))
    return entries


def obligations_of(db, petition: Petition) -> list[Obligation]:
    return list(db.scalars(select(Obligation).where(Obligation.petition_id == petition.id)
                           .order_by(Obligation.due_on, Obligation.id)))


def obligation_members(db, obligation_ids: Iterable[int]) -> dict[int, list[User]]:
    grouped: dict[int, list[User]] = defaultdict(list)
    ids = list(obligation_ids)
    if ids:
        rows = db.execute(select(ObligationMember.obligation_id, User).join(User, User.id == ObligationMember.user_id)
                          .where(ObligationMember.obligation_id.in_(ids)).order_by(User.name))
        for obligation_id, user in rows:
            grouped[obligation_id].append(user)
    return grouped


def hearings_of(db, petition: Petition) -> list[tuple[Hearing, list[User]]]:
    """The petition's hearings, oldest first, each with the members present."""
    hearings = list(db.scalars(select(Hearing).where(Hearing.petition_id == petition.id)
                               .order_by(Hearing.held_on, Hearing.id)))
    present: dict[int, list[User]] = defaultdict(list)
    if hearings:
        rows = db.execute(select(HearingMember.hearing_id, User).join(User, User.id == HearingMember.user_id)
                          .where(HearingMember.hearing_id.in_([h.id for h in hearings])).order_by(User.name))
        for hearing_id, user in rows:
            present[hearing_id].append(user)
    return [(h, present[h.id]) for h in hearings]


@dataclass
class PetitionStatus:
    """A petition with what a list of petitions shows about it."""
    petition: Petition
    signatures: int | None
    counted_at: datetime | None
    reached: list[Threshold]
    open_obligations: list[Obligation]


def petition_statuses(db, document: Document) -> list[PetitionStatus]:
    """Every petition of the document with its latest count, thresholds reached and open
    obligations; most signatures first (a few queries, whatever the number of petitions)."""
    petitions = list(db.scalars(select(Petition).where(Petition.document_id == document.id)))
    if not petitions:
        return []
    ids = [p.id for p in petitions]
    latest: dict[int, tuple[datetime, int]] = {}
    for count in db.scalars(select(SignatureCount).where(SignatureCount.petition_id.in_(ids))):
        moment = clock.as_utc(count.counted_at)
        if count.petition_id not in latest or latest[count.petition_id][0] < moment:
            latest[count.petition_id] = (moment, count.signatures)
    reached: dict[int, list[Threshold]] = defaultdict(list)
    for petition_id, threshold in db.execute(
            select(PetitionEvent.petition_id, Threshold).join(Threshold, Threshold.id == PetitionEvent.threshold_id)
            .where(PetitionEvent.petition_id.in_(ids)).order_by(Threshold.signatures)):
        reached[petition_id].append(threshold)
    open_: dict[int, list[Obligation]] = defaultdict(list)
    for obligation in db.scalars(select(Obligation).where(Obligation.petition_id.in_(ids), Obligation.status == "open")
                                 .order_by(Obligation.due_on)):
        open_[obligation.petition_id].append(obligation)
    statuses = [
        PetitionStatus(p, latest.get(p.id, (None, None))[1], latest.get(p.id, (None, None))[0], reached[p.id], open_[p.id])
        for p in petitions
    ]
    statuses.sort(key=lambda s: (-(s.signatures or 0), fold(s.petition.title)))
    return statuses


def get_petition(db, document: Document, petition_id: int) -> Petition | None:
    petition = db.get(Petition, petition_id)
    return petition if petition is not None and petition.document_id == document.id else None


# --- linking to the text ---------------------------------------------------------------------

def _language(document: Document) -> str:
    return "eng" if document.language == "eng" else "spa"


@dataclass(frozen=True)
class LinkedReference:
    """A unit a petition's references name (or, imprecisely, contain)."""
    reference: str  # the citation as written ("Art. 16, 3"; "4" for the second of "Art. 16, A, 3, 4")
    unit: Unit
    name: str  # "Artículo 16, apartado A, numeral 4"
    created: bool  # a new link (False: the unit was already linked to the petition, or not created)
    imprecise: bool = False
    #: for an imprecise reference: what could not be told apart (the resolver's words)
    problem: str | None = None
    note: str = ""
    #: when resolved against a version: the unit's name in the live text where it differs ("Artículo 17")
    now: str = ""


@dataclass(frozen=True)
class UnresolvedReference:
    reference: str
    problem: str
    #: the unit of the live text the reference does reach, when only its last part names nothing
    #: ("Artículo 12 has no apartado E": Artículo 12), for the report to link to
    unit: Unit | None = None


@dataclass
class LinkReport:
    """What reading one petition's references found and linked."""
    petition: Petition
    references: str
    not_incorporated: bool = False
    linked: list[LinkedReference] = field(default_factory=list)
    unresolved: list[UnresolvedReference] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for item in self.linked if item.created)

    @property
    def imprecise(self) -> list[LinkedReference]:
        return [item for item in self.linked if item.imprecise]


def is_not_incorporated(references: str) -> bool:
    """ "X": the petition's source says it was not incorporated into the final text."""
    return references.strip().rstrip(".").strip().upper() == "X"


def _ambiguous_tail(citation: Citation, units: Sequence[Unit]):
    """When a citation fails only because its last component matches several units inside the
    deepest unit that does resolve, that unit and the matches; else None."""
    for path in (citation.path, *citation.alternatives):
        if len(path) < 2:
            continue
        outer = resolve(Citation(citation.text, path[:-1], citation.start, citation.end), units).unit
        if outer is None:
            continue
        kind, num = path[-1]
        if any(c.kind == kind and same_number(num, c.num) for c in outer.children):
            continue
        matches = [u for u in iter_units(outer.children) if u.kind == kind and same_number(num, u.num)]
        if len(matches) >= 2:
            return outer, matches, kind, num
    return None


def _places(units: Sequence[Unit], outer: Unit, matches: list[Unit], language: str) -> str:
    """Where the matches sit inside `outer`: "apartados A, B, C" or their full names."""
    parents = []
    for match in matches:
        chain = ancestors(units, match.guid) or ()
        inside = chain[chain.index(outer) + 1:] if outer in chain else chain
        parents.append(inside)
    if all(len(p) == 1 for p in parents) and len({p[0].kind for p in parents}) == 1:
        plural = KIND_PLURALS[language].get(parents[0][0].kind, parents[0][0].kind)
        return f"{plural} {', '.join(p[0].num for p in parents)}"
    return "; ".join(unit_name(units, m, language) for m in matches)


def link_references(
    db, document: Document, units: Sequence[Unit], petition: Petition, *, create: bool = True,
    version: int | None = None, live_units: Sequence[Unit] | None = None,
) -> LinkReport:
    """Link `petition` to the units its `final_text_refs` name in `units`: the live text's, or
    version `version`'s (then the links go to the same units, by GUID, in `live_units`; a unit
    no longer in the live text is reported unresolved, and the petition remembers the version).

    Each resolved unit is linked with relation "incorporates" and origin "import" (a unit
    already linked to the petition is left as the committee has it). "X" links nothing and is
    reported as not incorporated. A reference the resolver cannot resolve is reported with its
    problem, never guessed, except one case: when only its last component is ambiguous (it
    matches several units inside the deepest unit that resolves, as "Art. 16, 3": Artículo 16
    has numerals 3 only inside its apartados), that deepest unit is certain and is linked, the
    note and the report saying the rest was ambiguous. With `create=False` nothing is written
    (the report says what would be linked). Flushed; the caller commits.
    """
    references = (petition.final_text_refs or "").strip()
    report = LinkReport(petition=petition, references=references)
    if version is None or live_units is None:
        version, live_units = None, units
    live_by_guid = {u.guid: u for u in iter_units(live_units)}
    if create:
        petition.references_version = version
    if not references:
        return report
    if is_not_incorporated(references):
        report.not_incorporated = True
        return report
    language = _language(document)
    already = {link.unit_guid for link in links_of_source(db, document, "petition", petition.id)}
    resolutions = resolve_references(references, units)
    if not resolutions:
        report.unresolved.append(UnresolvedReference(
            references, _("no reference to an article, title or chapter could be read")))
        return report
    seen: set[str] = set()
    for resolution in resolutions:
        citation = resolution.citation
        if resolution.unit is not None:
            unit, imprecise, problem = resolution.unit, False, None
            name = unit_name(units, unit, language)
            if language == "spa":
                note = f"Referencia de la petición: «{references}» → {name}"
            else:
                note = f"Petition reference: “{references}” → {name}"
            if resolution.note:
                note += f" ({resolution.note})"
        else:
            tail = _ambiguous_tail(citation, units)
            if tail is None:
                reached = dict((resolution.problem_code or ("", ()))[1]).get("guid")
                report.unresolved.append(UnresolvedReference(citation.text, problem_of(resolution),
                                                             live_by_guid.get(str(reached))))
                continue
            unit, matches, kind, num = tail
            imprecise, problem = True, problem_of(resolution)
            name = unit_name(units, unit, language)
            cited = component(kind, num, language)
            where = _places(units, unit, matches, language)
            if language == "spa":
                note = (f"Referencia de la petición: «{references}». Imprecisa: solo {name} es seguro; "
                        f"{cited} es ambiguo ({name} no tiene {cited} propio; lo tienen {where}).")
            else:
                note = (f"Petition reference: “{references}”. Imprecise: only {name} is certain; "
                        f"{cited} is ambiguous ({name} has no {cited} of its own; {where} have one).")
        if unit.guid in seen:
            continue
        seen.add(unit.guid)
        now = ""
        if version is not None:
            live_unit = live_by_guid.get(unit.guid)
            if live_unit is None:
                report.unresolved.append(UnresolvedReference(
                    citation.text, _("%(name)s of version %(version)d is no longer in the text", name=name,
                                     version=version)))
                continue
            now = unit_name(live_units, live_unit, language)
            note += f" (versión {version})" if language == "spa" else f" (version {version})"
            now = "" if now == name else now
            unit = live_unit
        created = False
        if create and unit.guid not in already:
            _link, created = create_link(db, document, live_units, unit.guid, "petition", petition.id,
                                         relation="incorporates", note=note[:2000], origin="import")
            already.add(unit.guid)
        report.linked.append(LinkedReference(citation.text, unit, name, created, imprecise, problem, note, now))
    return report


# --- which text references are read against -----------------------------------------------------------


@dataclass(frozen=True)
class ReferenceText:
    """The text petition references are resolved against: a frozen version's units, or the live text's."""

    units: tuple[Unit, ...]
    version: int | None  # None: the live text
    live_units: tuple[Unit, ...]


def reference_text(services, document: Document, against: str | None = None) -> ReferenceText:
    """The text to read references against: `against` "live", a version number ("2" or "v2"), or
    None for the default, the latest frozen version (the live text while there is none).
    Raises PetitionImportError for a version the document does not have."""
    db = services.db
    live = live_text(services, document).units
    spec = (against or "").strip().lower()
    if spec == "live":
        return ReferenceText(live, None, live)
    if not spec:
        versions = versions_of(db, document, light=True)
        if not versions:
            return ReferenceText(live, None, live)
        number: int | None = versions[-1].number
    else:
        number = whole_number(spec[1:] if spec.startswith("v") else spec, maximum=999_999_999)
    version = get_version(db, document, number) if number is not None else None
    if version is None:
        raise PetitionImportError(_("%(slug)s has no version %(version)s: give a version number or live",
                                    slug=document.slug, version=against))
    return ReferenceText(version_text(version).units, version.number, live)


@dataclass(frozen=True)
class ShiftedLink:
    """A linked unit whose number differs today from the one it had in the version its petition's
    references were read against."""

    version: int
    then: str  # "Artículo 16, apartado A"
    now: str  # "Artículo 17, apartado A"


def shifted_links(db, document: Document, petition: Petition, live_units: Sequence[Unit],
                  links: Iterable[ProvenanceLink]) -> dict[int, ShiftedLink]:
    """By link id: the petition's imported links whose unit has another number today than in the
    version its references were resolved against."""
    number = petition.references_version
    if number is None:
        return {}
    version = get_version(db, document, number)
    if version is None:
        return {}
    then_units = version_text(version).units
    then_by_guid = {u.guid: u for u in iter_units(then_units)}
    live_by_guid = {u.guid: u for u in iter_units(live_units)}
    language = _language(document)
    shifted = {}
    for link in links:
        then, now = then_by_guid.get(link.unit_guid), live_by_guid.get(link.unit_guid)
        if link.origin != "import" or then is None or now is None:
            continue
        then_name, now_name = unit_name(then_units, then, language), unit_name(live_units, now, language)
        if then_name != now_name:
            shifted[link.id] = ShiftedLink(number, then_name, now_name)
    return shifted
