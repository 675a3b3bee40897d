"""Figures for issue 5: freezing a version of the full Mexico City constitution, and diffing two
versions of it.

Setup (not timed): a temporary instance with the constitution imported from the shared data.
Timed, `--runs` times after one warm-up (medians and bests):

* freeze: `stages.versions.freeze`: the cut of the CRDT state in the room, numbering, the AKN
  export with its schema validation, and the row written (each run adds a version);
* diff: `stages.diff.compare` of two versions' unit trees that differ by 50 scattered word
  edits (the edits made on the live text between the two freezes), and the same diff with the
  JSON snapshot parsing included (what the compare page does);
* baselines in the same run: `read_live` (reading and numbering the live text) and the AKN
  export's schema validation alone, the two parts of a freeze that exist without versions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("CONSTITUENT_SHARED_DATA") or ROOT.parent / "shared" / "data")
RESULTS = ROOT / "bench" / "results"


def timed(runs: int, fn):
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, min(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    text = SHARED / "cdmx" / "constitucion-politica-cdmx.txt"
    if not text.exists():
        print(f"the Mexico City constitution is not under {SHARED}", file=sys.stderr)
        return 2

    from lxml import etree
    from pycrdt import XmlElement, XmlFragment, XmlText

    from akoma_ntoso import iter_units
    from akoma_ntoso.akn import validate
    from editor import create_app
    from editor.documents import get_document
    from editor.interchange import import_document
    from editor.livetext import read_live
    from editor.stages.diff import compare
    from editor.stages.versions import freeze, get_version, version_text

    instance = Path(tempfile.mkdtemp(prefix="constituent-bench-"))
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"})
    services = app.extensions["constituent"]
    with app.app_context():
        db = services.db
        import_document(services, text.read_bytes(), "text", slug="cdmx", title=None, doctype="act", published=True)
        document = get_document(db, "cdmx")
        units = read_live(services, "cdmx").units
        count = sum(1 for _ in iter_units(units))
        first = freeze(services, document, None, name="before")

        # 50 scattered word edits on the live text, as a server-side transaction.
        rng = random.Random(5)
        chosen = {u.guid for u in rng.sample([u for u in iter_units(units) if len(u.text) > 40], 50)}

        def edit(doc):
            def walk(node):
                for child in node.children:
                    if isinstance(child, XmlElement):
                        if child.attributes.get("guid") in chosen:
                            p = next(c for c in child.children if isinstance(c, XmlElement) and c.tag == "p")
                            t = next(c for c in p.children if isinstance(c, XmlText))
                            t.insert(len(str(t)), " (reformado)")
                        walk(child)

            with doc.transaction():
                walk(doc.get("body", type=XmlFragment))

        services.rooms.call("cdmx", edit)
        second = freeze(services, document, None, name="after")
        old, new = version_text(get_version(db, document, first.number)), version_text(get_version(db, document, second.number))
        changed = compare(old.units, new.units).counts()["changed"]

        freezing = timed(args.runs, lambda: freeze(services, document, None, name="bench"))
        diffing = timed(args.runs, lambda: compare(old.units, new.units))
        parsing_and_diffing = timed(args.runs, lambda: compare(
            version_text(get_version(db, document, first.number)).units,
            version_text(get_version(db, document, second.number)).units))
        reading = timed(args.runs, lambda: read_live(services, "cdmx"))
        akn_root = etree.fromstring(second.akn)
        validating = timed(args.runs, lambda: validate(akn_root))
        sizes = {"state_bytes": len(second.state), "snapshot_bytes": len(second.snapshot.encode()),
                 "akn_bytes": len(second.akn)}
    services.rooms.close_all()
    result = {
        "units": count, "changed_units_found": changed,
        "freeze_ms_median": round(freezing[0], 1), "freeze_ms_best": round(freezing[1], 1),
        "diff_ms_median": round(diffing[0], 1), "diff_ms_best": round(diffing[1], 1),
        "diff_with_loading_ms_median": round(parsing_and_diffing[0], 1),
        "baseline_read_live_ms_median": round(reading[0], 1),
        "baseline_akn_validate_ms_median": round(validating[0], 1),
        **sizes,
        "load_average": os.getloadavg(),
    }
    print(f"Mexico City constitution ({count:,} units), {args.runs} runs:")
    print(f"  freeze a version      median {result['freeze_ms_median']} ms, best {result['freeze_ms_best']} ms "
          f"(state {sizes['state_bytes']:,} B, unit tree {sizes['snapshot_bytes']:,} B, AKN {sizes['akn_bytes']:,} B)")
    print(f"  diff two versions     median {result['diff_ms_median']} ms, best {result['diff_ms_best']} ms "
          f"({changed} changed units found of 50 edited); with loading both versions "
          f"{result['diff_with_loading_ms_median']} ms")
    print(f"  baselines: read_live {result['baseline_read_live_ms_median']} ms, "
          f"AKN schema validation {result['baseline_akn_validate_ms_median']} ms")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "versions_cdmx.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
