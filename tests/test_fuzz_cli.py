"""Fuzzing the command-line importers with hostile and broken files (hypothesis).

`constituent import` (plain text and Akoma Ntoso), `constituent petitions import` (JSON and CSV)
and `constituent survey import` (JSON and CSV, with or without a questions file) read files that
come from outside: exports of petition platforms, spreadsheets, laws copied out of PDFs. Each
runs in this process through click's CliRunner, over a seeded instance, with files that
hypothesis writes from the formats' own grammar rather than random bytes:

* mutations of valid files: a slice deleted, duplicated or replaced, the file truncated, bytes
  that are not UTF-8, byte-order marks, CRLF or CR line ends, UTF-16;
* well-formed JSON and CSV with hostile values: wrong types, missing and unknown fields, lone
  surrogate escapes ("\\ud800"), numbers of 5,000 digits, deep nesting, negative and zero counts,
  digits that are not ASCII ("²", "٣"), dates out of range, control, bidi and invisible
  characters, very long text;
* Akoma Ntoso: the schema-validated 3.0 namespace and the unvalidated ones (2.0, drafts of 3.0),
  with unknown elements and attributes, missing or wrong FRBR metadata, deep nesting, DOCTYPEs
  and entity bombs;
* hostile command-line values: --title, --slug, --at, and text that came through argv as
  undecodable bytes (Python hands those over as lone surrogates).

Asserted for every run: no traceback and no exception escapes; the command either succeeds
(exit 0, saying what it imported) or fails with exit 1 or 2 and an "Error: ..." message, none
of whose lines pastes a hostile value back at length; and a failed import leaves every table of
the database as it was (compared row by row). After each run that changed the database it is
restored, so the examples do not depend on each other and a failure shrinks to the smallest
file. Examples are derandomized: CI runs the same files every time. The inputs that broke the
importers once are kept below as named cases (REGRESSIONS). Run with -s to see, per importer,
how many files were imported and how many refused.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import re
import sqlite3
import threading
import time
import traceback
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import DRAFT, PUBLISHED, ROOT, SHARED_DATA, open_files, require
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from editor.cli import main

#: Files per fuzzing test; each importer has two such tests. FUZZ_EXAMPLES=1000 for a longer hunt.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 80))
SAMPLE = ROOT / "editor" / "sample"
AKN_NS = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"
AKN2_NS = "http://www.akomantoso.org/2.0"
#: The longest line an error message may have, besides what was typed on the command line (a message
#: quoting a whole hostile value back is unreadable).
LONGEST_MESSAGE = 600

SHALLOW = "(almost) every file was refused: the code that writes what a file brings was hardly fuzzed"
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=list(HealthCheck))


# --- the instance, each run, and what it must leave behind -----------------------------------------


class Bench:
    """One instance, the database as it was before the fuzzing, and the runs so far."""

    def __init__(self, instance: Path) -> None:
        self.instance = instance
        self.database = instance / "constituent.sqlite3"
        self.files = instance.parent / "fuzz-files"
        self.files.mkdir(exist_ok=True)
        self.env = {"CONSTITUENT_INSTANCE": str(instance), "SECRET_KEY": "test-secret"}
        self.outcomes: dict[str, int] = {}
        self.pristine: dict[str, str] = {}
        self.copy = instance.parent / "pristine.sqlite3"

    def keep(self) -> None:
        """What the database holds now is the state every run starts from."""
        with closing(sqlite3.connect(self.database)) as source, closing(sqlite3.connect(self.copy)) as copy:
            source.backup(copy)
        self.pristine = tables(self.database)

    def restore(self) -> None:
        with closing(sqlite3.connect(self.copy)) as source, closing(sqlite3.connect(self.database)) as target:
            source.backup(target)

    def write(self, name: str, data: bytes) -> str:
        path = self.files / name
        path.write_bytes(data)
        return str(path)

    def run(self, args: list[str], what: str) -> Result:
        """Run `constituent ARGS`; check the outcome and that a refusal changed nothing."""
        result = CliRunner().invoke(main, args, env=self.env, catch_exceptions=True)
        check_outcome(result, args)
        now = tables(self.database)
        if result.exit_code != 0:
            changed = sorted(name for name in set(now) | set(self.pristine) if now.get(name) != self.pristine.get(name))
            assert not changed, f"a refused import changed the tables {changed}:\n{result.output[:600]}"
        elif now != self.pristine:
            self.restore()
        key = f"{what}: {'imported' if result.exit_code == 0 else 'refused'}"
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        return result


#: The live texts' store: closing a room folds its log into a snapshot (the same text, stored
#: anew), so for these only which documents have a text is compared.
CRDT_TABLES = ("crdt_update", "crdt_snapshot")


def tables(database: Path) -> dict[str, str]:
    """Every table's rows, as a digest per table (rows sorted: the order SQLite returns is not the point)."""
    digests = {}
    with closing(sqlite3.connect(database)) as conn:
        names = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        for name in names:
            if name not in CRDT_TABLES:
                rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{name}"'))
                digests[name] = f"{len(rows)} rows, {hashlib.sha256(''.join(rows).encode()).hexdigest()[:16]}"
        texts = conn.execute(" UNION ".join(f"SELECT document FROM {name}" for name in CRDT_TABLES))
        digests["live texts of"] = ", ".join(sorted(document for (document,) in texts))
    return digests


def check_outcome(result: Result, args: list[str]) -> None:
    """Success, or exit 1/2 with a readable "Error: ..." message; never a traceback."""
    shown = " ".join(a if len(a) < 80 else a[:77] + "..." for a in args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"constituent {shown}\nraised {type(result.exception).__name__}:\n{trace[-3000:]}")
    assert "Traceback" not in result.output, result.output[-3000:]
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output[-1000:])
    if result.exit_code == 0:
        return
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors, f"constituent {shown} failed without an 'Error: ...' message:\n{result.output[-1000:]}"
    if result.exit_code == 1:
        assert result.stderr.startswith("Error: "), result.output[-1000:]
        assert result.stdout == "", f"a refused import printed a report first:\n{result.stdout[:600]}"
    # A message may repeat what was typed on the command line, but not paste a file's contents.
    typed = sum(len(a) for a in args if "fuzz-files" not in a)
    for line in result.stderr.splitlines():
        assert len(line) <= LONGEST_MESSAGE + typed, f"an unreadable message ({len(line):,} characters): {line[:300]}"


@pytest.fixture
def bench(instance):
    """The seeded instance, ready for fuzzing; afterwards, the outcomes are printed and the process
    must hold no more threads or open files than before (each run closes what it opened)."""
    made = Bench(instance)
    made.keep()
    threads, files = threading.active_count(), open_files()
    yield made
    print("\n" + ", ".join(f"{key} {n}" for key, n in sorted(made.outcomes.items())))
    assert threading.active_count() <= threads, [t.name for t in threading.enumerate()]
    assert open_files() <= files + 3, "the commands leave database connections or files open"


# --- hostile values --------------------------------------------------------------------------------


class Raw(str):
    """JSON text written as it is (what json.dumps cannot write: 5,000 digits, NaN, deep nesting)."""


HUGE = "9" * 5000
LONG = "agua " * 25_000  # 125,000 characters
#: Numbers as text: digits that are not ASCII, more digits than int() reads, beyond 64 bits, signs, separators.
NUMBERS = ["²", "٣", "１２", "Ⅻ", "𝟗", "߁", HUGE, "-" + HUGE, "-1", "0", "-0", "00", "02", str(2**63), str(2**64),
           "99999999999999999999", "1e309", "NaN", "Infinity", "1,000,000", "1.000.000", "1 000", "1\u00a0000", "0x10",
           "1_000", "+5", " 7 ", "3.5"]
