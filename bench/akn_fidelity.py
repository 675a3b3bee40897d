"""Figures for issue 19: what real Akoma Ntoso acts and bills keep through Constituent.

For every file in ../shared/data/akn: import it, export it again (its own FRBR identity), validate
the export against the strict OASIS schema, and import the export once more. Reported per file:

* words kept: the source's words (body, and body with its schedules/attachments), as a multiset,
  found in the export's body and attachments (numbers and headings included);
* hierarchy: how many hierarchical elements (parts, chapters, sections, subsections…, any tag the
  AKN schema counts as hierarchy) the source and the export hold, and whether the re-import gives
  the same units as the first import;
* import and export time of the full Mexico City constitution, transitory articles included
  (in process, median of --runs).

No server: the conversions are pure functions. Baseline: the source file itself.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from akn_cdmx import timed  # noqa: E402  (bench/ is the script's folder)

from akoma_ntoso import AkomaNtosoError, iter_units  # noqa: E402
from akoma_ntoso.akn import Expression, Work, export_akn, import_akn, to_bytes, validate  # noqa: E402
from akoma_ntoso.text_import import import_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
HIERARCHY = {"part", "subpart", "division", "subdivision", "title", "subtitle", "chapter", "subchapter", "section",
             "subsection", "article", "paragraph", "subparagraph", "clause", "subclause", "point", "indent",
             "book", "tome", "rule", "subrule", "proviso", "alinea", "level", "transitional", "hcontainer",
             "attachment", "crossHeading"}


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _words(elements) -> collections.Counter[str]:
    words: collections.Counter[str] = collections.Counter()
    for element in elements:
        words.update(re.findall(r"\w+", " ".join(element.itertext()).lower()))
    return words


def _parts(root: etree._Element, names: tuple[str, ...]) -> list[etree._Element]:
    """The first document's elements named `names` (a documentCollection's first component)."""
    found = [e for e in root.iter() if _local(e) in names]
    return [e for e in found if not any(_local(a) in names for a in e.iterancestors())]


def _hierarchy(elements) -> int:
    """Hierarchical elements (a quoted amendment's own structure is text of the unit quoting it)."""
    return sum(1 for element in elements for e in element.iter() if _local(e) in HIERARCHY
               and not any(_local(a) in ("quotedStructure", "mod") for a in e.iterancestors()))


def _outline(units):
    return [(u.kind, u.label, u.heading, u.text) for u in iter_units(units)]


def fidelity(path: Path) -> dict:
    data = path.read_bytes()
    row: dict = {"file": path.name}
    try:
        first = import_akn(data)
    except AkomaNtosoError as exc:
        row["refused"] = str(exc)[:120]
        return row
    source = etree.fromstring(data)
    body = _parts(source, ("body", "mainBody"))[:1]
    schedules = _parts(source, ("attachments",))[:1]
    work = first.work or Work(place="xx", doctype=first.doctype, date="2000-01-01", number="1", title=path.stem)
    expression = Expression(language=first.built.meta.get("language", "eng"), date=work.date)
    exported = export_akn(first.built.units, work, expression, wids=first.built.source_eids)
    errors = validate(exported)
    out_body = _parts(exported, ("body", "mainBody"))[:1]
    out_all = out_body + _parts(exported, ("attachments",))[:1]
    got = _words(out_all)
    for name, elements in (("body", body), ("body+schedules", body + schedules)):
        want = _words(elements)
        total = sum(want.values())
        row[f"words {name}"] = total
        row[f"kept {name} %"] = round(100 * sum((want & got).values()) / total, 1) if total else None
    row["hierarchy source"] = _hierarchy(body + schedules)
    row["hierarchy export"] = _hierarchy(out_all)
    row["valid"] = not errors
    again = import_akn(to_bytes(exported))
    row["re-import identical"] = _outline(again.built.units) == _outline(first.built.units)
    row["findings"] = len(first.built.findings)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (SHARED / "akn").is_dir():
        print(f"the Akoma Ntoso samples are not at {SHARED / 'akn'}", file=sys.stderr)
        return 2
    rows = [fidelity(path) for path in sorted((SHARED / "akn").glob("*.xml"))]
    cdmx = (SHARED / "cdmx" / "constitucion-politica-cdmx.txt").read_text(encoding="utf-8")
    built, t_import, _ = timed(args.runs, lambda: import_text(cdmx))
    work = Work(place="mx-cmx", doctype="act", date="2017-02-05", number="constitucion", title="Constitución")
    root, t_export, _ = timed(args.runs, lambda: export_akn(built.units, work, Expression(language="spa", date="2023-03-24")))
    transitory = sum(1 for u in iter_units(built.units) if u.eid.startswith("transitional_") and u.kind == "article")

    print(f"{'file':42} {'body words':>10} {'kept':>7} {'+sched.':>8} {'kept':>7} {'hier. src':>9} {'export':>7} "
          f"{'valid':>6} {'re-import':>9}")
    for row in rows:
        if "refused" in row:
            print(f"{row['file']:42} refused: {row['refused']}")
            continue
        print(f"{row['file']:42} {row['words body']:>10} {row['kept body %']:>6}% {row['words body+schedules']:>8} "
              f"{row['kept body+schedules %']:>6}% {row['hierarchy source']:>9} {row['hierarchy export']:>7} "
              f"{'yes' if row['valid'] else 'NO':>6} {'same' if row['re-import identical'] else 'differs':>9}")
    print(f"\nMexico City constitution ({transitory} transitory articles): import_text {t_import * 1000:.0f} ms, "
          f"export_akn {t_export * 1000:.0f} ms (median of {args.runs}; target < 1 s each)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "akn_fidelity.json").write_text(json.dumps(
        {"files": rows, "cdmx": {"import_s": t_import, "export_s": t_export, "transitory": transitory}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
