"""Figures for issue 4: importing and coding 26,000 synthetic survey responses.

No server: the import and the coder are plain functions over the database (SQLite in a temporary
instance folder, as `constituent survey …` uses it). Steps, each `--runs` times (default 3) on
a fresh database:

* generate: build the synthetic respondents in memory (the real 32 questions and colonias);
* import (JSON): `import_survey` of the same survey as a JSON file, i.e. parsing, validating
  every row, receipt codes, and the bulk insert of respondents and answers, committed;
* code: `code_survey`, the Spanish-aware theme coder over every free-text answer, committed;
* recode: `code_survey` again (automatic codings replaced);
* counts: the analysts' overview (themes, boroughs, weeks with spikes) and `theme_counts`.

The baseline, measured in the same run, is the coder alone on the same texts in memory
(`code_text` over every coded answer, no database), and `text.terms` (the shared folding and
stemming) over the same texts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from editor import create_app  # noqa: E402
from editor.documents import create_document  # noqa: E402
from editor.provenance.text import terms  # noqa: E402
from editor.survey import coder  # noqa: E402
from editor.survey.service import import_survey, synthetic_rows, synthetic_survey_json  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BODY = b'<body><article guid="00000000-0000-4000-8000-00000000c001"><heading>Agua</heading><p>x</p></article></body>'


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def one_run(respondents: int, seed: int, data: bytes) -> dict[str, float]:
    from akoma_ntoso.safexml import parse_xml

    folder = Path(tempfile.mkdtemp(prefix="constituent-survey-bench-"))
    try:
        app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "bench"})
        services = app.extensions["constituent"]
        db = services.db
        document = create_document(services, "bench", "Benchmark", parse_xml(BODY), published=True)
        _, t_generate = timed(lambda: synthetic_rows(respondents, seed))

        def load():
            result = import_survey(db, document, data, "json")
            db.commit()
            return result

        result, t_import = timed(load)

        def code():
            n = coder.code_survey(db, result.survey)
            db.commit()
            return n

        codings, t_code = timed(code)
        _, t_recode = timed(code)
        summary, t_overview = timed(lambda: coder.overview(db, document))
        _, t_counts = timed(lambda: coder.theme_counts(db, document))
        size = (folder / "constituent.sqlite3").stat().st_size
        services.db.remove()
        services.rooms.close_all()
        services.engine.dispose()
        return {
            "generate": t_generate, "import": t_import, "code": t_code, "recode": t_recode,
            "overview": t_overview, "theme_counts": t_counts, "answers": result.answers, "codings": codings,
            "respondents": result.respondents, "spikes": [f"{s.key} {s.week}" for s in summary.spikes],
            "database_bytes": size,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--respondents", type=int, default=26_000)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    data = synthetic_survey_json(args.respondents, args.seed)
    _, questions, rows = synthetic_rows(args.respondents, args.seed)
    coded = {i for i, q in enumerate(questions) if q.coded}
    texts = [text for row in rows for i, text in row.answers if i in coded]
    taxonomy = coder.compile_taxonomy(coder.DEFAULT_THEMES)
    _, t_terms = timed(lambda: [terms(t) for t in texts])
    _, t_baseline = timed(lambda: [coder.code_text(t, taxonomy) for t in texts])

    load_before = os.getloadavg()
    runs = [one_run(args.respondents, args.seed, data) for _ in range(args.runs)]
    load_after = os.getloadavg()
    last = runs[-1]
    steps = [
        ("generate the synthetic respondents (in memory)", "generate"),
        ("import: parse + validate JSON, receipts, bulk insert, commit", "import"),
        ("code: theme coder over every free-text answer, commit", "code"),
        ("code again (automatic codings replaced)", "recode"),
        ("analysts' overview: themes, boroughs, weeks + spikes", "overview"),
        ("theme_counts (public pages)", "theme_counts"),
    ]
    print(f"Synthetic survey: {last['respondents']:,} respondents, {last['answers']:,} answers "
          f"({len(texts):,} free-text answers coded into {last['codings']:,} codings); JSON file "
          f"{len(data) / 1048576:.1f} MB; SQLite {last['database_bytes'] / 1048576:.1f} MB; {args.runs} runs each")
    print(f"{'step':62} {'median':>9} {'fastest':>9}")
    medians = {}
    for label, key in steps:
        values = [r[key] for r in runs]
        medians[key] = statistics.median(values)
        print(f"{label:62} {medians[key]:8.2f}s {min(values):8.2f}s")
    print(f"{'import + code (the figure asked for)':62} {medians['import'] + medians['code']:8.2f}s")
    print(f"baseline, no database: text.terms over the coded answers {t_terms:.2f}s; "
          f"code_text over them {t_baseline:.2f}s")
    print(f"spikes flagged: {', '.join(last['spikes']) or 'none'}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} CPUs)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "survey_bench.json").write_text(json.dumps({
        "respondents": last["respondents"], "answers": last["answers"], "coded_answers": len(texts),
        "codings": last["codings"], "median_seconds": medians,
        "baseline_seconds": {"terms": t_terms, "code_text": t_baseline}, "spikes": last["spikes"],
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