#: Dates and times out of range, impossible or half written.
MOMENTS = ["0001-01-01", "9999-12-31T99", "9999-12-31", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
           "2016-02-30", "2016-13-01", "2016-05-01T25:00", "2016-05-01T10:00+99:00", "1989-12-31",
           "2100-12-31T23:59:59-12:00", "2016-W01", "20160501", "+12016-05-01", "2016-05-01T10:00:00.123456789Z",
           "2016-05-01Tz", "2016-05-01 10:00", "mañana", "null", "true"]
#: Text: empty, control, invisible and bidi characters, markup, formulas, references, very long.
TEXTS = ["", " ", "\t\n ", "\x00", "a\x00b", "\x1b[2J\x1b[31mrojo", "\x7f\x08", "\u202egpj.exe", "Ley \u2066x\u2069",
         "\u200f", "\ufeff", "\ufffe", "\uffff", "\u0085", "\u2028", "<script>alert(1)</script>",
         "'; DROP TABLE petition; --", "=cmd|' /C calc'!A0", "Art. 1, A", "Art. " + HUGE, "Art. ², A",
         "Art. 9999999999999999999999, 3", "Título Sexto", "X", "x.", "https://", "http://x", "https://" + "a" * 600,
         "javascript:alert(1)", "file:///etc/passwd", "a\r\nb", '"', '""', ",", ";", "\\", "%s%n", "{0}", "${jndi:x}",
         "ÚNICO", "16 Bis", "Ciudad de México", "Agua suficiente y de calidad en todas las colonias"]
HOSTILE_TEXT = NUMBERS + MOMENTS + TEXTS
#: Only JSON can carry these (as escapes): halves of surrogate pairs, which no database stores.
SURROGATES = ["\ud800", "x\udfff", "\udc00\ud800", "\ud83d"]
RAW_JSON = [Raw(HUGE), Raw("-" + HUGE), Raw("1e999"), Raw("-1e999"), Raw("NaN"), Raw("Infinity"), Raw("-Infinity"),
            Raw("1.5"), Raw("-0"), Raw("1E2"), Raw("[" * 70 + "]" * 70), Raw('{"a":' * 70 + "1" + "}" * 70),
            Raw("[" * 5000 + "]" * 5000), Raw("9223372036854775808"), Raw("-9223372036854775809"), Raw(str(2**64))]

hostile_text = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(MOMENTS), st.sampled_from(TEXTS), st.text(max_size=30),
                         st.sampled_from(TEXTS).map(lambda text: text * 3), st.builds(lambda: LONG))
hostile_scalar = (hostile_text | st.sampled_from(SURROGATES) | st.sampled_from(RAW_JSON)
                  | st.integers(-(2**70), 2**70) | st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63) - 1])
                  | st.floats() | st.booleans() | st.none())
hostile_json = st.recursive(hostile_scalar, lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(hostile_text, inner, max_size=3), max_leaves=6)


def dump(value, ascii_only: bool = True) -> str:
    """JSON text for `value`; `Raw` strings are written as they are."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{dump(str(k), ascii_only)}: {dump(v, ascii_only)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(dump(v, ascii_only) for v in value) + "]"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def json_bytes(draw, values) -> bytes:
    """A value as JSON bytes: escaped to ASCII, or raw UTF-8 (lone surrogates as CESU-8 bytes)."""
    ascii_only = draw(st.booleans())
    return dump(draw(values), ascii_only).encode("utf-8", "surrogatepass")


SNIPPETS = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x00", b'"', b",", b";", b"\n",
            b"\r", b"\r\n", b"{", b"}", b"[", b"]", b"<", b">", b"&", b"&amp;", b"]]>", b"<!--", b"\xe2\x80\xae",
            b"\xef\xbb\xbf", b"\\", b"\\u", b"\\ud800", b"9" * 400, b"\t", b" "]
BOMS = [b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"]


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """`original` after one to four edits of the kinds that break files in the wild."""
    data = bytearray(original)
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        op = draw(st.sampled_from(["delete", "duplicate", "replace", "replace", "insert", "insert", "truncate", "bom",
                                   "crlf", "cr", "utf16", "latin1"]))
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 80)))
        if op == "delete":
            del data[start:end]
        elif op == "duplicate":
            data[start:start] = data[start:end] * draw(st.integers(1, 3))
        elif op == "replace":
            data[start:end] = draw(st.sampled_from(SNIPPETS) | st.binary(max_size=6))
        elif op == "insert":
            data[start:start] = draw(st.sampled_from(SNIPPETS))
        elif op == "truncate":
            del data[start:]
        elif op == "bom":
            data[0:0] = draw(st.sampled_from(BOMS))
        elif op == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        elif op == "cr":
            data = bytearray(bytes(data).replace(b"\n", b"\r"))
        elif op == "utf16":
            data = bytearray(bytes(data).decode("utf-8", "replace").encode("utf-16"))
        else:
            data = bytearray(bytes(data).decode("utf-8", "replace").encode("latin-1", "replace"))
    return bytes(data)


#: How many places a tweak changes: mostly one, so that the rest of the file is right and the
#: importer reads on to it (and sometimes accepts it: the writing code is fuzzed too).
EDITS = st.sampled_from([1, 1, 1, 2, 3])


def _places(value, path=()):
    """Every place in a JSON value, as the keys and indexes that lead there."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


@st.composite
def tweaked(draw, valid, keys=()):
    """A valid JSON value with one to three places made hostile: a value replaced, a field renamed,
    a field or item removed, duplicated, or added (under a known or a hostile name). Most of such
    a file is right, so the importer reads on to the part that is not."""
    value = copy.deepcopy(valid)
    for _ in range(draw(EDITS)):
        path = draw(st.sampled_from(list(_places(value))))
        if not path:
            value = draw(hostile_json)
            continue
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "replace", "rename", "remove", "add", "duplicate"]))
        if action == "replace" and isinstance(parent[last], str) and draw(st.booleans()):
            parent[last] = draw(hostile_text)  # text for text: often still acceptable, so the import goes on
        elif action == "replace":
            parent[last] = draw(hostile_json)
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(list(keys) or ["x"]) | hostile_text)] = parent.pop(last)
        elif action == "remove":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(list(keys) or ["x"]) | hostile_text)] = draw(hostile_json)
        elif action == "add":
            parent.append(draw(hostile_json))
        elif isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        else:
            parent[last] = [parent[last], copy.deepcopy(parent[last])]
    return value


@st.composite
def tweaked_rows(draw, valid: list[list[str]], header, cell, columns: bool = True) -> list[list[str]]:
    """A valid table (header first) with one to three cells, rows or (with `columns`) columns made hostile."""
    rows = [list(row) for row in valid]
    for _ in range(draw(EDITS)):
        r = draw(st.integers(0, len(rows) - 1)) if rows else 0
        action = draw(st.sampled_from(["cell", "cell", "cell", "header", "drop cell", "add cell", "drop row",
                                       "duplicate row", "drop column" if columns else "cell"]))
        if not rows:
            rows.append([draw(cell)])
        elif action == "cell" and rows[r]:
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(cell)
        elif action == "header" and rows[0]:
            rows[0][draw(st.integers(0, len(rows[0]) - 1))] = draw(header)
        elif action == "drop cell" and rows[r]:
            del rows[r][draw(st.integers(0, len(rows[r]) - 1))]
        elif action == "add cell":
            rows[r].insert(draw(st.integers(0, len(rows[r]))), draw(cell))
        elif action == "drop row":
            del rows[r]
        elif action == "duplicate row":
            rows.insert(r, list(rows[r]))
        elif rows[0]:
            column = draw(st.integers(0, len(rows[0]) - 1))
            rows = [row[:column] + row[column + 1:] for row in rows]
    return rows


