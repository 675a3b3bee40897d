"""Figure for issue 4: time to render the public clause page of Artículo 16 with its provenance.

Setup (not timed): a temporary instance with the Mexico City constitution imported, the 12 real
2016 petitions imported and linked through their references, a synthetic survey of 26,000
respondents coded into themes, and every theme linked to the article's apartado it addresses
most (by the ranking the committee sees), so the page shows petitions and themes with counts.

Timed: `GET /d/cdmx/art_16` through the application (Flask test client: no network), `--runs`
times after one warm-up, and its two parts: reading and numbering the live text (`read_live`),
and loading the provenance of the article and its parts with its figures (`Provenance.load`:
signature counts, respondents of the linked themes, links). Baseline in the same run: `/d/cdmx/art_15`, a page
with no links.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("CONSTITUENT_SHARED_DATA") or ROOT.parent / "shared" / "data")
os.environ.setdefault("CONSTITUENT_SHARED_DATA", str(SHARED))
RESULTS = ROOT / "bench" / "results"


def timed(runs: int, fn):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--respondents", type=int, default=26_000)
    args = parser.parse_args()
    text = SHARED / "cdmx" / "constitucion-politica-cdmx.txt"
    petitions = SHARED / "cdmx" / "petitions-2016.csv"
    if not text.exists() or not petitions.exists():
        print(f"the Mexico City data is not under {SHARED}", file=sys.stderr)
        return 2

    from sqlalchemy import select

    from akoma_ntoso import iter_units
    from editor import create_app
    from editor.documents import get_document
    from editor.interchange import import_document
    from editor.livetext import read_live
    from editor.petitions.service import import_petitions
    from editor.provenance.links import create_link
    from editor.provenance.text import Corpus
    from editor.survey.coder import code_survey, ensure_taxonomy
    from editor.survey.models import Theme
    from editor.survey.service import synthesize_survey

    instance = Path(tempfile.mkdtemp(prefix="constituent-bench-"))
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"})
    services = app.extensions["constituent"]
    with app.app_context():
        db = services.db
        import_document(services, text.read_bytes(), "text", slug="cdmx", title=None, doctype="act", published=True)
        document = get_document(db, "cdmx")
        units = read_live(services, "cdmx").units
        imported = import_petitions(db, document, petitions.read_bytes(), "csv", units=units)
        ensure_taxonomy(db, document)
        code_survey(db, synthesize_survey(db, document, respondents=args.respondents).survey)
        art16 = next(u for u in iter_units(units) if u.eid == "art_16")
        apartados = list(art16.children)
        corpus = Corpus((u.guid, f"{u.heading} {u.text}") for u in apartados)
        themes = list(db.scalars(select(Theme).where(Theme.document_id == document.id)))
        linked = 0
        for theme in themes:
            ranked = corpus.rank(f"{theme.name} {' '.join(json.loads(theme.synonyms))}", limit=1)
            if ranked:
                create_link(db, document, units, ranked[0].key, "theme", theme.id, "addresses")
                linked += 1
        db.commit()
    client = app.test_client()
    page = client.get("/d/cdmx/art_16")
    assert page.status_code == 200
    with_provenance = timed(args.runs, lambda: client.get("/d/cdmx/art_16"))
    baseline = timed(args.runs, lambda: client.get("/d/cdmx/art_15"))
    from editor.provenance.summaries import Provenance

    with app.app_context():
        reading = timed(args.runs, lambda: read_live(services, "cdmx"))
        guids = {u.guid for u in iter_units((art16,))}
        loading = timed(args.runs, lambda: Provenance.load(services.db, get_document(services.db, "cdmx"), guids))
    services.rooms.close_all()
    body = page.get_data(as_text=True)
    result = {
        "respondents": args.respondents,
        "petition_links": imported.links_made,
        "theme_links_in_art_16": linked,
        "page_bytes": len(body),
        "art_16_ms_median": round(with_provenance[0] * 1000, 1),
        "art_16_ms_best": round(with_provenance[1] * 1000, 1),
        "baseline_art_15_ms_median": round(baseline[0] * 1000, 1),
        "baseline_art_15_ms_best": round(baseline[1] * 1000, 1),
        "read_live_ms_median": round(reading[0] * 1000, 1),
        "provenance_load_ms_median": round(loading[0] * 1000, 1),
        "load_average": os.getloadavg(),
    }
    print(f"Artículo 16 with provenance ({imported.links_made} petition links in the document, "
          f"{linked} themes linked inside the article, {args.respondents:,} respondents):")
    print(f"  GET /d/cdmx/art_16   median {result['art_16_ms_median']} ms, best {result['art_16_ms_best']} ms, "
          f"{len(body):,} bytes")
    print(f"  of which: read_live median {result['read_live_ms_median']} ms, "
          f"Provenance.load median {result['provenance_load_ms_median']} ms")
    print(f"  baseline /d/cdmx/art_15 (no provenance) median {result['baseline_art_15_ms_median']} ms, "
          f"best {result['baseline_art_15_ms_best']} ms")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "provenance_page.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