@st.composite
def written(draw, rows) -> bytes:
    """A table as a spreadsheet saves it: comma, semicolon or tab separated, quoted or not."""
    return csv_bytes(draw(rows), draw(st.sampled_from([",", ",", ",", ",", ";", "\t"])),
                     draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])))


def csv_bytes(rows: list[list[str]], delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def table_bytes(draw, header, cell) -> bytes:
    """A CSV file: a header and rows of cells, written by the csv module or joined by hand."""
    columns = draw(header)
    rows = draw(st.lists(st.lists(cell, min_size=max(0, len(columns) - 1), max_size=len(columns) + 1), max_size=5))
    if draw(st.booleans()):
        return csv_bytes([columns, *rows], draw(st.sampled_from([",", ",", ";", "\t"])),
                         draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])))
    return "\n".join(",".join(row) for row in [columns, *rows]).encode("utf-8", "surrogatepass")


def mostly(usual, *others):
    """`usual` about five times in six, else one of `others` (sampled_from alone does not weigh evenly)."""
    return st.one_of(*[st.just(usual)] * 5, st.sampled_from(others))


#: What argv brings: any text, and lone surrogates (Python's surrogateescape for bytes that are not UTF-8).
argv_text = st.sampled_from([*HOSTILE_TEXT, "\udcff", "Ley\udce9", "a" * 400]) | st.text(max_size=20)


# --- petitions -------------------------------------------------------------------------------------

DEMO_PETITIONS = (SAMPLE / "peticiones-demo.json").read_bytes()
PETITION_TITLES = [p["title"] for p in json.loads(DEMO_PETITIONS)["petitions"]]
PETITION_URLS = [p["url"] for p in json.loads(DEMO_PETITIONS)["petitions"]]
DATES = ["2016-03-01", "2016-04-15T10:00:00Z", "2016-05-10T08:00:00-06:00", "2016-06-01", "2016-03-01"]
REFERENCES = ["Art. 1", "Art. 1, A", "Art. 2", "Art. 3 Bis", "Art. 1, A, 3", "X", "Título Primero", "Art. 1; Art. 2",
              "Art. 99", "Capítulo I", "Art. 16, 3", "Art. 1-A", "Artículos 1 y 2"]


def plausible_or_hostile(plausible):
    return st.one_of(plausible, plausible, hostile_json)


count = st.integers(0, 60_000) | st.sampled_from([5_000, 10_000, 50_000, 1_000_000_000, 1_000_000_001])
count_entry = st.fixed_dictionaries(
    {"at": plausible_or_hostile(st.sampled_from(DATES)), "count": plausible_or_hostile(count)},
    optional={"note": hostile_json}) | hostile_json
petition = st.fixed_dictionaries({}, optional={
    "title": plausible_or_hostile(st.sampled_from(PETITION_TITLES) | st.text(min_size=1, max_size=40)),
    "petition": hostile_json,
    "petitioners": plausible_or_hostile(st.sampled_from(["Colectivo Ríos Vivos", ""]) | st.lists(hostile_text, max_size=3)),
    "petitioner": hostile_json,
    "url": plausible_or_hostile(st.sampled_from(PETITION_URLS)),
    "proposal": plausible_or_hostile(st.text(max_size=60)),
    "final_text_refs": plausible_or_hostile(st.sampled_from(REFERENCES)),
    "refs": hostile_json,
    "signatures": st.one_of(count, st.lists(count_entry, max_size=4), hostile_json),
    "counted_at": plausible_or_hostile(st.sampled_from(DATES)),
    "extra": hostile_json,
})
petitions_document = st.one_of(
    st.lists(petition | hostile_json, max_size=4),
    st.fixed_dictionaries({"petitions": st.lists(petition, max_size=4)}, optional={"_note": hostile_json}),
    hostile_json,
)
PETITION_COLUMNS = ["title", "petition", "título", "Petición", "petitioners", "peticionario", "signatures", "firmas",
                    "signature count", "proposal", "url", "link", "counted_at", "fecha", "final_text_refs", "refs",
                    "unknown", "", " title "]
petition_cell = st.sampled_from(PETITION_TITLES + PETITION_URLS + DATES + REFERENCES + ["12,345", "100"]) | hostile_text
petitions_csv = table_bytes(
    st.lists(st.sampled_from(PETITION_COLUMNS), min_size=1, max_size=6).map(
        lambda c: c if any(x.strip().lower() in ("title", "petition", "título", "petición") for x in c) and
        len(c) > 1 else ["title", "signatures", "counted_at", *c][:6]),
    petition_cell)


def petitions_table_from_demo() -> list[list[str]]:
    rows = [["title", "petitioners", "signatures", "counted_at", "url", "final_text_refs", "proposal"]]
    for item in json.loads(DEMO_PETITIONS)["petitions"]:
        for entry in item["signatures"]:
            rows.append([item["title"], item["petitioners"], f"{entry['count']:,}", entry["at"], item["url"],
                         item["final_text_refs"], item["proposal"]])
    return rows


DEMO_PETITIONS_TABLE = petitions_table_from_demo()
DEMO_PETITIONS_CSV = csv_bytes(DEMO_PETITIONS_TABLE)
PETITION_KEYS = ["title", "petition", "petitioners", "petitioner", "url", "proposal", "final_text_refs", "refs",
                 "signatures", "counted_at", "at", "count", "petitions"]
petitions_json_files = st.one_of(
    json_bytes(tweaked(json.loads(DEMO_PETITIONS), PETITION_KEYS)),
    json_bytes(tweaked(json.loads(DEMO_PETITIONS)["petitions"][:2], PETITION_KEYS)),
    json_bytes(petitions_document),
    mutated(DEMO_PETITIONS),
    json_bytes(tweaked(json.loads(DEMO_PETITIONS), PETITION_KEYS)).flatmap(mutated),
)
petitions_csv_files = st.one_of(
    written(tweaked_rows(DEMO_PETITIONS_TABLE, st.sampled_from(PETITION_COLUMNS) | hostile_text, petition_cell)),
    written(tweaked_rows(DEMO_PETITIONS_TABLE[:3], st.sampled_from(PETITION_COLUMNS) | hostile_text, petition_cell)),
    petitions_csv,
    mutated(DEMO_PETITIONS_CSV),
    petitions_csv.flatmap(mutated),
)


@pytest.fixture
def petitions_bench(bench):
    """The seeded instance with the demo petitions imported, so that files can also update them."""
    path = bench.write("demo.json", DEMO_PETITIONS)
    result = CliRunner().invoke(main, ["petitions", "import", path, "--document", PUBLISHED, "--at", "2016-06-01"],
                                env=bench.env)
    assert result.exit_code == 0, result.output
    bench.keep()
    return bench


petitions_options = st.fixed_dictionaries({}, optional={
    "--at": st.sampled_from(["2016-06-01", "2016-06-01T12:00:00Z", "2016-09-01"]) | argv_text,
    "--document": mostly(PUBLISHED, DRAFT, "no-such", "", "../x"),
})


def _options(options: dict[str, str]) -> list[str]:
    return [part for name, value in options.items() for part in (name, value)]


@FUZZ
@given(data=petitions_json_files, options=petitions_options)
def _fuzz_petitions_json(bench, data, options):
    path = bench.write("petitions.json", data)
    options.setdefault("--document", PUBLISHED)
    result = bench.run(["petitions", "import", path, *_options(options)], "petitions json")
    if result.exit_code == 0:
        assert result.stdout.startswith("petitions: "), result.stdout[:300]


@FUZZ
@given(data=petitions_csv_files, options=petitions_options,
       fmt=st.sampled_from([[], [], ["--format", "csv"], ["--format", "json"]]))
def _fuzz_petitions_csv(bench, data, options, fmt):
    path = bench.write("petitions.csv", data)
    options.setdefault("--document", PUBLISHED)
    result = bench.run(["petitions", "import", path, *_options(options), *fmt], "petitions csv")
    if result.exit_code == 0:
        assert result.stdout.startswith("petitions: "), result.stdout[:300]


def test_hostile_petitions_json_files_are_imported_or_refused_clearly_and_refusals_change_nothing(petitions_bench):
    """A platform's JSON export, broken or hostile, never crashes `petitions import`: it is read,
    or refused with a message naming what is wrong, and a refusal writes nothing (no petition, no
    count, no threshold event half-recorded)."""
    _fuzz_petitions_json(petitions_bench)
    assert petitions_bench.outcomes.get("petitions json: imported", 0) >= 3, SHALLOW


def test_hostile_petitions_csv_files_are_imported_or_refused_clearly_and_refusals_change_nothing(petitions_bench):
    """The same for spreadsheets saved as CSV: odd headers, delimiters, quoting, thousands
    separators, dates and encodings."""
    _fuzz_petitions_csv(petitions_bench)
    assert petitions_bench.outcomes.get("petitions csv: imported", 0) >= 3, SHALLOW


# --- surveys ---------------------------------------------------------------------------------------

QUESTIONS = ["¿En qué delegación?", "¿Cuáles son las tres primeras palabras?", "¿Qué otro reto tienes en mente?"]
SURVEY = {
    "title": "Encuesta de prueba",
    "questions": [{"text": QUESTIONS[0], "group": 1, "widget": "select", "coded": False},
                  {"text": QUESTIONS[1], "group": 8, "widget": "input"}, QUESTIONS[2]],
    "respondents": [
        {"id": "R1", "borough": "Xochimilco", "neighbourhood": "SAN LUCAS ORIENTE", "responded_at": "2016-03-15T10:00:00-06:00",
         "answers": {QUESTIONS[0]: "Xochimilco", "2": "agua, trajineras y canales", "3": "Que haya agua todos los días"}},
        {"id": "R2", "borough": "Iztapalapa", "neighbourhood": "SANTA CRUZ MEYEHUALCO", "responded_at": "2016-03-16",
         "answers": {"2": "Inseguridad, tráfico", "3": "Acabar con los asaltos"}},
    ],
}
SURVEY_JSON = json.dumps(SURVEY, ensure_ascii=False, indent=1).encode()
SURVEY_TABLE = [["respondent", "responded_at", "borough", "neighbourhood", *QUESTIONS],
                ["R1", "2016-03-15", "Xochimilco", "SAN LUCAS ORIENTE", "Xochimilco", "agua, canales", "agua"],
                ["R2", "2016-03-16T10:00:00Z", "Iztapalapa", "SANTA CRUZ", "", "seguridad", "asaltos"]]
SURVEY_CSV = csv_bytes(SURVEY_TABLE)
QUESTIONS_TABLE = [[QUESTIONS[0], "1", "select", "1", "1", "0"], [QUESTIONS[1], "8", "input", "0", "1", "0"],
                   [QUESTIONS[2], "9", "textarea", "0", "1", "0"]]
QUESTIONS_CSV = csv_bytes(QUESTIONS_TABLE)
SURVEY_KEYS = ["title", "questions", "respondents", "text", "group", "widget", "coded", "id", "borough", "neighbourhood",
               "responded_at", "answers", "1", "2", "3", "²", HUGE]
SURVEY_DATES = ["2016-03-15", "2016-03-15T10:00:00-06:00", "2016-04-20T18:30:00Z", "2016-04-20 18:30"]

question = st.one_of(
    st.fixed_dictionaries({"text": plausible_or_hostile(st.sampled_from(QUESTIONS))}, optional={
        "group": plausible_or_hostile(st.integers(0, 12)), "widget": plausible_or_hostile(st.sampled_from(
            ["select", "input", "textarea", "radio", "text", "checkbox", "slider", "TEXTAREA"])),
        "coded": plausible_or_hostile(st.booleans()), "extra": hostile_json}),
    st.sampled_from(QUESTIONS), hostile_json)
answer_key = st.sampled_from([*QUESTIONS, "1", "2", "3", " 2 ", "0", "4", "-1", "²", "٣", "１", HUGE, "02"]) | hostile_text
respondent = st.fixed_dictionaries({}, optional={
    "id": plausible_or_hostile(st.sampled_from(["R1", "R2", "R3", 7]) | st.integers()),
    "borough": plausible_or_hostile(st.sampled_from(["Xochimilco", "Iztapalapa"])),
    "neighbourhood": plausible_or_hostile(st.sampled_from(["SAN LUCAS ORIENTE", ""])),
    "responded_at": plausible_or_hostile(st.sampled_from(SURVEY_DATES)),
    "answers": st.dictionaries(answer_key, plausible_or_hostile(st.text(max_size=30)), max_size=4) | hostile_json,
    "extra": hostile_json,
}) | hostile_json
survey_document = st.fixed_dictionaries({}, optional={
    "title": plausible_or_hostile(st.sampled_from(["Encuesta 2016", "", "x" * 301])),
    "questions": st.lists(question, max_size=4) | hostile_json,
    "respondents": st.lists(respondent, max_size=4) | hostile_json,
    "extra": hostile_json,
}) | hostile_json
survey_cell = st.sampled_from([*SURVEY_DATES, "Xochimilco", "R1", "R2", "agua"]) | hostile_text
survey_csv = table_bytes(
    st.lists(st.sampled_from([*QUESTIONS, "respondent", "responded_at", "borough", "neighbourhood", "1", "²", "",
                              " borough ", "otra"]), max_size=4).map(
        lambda extra: ["respondent", "responded_at", "borough", "neighbourhood", *extra]),
    survey_cell)
question_cell = st.sampled_from(["1", "8", "9", "0", "select", "input", "textarea", "slider", "²", HUGE, "-1",
                                  "99999999999999999999"]) | hostile_text
questions_csv = table_bytes(st.lists(st.sampled_from(QUESTIONS) | hostile_text, min_size=1, max_size=1), question_cell)
survey_header = st.sampled_from([*QUESTIONS, "respondent", "responded_at", "borough", "neighbourhood", "1", "²", ""]) \
    | hostile_text
survey_json_files = st.one_of(
    json_bytes(tweaked(SURVEY, SURVEY_KEYS)), json_bytes(tweaked(SURVEY, SURVEY_KEYS)),
    json_bytes(survey_document), mutated(SURVEY_JSON), json_bytes(tweaked(SURVEY, SURVEY_KEYS)).flatmap(mutated))
survey_csv_files = st.one_of(
    written(tweaked_rows(SURVEY_TABLE, survey_header, survey_cell)),
    written(tweaked_rows(SURVEY_TABLE, survey_header, survey_cell)),
    survey_csv, mutated(SURVEY_CSV), written(tweaked_rows(SURVEY_TABLE, survey_header, survey_cell)).flatmap(mutated))
questions_files = st.one_of(
    st.none(), st.none(), st.none(), st.just(QUESTIONS_CSV), st.just(QUESTIONS_CSV),
    written(tweaked_rows(QUESTIONS_TABLE, st.sampled_from(QUESTIONS) | hostile_text, question_cell)),
    questions_csv, mutated(QUESTIONS_CSV))


@FUZZ
@given(data=survey_json_files,
       title=st.none() | argv_text, document=mostly(PUBLISHED, None, "no-such"))
def _fuzz_survey_json(bench, data, title, document):
    path = bench.write("survey.json", data)
    args = ["survey", "import", path] + (["--document", document] if document else [])
    result = bench.run(args + (["--title", title] if title is not None else []), "survey json")
    if result.exit_code == 0:
        assert result.stdout.startswith("imported survey "), result.stdout[:300]


@FUZZ
@given(data=survey_csv_files, questions=questions_files,
       fmt=st.sampled_from([[]] * 4 + [["--format", "csv"], ["--format", "json"]]))
def _fuzz_survey_csv(bench, data, questions, fmt):
    args = ["survey", "import", bench.write("survey.csv", data), "--document", PUBLISHED, *fmt]
    if questions is not None:
        args += ["--questions", bench.write("preguntas.csv", questions)]
    result = bench.run(args, "survey csv")
    if result.exit_code == 0:
        assert result.stdout.startswith("imported survey "), result.stdout[:300]


def test_hostile_survey_json_files_are_imported_or_refused_clearly_and_refusals_change_nothing(bench):
    """A survey in JSON, broken or hostile (answers keyed by "²" or by a 5,000-digit position,
    groups beyond 64 bits, dates in the year 9999), is loaded and coded, or refused with the list
    of what is wrong, and a refusal stores no survey, question, respondent or answer."""
    _fuzz_survey_json(bench)
    assert bench.outcomes.get("survey json: imported", 0) >= 3, SHALLOW


def test_hostile_survey_csv_files_and_questions_files_are_imported_or_refused_clearly(bench):
    """The same for a survey in CSV, alone or with the survey's own questions file (text, group,
    widget, flags), either of them broken."""
    _fuzz_survey_csv(bench)
    assert bench.outcomes.get("survey csv: imported", 0) >= 3, SHALLOW


# --- laws: plain text and Akoma Ntoso --------------------------------------------------------------

LAW_LINES = [
    "TÍTULO PRIMERO", "TÍTULO SEGUNDO", "TÍTULO ²", "CAPÍTULO I", "CAPÍTULO II", "CAPÍTULO MMMMMMMMMMMM", "Artículo 1",
    "Artículo 2", "Artículo 16 Bis", "Artículo 1o.", "Artículo 9999", "Artículo ²", "Artículo ٣", "Artículo 0",
    "Artículo 00", "Artículo 1. Toda persona tiene derecho al agua.", "ARTÍCULO ÚNICO", "De los derechos", "Agua",
    "A. Medio Ambiente", "B. Otro", "Z. Último", "1. Toda persona tiene derecho al agua.", "2. Y a moverse.",
    "999. Tarde", "I. Primera fracción;", "II. Segunda;", "MMMCMXCIX. Enorme;", "a) un inciso;", "b) otro;", "z) último",
    "PART 1", "Section 1", "Section 1. Short title", "(1) A subsection.", "(a) a paragraph;", "(i) a sub-paragraph;",
    "TRANSITORIOS", "PRIMERO.- Entrará en vigor.", "(REFORMADO, G.O. 24 DE MARZO DE 2023)", "", "", "   ",
]
law_line = st.sampled_from(LAW_LINES) | hostile_text
LAW_TITLES = ["Constitución Política de la Ciudad de Prueba", "Ley de Aguas", "Budget Act 2017"]


@st.composite
def law_text(draw) -> bytes:
    title = draw(st.sampled_from(LAW_TITLES) | hostile_text)
    lines = [title, "", *draw(st.lists(law_line, max_size=30))]
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines).encode("utf-8", "surrogatepass")


LAW = ("Ley de prueba\n\nTÍTULO PRIMERO\nDe los derechos\n\nCAPÍTULO I\nCiudad habitable\n\nArtículo 1\nDerecho al agua\n"
       "A. Acceso\n1. Toda persona tiene derecho al agua.\n2. El servicio no podrá suspenderse.\nI. Primero;\n"
       "a) un inciso;\nArtículo 2\nMovilidad\nToda persona tiene derecho a moverse.\n").encode()

LAW_TABLE = [[line] for line in LAW.decode().splitlines()]
tweaked_law = tweaked_rows(LAW_TABLE, law_line, law_line, columns=False).map(
    lambda rows: "\n".join(" ".join(row) for row in rows).encode("utf-8", "surrogatepass"))
law_files = st.one_of(tweaked_law, tweaked_law, law_text(), mutated(LAW), tweaked_law.flatmap(mutated))

import_options = st.fixed_dictionaries({}, optional={
    "--slug": st.sampled_from(["ley-fuzz", PUBLISHED, "Ley", "-", "a" * 300, "ley\u202e", "../x", "ley_2"]) | argv_text,
    "--title": argv_text,
    "--type": st.sampled_from(["act", "bill"]),
})


@FUZZ
@given(data=law_files, options=import_options, publish=st.booleans())
def _fuzz_text(bench, data, options, publish):
    path = bench.write("ley.txt", data)
    result = bench.run(["import", path, *_options(options), *(["--publish"] if publish else [])], "law text")
    if result.exit_code == 0:
        assert result.stdout.startswith("imported "), result.stdout[:300]


def test_hostile_plain_text_laws_are_imported_or_refused_clearly_and_refusals_create_nothing(bench):
    """The plain text of a law, broken (not UTF-8, UTF-16, stray bytes) or hostile (numbers of
    5,000 digits, "Artículo ²", control characters), with hostile --slug and --title: imported as a
    document, or refused with a message, and a refusal leaves no document, text or unit name."""
    _fuzz_text(bench)
    assert bench.outcomes.get("law text: imported", 0) >= 3, SHALLOW


AKN_ELEMENTS = ["title", "chapter", "part", "book", "division", "subtitle", "article", "section", "rule", "paragraph",
                "subparagraph", "point", "indent", "list", "blockList", "item", "listIntroduction", "hcontainer",
                "content", "intro", "wrapUp", "p", "num", "heading", "subheading", "table", "tr", "td", "span", "b",
                "authorialNote", "eol", "br", "noteRef", "crossHeading", "componentRef", "level", "clause", "tblock",
                "unknownThing", "akomaNtoso", "meta", "body"]
AKN_ATTRIBUTES = ["eId", "wId", "GUID", "name", "pin", "class", "refersTo", "value", "date", "language", "href",
                  "contains", "source"]
#: Text that XML 1.0 can hold (no control characters but tab and line ends, no U+FFFE or U+FFFF).
xml_text = st.sampled_from([t for t in HOSTILE_TEXT if not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", t)]) \
    | st.sampled_from(["Artículo 1", "(a)", "§ 3.", "1º", "16 Bis", "ÚNICO", "Agua", "Toda persona tiene derecho."])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@st.composite
def akn_element(draw, depth: int = 0) -> str:
    name = draw(st.sampled_from(AKN_ELEMENTS))
    attributes = draw(st.dictionaries(st.sampled_from(AKN_ATTRIBUTES), xml_text, max_size=2))
    inner = []
    for _ in range(draw(st.integers(0, 3 if depth < 4 else 0))):
        inner.append(draw(akn_element(depth + 1)) if draw(st.booleans()) else _escape(draw(xml_text)))
    attrs = "".join(f' {k}="{_escape(v)}"' for k, v in attributes.items())
    return f"<{name}{attrs}>{''.join(inner)}</{name}>"


def akn_meta(uri: str, language: str, alias: str | None, parts: set[str]) -> str:
    work = (f'<FRBRthis value="{uri}/main"/><FRBRuri value="{uri}"/>'
            + (f'<FRBRalias value="{_escape(alias)}" name="short"/>' if alias is not None else "")
            + '<FRBRdate date="2016-09-15" name="Generation"/><FRBRauthor href="#asamblea"/><FRBRcountry value="mx"/>')
    expression = (f'<FRBRthis value="{uri}/spa@/main"/><FRBRuri value="{uri}/spa@"/><FRBRdate date="2016-09-15" '
                  f'name="Generation"/><FRBRauthor href="#asamblea"/><FRBRlanguage language="{_escape(language)}"/>')
    manifestation = (f'<FRBRthis value="{uri}/spa@/main.xml"/><FRBRuri value="{uri}/spa@.akn"/><FRBRdate '
                     'date="2016-09-15" name="Generation"/><FRBRauthor href="#asamblea"/>')
    sections = {"work": f"<FRBRWork>{work}</FRBRWork>", "expression": f"<FRBRExpression>{expression}</FRBRExpression>",
                "manifestation": f"<FRBRManifestation>{manifestation}</FRBRManifestation>"}
    inside = "".join(sections[p] for p in ("work", "expression", "manifestation") if p in parts)
    return f'<meta><identification source="#asamblea">{inside}</identification></meta>' if "meta" in parts else ""


AKN_BODY = ('<article eId="art_1"><num>Artículo 1</num><heading>Agua</heading><paragraph eId="art_1__para_1"><num>1.'
            '</num><content><p>Toda persona tiene derecho al agua.</p></content></paragraph></article>'
            '<article eId="art_2"><num>Artículo 2</num><heading>Movilidad</heading><content><p>Toda persona tiene '
            'derecho a moverse.</p></content></article>')


@st.composite
def akn_file(draw) -> bytes:
    namespace = draw(st.sampled_from([AKN_NS, AKN_NS, AKN2_NS, AKN2_NS, AKN_NS + "/WD17", "", "urn:other"]))
    doctype = draw(st.sampled_from(["act", "act", "bill", "doc", "debate", "amendment", "documentCollection", "portion"]))
    uri = draw(st.sampled_from(["/akn/mx-cmx/act/2016-09-15/1", "/akn/mx/bill/2016-99-99/x", "", "/akn/../../etc",
                                "/akn/mx-cmx/act/2016-09-15/" + "9" * 3000, "not a uri"]) | xml_text)
    language = draw(st.sampled_from(["spa", "eng", "ita", "es", "", "x" * 300]) | xml_text)
    alias = draw(st.none() | xml_text)
    parts = draw(st.sets(st.sampled_from(["meta", "work", "expression", "manifestation"])) | st.just(
        {"meta", "work", "expression", "manifestation"}))
    body = AKN_BODY if draw(st.booleans()) else ""
    body += "".join(draw(st.lists(akn_element(), max_size=4)))
    if draw(st.integers(0, 9)) == 0:
        body += "<article>" + "<paragraph>" * 70 + "x" + "</paragraph>" * 70 + "</article>"
    inner = f"{akn_meta(uri, language, alias, parts)}<body>{body}</body>"
    if doctype == "documentCollection":
        inner = (f"{akn_meta(uri, language, alias, parts)}<collectionBody><component><act name='a'>{inner}</act>"
                 "</component></collectionBody>")
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    prolog = draw(st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.1"?>',
                                   '<?xml version="1.0" encoding="ISO-8859-1"?>', "<!-- a comment -->\n",
                                   '<?xml-stylesheet href="x.xsl"?>']))
    text = f'{prolog}<akomaNtoso{xmlns}><{doctype} name="{doctype}">{inner}</{doctype}></akomaNtoso>'
    return text.encode("utf-8")


@st.composite
def tweaked_xml(draw, valid: bytes) -> bytes:
    """A valid Akoma Ntoso file with one to three elements renamed, given hostile attributes or
    text, removed, duplicated, given an unknown child, or nested 70 levels deeper."""
    root = etree.fromstring(valid)
    namespace = etree.QName(root).namespace
    for _ in range(draw(EDITS)):
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        # An index, not sampled_from(elements): hypothesis labels a sampled_from by its values' reprs,
        # and an element's repr holds its address, which would make the runs differ.
        element = elements[draw(st.integers(0, len(elements) - 1))]
        parent = element.getparent()
        action = draw(st.sampled_from(["rename", "attribute", "attribute", "drop attribute", "text", "text", "remove",
                                       "duplicate", "insert", "nest"]))
        if action == "rename":
            element.tag = etree.QName(namespace, draw(st.sampled_from(AKN_ELEMENTS))).text
        elif action == "attribute":
            element.set(draw(st.sampled_from(AKN_ATTRIBUTES)), draw(xml_text))
        elif action == "drop attribute" and element.attrib:
            del element.attrib[draw(st.sampled_from(sorted(element.attrib)))]
        elif action == "text":
            element.text = draw(xml_text)
        elif action == "remove" and parent is not None:
            parent.remove(element)
        elif action == "duplicate" and parent is not None:
            parent.insert(parent.index(element), copy.deepcopy(element))
        elif action == "insert":
            child = etree.fromstring(f'<wrapper xmlns="{namespace}">{draw(akn_element())}</wrapper>')[0]
            element.insert(draw(st.integers(0, len(element))), child)
        elif action == "nest":
            inner = element
            for _ in range(70):
                inner = etree.SubElement(inner, etree.QName(namespace, "paragraph").text)
    return etree.tostring(root, xml_declaration=draw(st.booleans()), encoding="UTF-8")


def test_hostile_akoma_ntoso_files_are_imported_or_refused_clearly_and_refusals_create_nothing(bench):
    """Akoma Ntoso files with unknown elements and attributes, missing or wrong FRBR metadata,
    hostile numbers, headings and GUIDs, nesting deeper than the limit, in the validated 3.0
    namespace and in those read without a schema (2.0, drafts of 3.0): imported, or refused with
    a message, and a refusal leaves nothing behind. Mutations start from generated files and from
    a document's own export (valid 3.0, and the same in the 2.0 and a draft namespace)."""
    exported = CliRunner().invoke(main, ["export", PUBLISHED], env=bench.env)
    assert exported.exit_code == 0, exported.output
    bench.keep()  # exporting records the names of the units it wrote
    # The export's dates (today) and the title's GUID (new in each seeded instance) made fixed, so
    # that the files derived from it are the same in every run.
    guids = iter(range(1, 1000))
    valid = re.sub(rb"\d{4}-\d{2}-\d{2}", b"2016-09-15", exported.stdout_bytes)
    valid = re.sub(rb'GUID="[^"]*"', lambda _m: b'GUID="00000000-0000-4000-8000-%012d"' % next(guids), valid)
    older = valid.replace(AKN_NS.encode(), AKN2_NS.encode())  # 2.0 and drafts of 3.0 are read without a schema
    draft = valid.replace(AKN_NS.encode(), AKN_NS.encode() + b"/WD17")
    files = st.one_of(tweaked_xml(valid), tweaked_xml(older), tweaked_xml(older), tweaked_xml(draft), akn_file(),
                      mutated(valid), mutated(older), tweaked_xml(older).flatmap(mutated))

    @FUZZ
    @given(data=files, options=import_options,
           fmt=st.sampled_from([[], ["--format", "akn"]]))
    def fuzz(data, options, fmt):
        path = bench.write("ley.xml", data)
        result = bench.run(["import", path, *_options(options), *fmt], "akn")
        if result.exit_code == 0:
            assert result.stdout.startswith("imported "), result.stdout[:300]

    fuzz()
    assert bench.outcomes.get("akn: imported", 0) >= 3, SHALLOW


# --- XML that must be refused before it is parsed ---------------------------------------------------

_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
           + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(3, 10)) + "]>")
_AKN_WITH = '<akomaNtoso xmlns="{ns}"><act name="act"><body><article><num>1</num><content><p>{text}</p></content>' \
            "</article></body></act></akomaNtoso>"
ENTITY_ATTACKS = {
    "billion-laughs": _LAUGHS + _AKN_WITH.format(ns=AKN2_NS, text="&lol9;"),
    "external-file": '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _AKN_WITH.format(ns=AKN2_NS, text="&x;"),
    "external-url": '<!DOCTYPE a [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>' + _AKN_WITH.format(ns=AKN_NS, text="&x;"),
    "parameter-entity": '<!DOCTYPE a [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
                        + _AKN_WITH.format(ns=AKN2_NS, text="x"),
    "doctype-only": '<!DOCTYPE akomaNtoso SYSTEM "akomantoso30.dtd">' + _AKN_WITH.format(ns=AKN_NS, text="x"),
    "doctype-after-comment-and-pi": '<?xml version="1.0"?><!-- hi --><?pi x?>\n<!DOCTYPE a [<!ENTITY x "y">]>'
                                    + _AKN_WITH.format(ns=AKN2_NS, text="&x;"),
    "doctype-after-bom": "\ufeff<!doctype a [<!ENTITY x 'y'>]>" + _AKN_WITH.format(ns=AKN2_NS, text="&x;"),
}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("name", list(ENTITY_ATTACKS))
def test_document_types_and_entity_bombs_are_refused_before_anything_is_parsed(bench, name, encoding):
    """A DOCTYPE is where entity expansion ("billion laughs") and external entities (a file of
    the server, a request to the network) live: every such file, in UTF-8 or UTF-16, is refused
    with a message saying so, quickly, and nothing of what an entity would fetch gets in."""
    text = ENTITY_ATTACKS[name] if encoding == "utf-8" else ENTITY_ATTACKS[name].lstrip("\ufeff")  # UTF-16 adds a BOM
    path = bench.write("attack.xml", text.encode(encoding))
    started = time.monotonic()
    result = bench.run(["import", path, "--slug", "ataque"], "entity attacks")
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert "document type" in result.stderr and "refused" in result.stderr, result.stderr


def test_xinclude_is_not_followed(bench):
    """XInclude is not processed: an <xi:include> of a file of the server brings nothing of it in."""
    text = ('<akomaNtoso xmlns="%s" xmlns:xi="http://www.w3.org/2001/XInclude"><act name="act"><meta/><body><article>'
            '<num>1</num><heading>Uno</heading><content><p>Texto <xi:include href="/etc/passwd" parse="text"/></p>'
            "</content></article></body></act></akomaNtoso>") % AKN2_NS
    path = bench.write("xinclude.xml", text.encode())
    result = CliRunner().invoke(main, ["import", path, "--slug", "xinclude", "--title", "X"], env=bench.env)
    assert result.exit_code == 0, result.output
    exported = CliRunner().invoke(main, ["export", "xinclude", "--format", "text"], env=bench.env)
    assert exported.exit_code == 0 and "Texto" in exported.stdout and "root:" not in exported.stdout


# --- mutations of the real files (../shared/data) ---------------------------------------------------

REAL = {
    "petitions": SHARED_DATA / "cdmx" / "petitions-2016.csv",
    "questions": SHARED_DATA / "cdmx" / "survey-2016" / "preguntas.csv",
    "law": SHARED_DATA / "cdmx" / "constitucion-politica-cdmx.txt",
    "akn": SHARED_DATA / "akn" / "uk_asp-2017-1-enacted-data.akn.xml",
    "akn2": SHARED_DATA / "akn" / "uy_bill_2010-09-27.xml",
}


def test_mutations_of_the_real_files_are_imported_or_refused_clearly(bench):
    """The real inputs of the case (the 2016 petitions, the survey's questions file, Mexico City's
    constitution as plain text) and real Akoma Ntoso files, mutated and tweaked: imported or
    refused with a message, never a traceback, and a refusal changes nothing."""
    for path in REAL.values():
        require(path.exists(), f"the shared real data is not at {path}")
    base = {kind: path.read_bytes() for kind, path in REAL.items()}
    base["law"] = base["law"][:60_000]  # the decree and the first titles: a truncated law is a mutation too
    questions = [row for row in csv.reader(io.StringIO(base["questions"].decode())) if row]
    free_text = [row[0] for row in questions if row[2] in ("textarea", "input")][:2]
    survey = csv_bytes([["respondent", "responded_at", "borough", "neighbourhood", *free_text],
                        ["R1", "2016-03-15", "Xochimilco", "SAN LUCAS ORIENTE", "agua", "seguridad"]])
    commands = {
        "petitions": lambda path: ["petitions", "import", path, "--document", PUBLISHED, "--at", "2016-09-01"],
        "questions": lambda path: ["survey", "import", bench.write("survey.csv", survey), "--document", PUBLISHED,
                                   "--questions", path],
        "law": lambda path: ["import", path],
        "akn": lambda path: ["import", path],
        "akn2": lambda path: ["import", path],
    }
    tables_of = {"petitions": [row for row in csv.reader(io.StringIO(base["petitions"].decode()))],
                 "questions": questions}
    files = {
        "petitions": mutated(base["petitions"]) | written(tweaked_rows(tables_of["petitions"], st.sampled_from(
            PETITION_COLUMNS) | hostile_text, petition_cell)),
        "questions": mutated(base["questions"]) | written(tweaked_rows(questions, hostile_text, question_cell)),
        "law": mutated(base["law"]),
        "akn": mutated(base["akn"]) | tweaked_xml(base["akn"]),
        "akn2": mutated(base["akn2"]) | tweaked_xml(base["akn2"]),
    }

    @settings(FUZZ, max_examples=max(EXAMPLES // 2, 10))
    @given(kind=st.sampled_from(sorted(files)), data=st.data())
    def fuzz(kind, data):
        suffix = ".xml" if kind.startswith("akn") else ".txt" if kind == "law" else ".csv"
        path = bench.write(f"real-{kind}{suffix}", data.draw(files[kind]))
        bench.run(commands[kind](path), f"real {kind}")

    fuzz()
    assert sum(n for key, n in bench.outcomes.items() if key.endswith(": imported")) >= 3


# --- each command closes what it opened -------------------------------------------------------------


def test_each_import_closes_the_database_connections_it_opened(bench):
    """`constituent import` never closed its database engine (four file descriptors per run) and
    `survey import` with an unknown --document left its whole application open: harmless for one
    command in its own process, a leak for a script or a test that runs them by the hundred."""
    law, survey = bench.write("ley.txt", LAW), bench.write("encuesta.json", SURVEY_JSON)
    CliRunner().invoke(main, ["import", law, "--slug", "primera"], env=bench.env)  # imports what a run loads once
    bench.restore()
    before = open_files()
    for n in range(10):
        assert bench.run(["import", law, "--slug", f"ley-{n}"], "closing").exit_code == 0
        assert bench.run(["import", law, "--slug", PUBLISHED], "closing").exit_code == 1
        assert bench.run(["survey", "import", survey, "--document", "no-such"], "closing").exit_code == 1
        assert bench.run(["petitions", "import", survey, "--document", "no-such"], "closing").exit_code == 1
    assert open_files() <= before + 2


# --- inputs that broke the importers once: each gets a clear refusal, and changes nothing -----------

_SURVEY_WITH = lambda **changes: json.dumps({**SURVEY, **changes}).encode()  # noqa: E731 - a table of inputs below
_ANSWERS = lambda answers: _SURVEY_WITH(respondents=[{**SURVEY["respondents"][0], "answers": answers}])  # noqa: E731
_IMPORT_SURVEY_CSV = ["survey", "import", "{survey.csv}", "--document", PUBLISHED]
_IMPORT_SURVEY_JSON = ["survey", "import", "{file}", "--document", PUBLISHED]

REGRESSIONS = [
    # editor/interchange.py (fixed): a --title holding a byte that is not UTF-8 reaches Python as a lone
    # surrogate ("\udce9"); pycrdt panicked on it (PanicException, a BaseException) inside create_document.
    ("title-not-utf8", ["import", "{law}", "--title", "Ley\udce9"], None, "the title is not valid text: \\udce9"),
    # editor/survey/service.py (fixed): the same for a survey's --title: UnicodeEncodeError from SQLite.
    ("survey-title-not-utf8", [*_IMPORT_SURVEY_JSON, "--title", "Encuesta\udcff"], SURVEY_JSON,
     "the title is not valid text: \\udcff"),
    # editor/survey/service.py (fixed): the questions file was read without catching csv.Error.
    ("questions-field-beyond-the-csv-limit", [*_IMPORT_SURVEY_CSV, "--questions", "{file}"],
     b'"' + b"a" * 140_000 + b'",1,textarea\n', "the questions file cannot be read as CSV near line 1"),
    # editor/survey/service.py (fixed): "²" passes str.isdigit() but not int(); 5,000 digits neither;
    # numbers beyond 32 bits do not fit the column (OverflowError beyond 64 bits on SQLite).
    ("questions-group-superscript", [*_IMPORT_SURVEY_CSV, "--questions", "{file}"], "¿Agua?,²,textarea\n".encode(),
     "questions line 1, column 2 (group): '²' is not a group number (0 to 9,999)"),
    ("questions-group-5000-digits", [*_IMPORT_SURVEY_CSV, "--questions", "{file}"], f"¿Agua?,{HUGE},input".encode(),
     "column 2 (group): '99999"),
    ("questions-group-beyond-64-bits", [*_IMPORT_SURVEY_CSV, "--questions", "{file}"],
     csv_bytes([[QUESTIONS[0], str(2**70), "select"], *QUESTIONS_TABLE[1:]]), "is not a group number"),
    ("json-group-beyond-64-bits", _IMPORT_SURVEY_JSON,
     _SURVEY_WITH(questions=[{"text": QUESTIONS[0], "group": 2**70}, QUESTIONS[1], QUESTIONS[2]]),
     "question 1, group: 1180591620717411303424 is not a group number"),
    ("json-group-of-long-text", _IMPORT_SURVEY_JSON,
     _SURVEY_WITH(questions=[{"text": QUESTIONS[0], "group": LONG}, QUESTIONS[1], QUESTIONS[2]]),
     "question 1, group: 'agua agua"),
    ("answer-key-superscript", _IMPORT_SURVEY_JSON, _ANSWERS({"²": "agua"}), "answers: '²' is not one of the 3 questions"),
    ("answer-key-5000-digits", _IMPORT_SURVEY_JSON, _ANSWERS({HUGE: "agua"}), "answers: '999"),
    ("csv-question-column-superscript", ["survey", "import", "{file}", "--document", PUBLISHED, "--questions",
                                         "{questions.csv}"],
     csv_bytes([["respondent", "responded_at", "borough", "neighbourhood", "²"], ["R1", "2016-03-15", "a", "b", "x"]]),
     "not one of the 3 questions: column 5 ('²')"),
    # Messages that pasted a whole hostile value back (now cut to about 60 characters).
    ("petition-count-of-5000-digits", ["petitions", "import", "{file}", "--document", PUBLISHED],
     json.dumps([{"title": "Agua", "signatures": [{"at": "2016-03-01", "count": [HUGE]}]}]).encode(),
     "petition 1, signatures[1], count: ['9999"),
    ("petition-title-column-missing-long-header", ["petitions", "import", "{file}", "--document", PUBLISHED,
                                                   "--format", "csv"],
     ("nombre," + "x" * 5000 + "\nAgua,1\n").encode(), "line 1: no title column"),
    ("survey-date-of-600-characters", ["survey", "import", "{file}", "--document", PUBLISHED],
     csv_bytes([SURVEY_TABLE[0], ["R1", "https://" + "a" * 600, "a", "b", "x", "y", "z"]]), "is not a date"),
    ("survey-long-repeated-column", ["survey", "import", "{file}", "--document", PUBLISHED, "--format", "csv"],
     csv_bytes([["respondent", "responded_at", "borough", "neighbourhood", "q" * 5000, "q" * 5000]]),
     "the header row repeats the column(s) 'qqqq"),
    # akoma_ntoso/akn.py (fixed): the schema's message named every element with its namespace (790 characters).
    ("akn-schema-message-without-namespaces", ["import", "{file}"], f'<akomaNtoso xmlns="{AKN_NS}"/>'.encode(),
     "Element 'akomaNtoso': Missing child element(s). Expected is one of ( amendmentList, officialGazette"),
]


@pytest.mark.parametrize("args,data,message", [r[1:] for r in REGRESSIONS], ids=[r[0] for r in REGRESSIONS])
def test_inputs_that_broke_the_importers_get_a_clear_refusal(bench, args, data, message):
    helpers = {"{law}": ("ley.txt", LAW), "{survey.csv}": ("encuesta.csv", SURVEY_CSV),
               "{questions.csv}": ("preguntas.csv", QUESTIONS_CSV), "{file}": ("entrada.json", data)}
    if data is not None and args[0] == "import":
        helpers["{file}"] = ("entrada.xml", data)
    elif data is not None and b"," in data[:200] and not data.lstrip().startswith((b"[", b"{")):
        helpers["{file}"] = ("entrada.csv", data)
    argv = [bench.write(*helpers[a]) if a in helpers else a for a in args]
    result = bench.run(argv, "regressions")  # no traceback, a short "Error: ..." and nothing changed
    assert result.exit_code == 1, result.output[:600]
    assert message in result.stderr, result.stderr[:600]


def test_a_petition_title_cannot_drive_the_terminal_that_prints_the_import_report(bench):
    """Petition titles come from outside platforms: an escape sequence in one (clear the screen,
    then a fake line of output) is printed as its escape, not obeyed by the terminal."""
    hostile = "Agua\x1b[2J\x1b[H\rpetitions: 0 new\u202e"
    path = bench.write("hostile.csv", f"title,signatures,final_text_refs\n\"{hostile}\",12000,X\n".encode())
    result = bench.run(["petitions", "import", path, "--document", PUBLISHED, "--at", "2016-06-01"], "terminal")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\r" not in result.output and "\u202e" not in result.output
    assert "Agua\\x1b[2J\\x1b[H\\rpetitions: 0 new\\u202e" in result.output  # shown, harmlessly
