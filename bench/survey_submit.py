"""Issue 20: residents sending the web questionnaire through the real server.

A fresh SQLite instance gets the demo document and its open questionnaire ("Imagine su ciudad",
with `--synthetic` synthetic answers already there), then `constituent serve` (one gunicorn
gthread process) runs on it. Load generators, in their own processes (`--clients` of them, one
connection each, closed loop), each repeat what a resident's browser does: open the
questionnaire (GET: the page and its one-use challenge), solve the proof of work as the page's
script does (client time, not counted in the server figures), and send the answers (POST, then
the redirect to the receipt page, GET). Answers vary (words, boroughs, options) like real ones.

Figures: submissions per second over the whole run; the POST's latency (p50, p95, p99); and how
long after the last answer the theme counts include every answer (they are coded in the same
transaction, so this checks that nothing is left to a background pass). The baseline in the
same run is the GET of the questionnaire page (rendering it and issuing a challenge).

The per-address rate limit (CONSTITUENT_SURVEY_SUBMIT_RATE_LIMIT) is lifted for the run: every
generator sends from 127.0.0.1, which the limit would rightly stop after a few answers.

Run:  .venv/bin/python bench/survey_submit.py [--count 26000] [--clients 4] [--synthetic 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common  # noqa: E402

WORDS = ("agua", "basura", "inseguridad", "tráfico", "contaminación", "cultura", "parques", "corrupción", "metro",
         "empleo", "vivienda", "ruido", "comida", "gente", "caos", "bici")
PLACES = {"Iztapalapa": "San Miguel Teotongo", "Tlalpan": "Tlalpan Centro", "Coyoacán": "Del Carmen",
          "Cuauhtémoc": "Roma Norte", "Gustavo A. Madero": "Lindavista", "Xochimilco": "Xochimilco Centro"}
CHALLENGES = ("agua", "inseguridad", "movilidad", "corrupcion", "empleo", "vivienda", "contaminacion")


def seed(instance: Path, synthetic: int) -> int:
    from editor import create_app
    from editor.demo import DEMO_SLUG, sample_body, seed_provenance
    from editor.documents import create_document
    from editor.survey.questionnaire import questionnaires_of

    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    try:
        with app.app_context():
            document = create_document(services, DEMO_SLUG, "Constitución de Los Ríos", sample_body(),
                                       language="spa", published=True)
            seed_provenance(services, document, respondents=synthetic)
            return questionnaires_of(services.db, document)[0].id
    finally:
        services.close()


def _form(rng: random.Random) -> dict:
    borough = rng.choice(list(PLACES))
    return {"q-place-borough": borough, "q-place-neighbourhood": PLACES[borough],
            "q-words": ", ".join(rng.sample(WORDS, 3)),
            "q-future": f"Una ciudad con más {rng.choice(WORDS)} y menos {rng.choice(WORDS)}",
            "q-challenge": rng.choice(CHALLENGES), "q-rights": rng.sample(["agua", "vivienda", "movilidad"], 2)}


def generator(url: str, count: int, seed_value: int, out) -> None:
    import requests

    from editor.survey.answering import solve

    rng = random.Random(seed_value)
    session = requests.Session()
    gets, posts, failures = [], [], 0
    for _ in range(count):
        started = time.perf_counter()
        page = session.get(url, timeout=30)
        gets.append(time.perf_counter() - started)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        challenge = re.search(r'name="challenge" value="([^"]+)"', page.text).group(1)
        work = solve(challenge)
        started = time.perf_counter()
        sent = session.post(url, data={**_form(rng), "csrf_token": csrf, "challenge": challenge, "work": work},
                            timeout=30, allow_redirects=False)
        posts.append(time.perf_counter() - started)
        if sent.status_code != 303:
            failures += 1
        else:
            session.get(urljoin(url, sent.headers["Location"]), timeout=30)  # the receipt, shown once
    out.put((gets, posts, failures))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=26_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--synthetic", type=int, default=2_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="constituent-survey-submit-"))
    try:
        survey_id = seed(folder, args.synthetic)
        from editor.demo import DEMO_SLUG

        server = common.LiveServer(folder, env_extra={"CONSTITUENT_SURVEY_SUBMIT_RATE_LIMIT": "1000000 per minute"})
        server.start()
        try:
            url = f"{server.url}/d/{DEMO_SLUG}/survey/{survey_id}"
            queue: mp.Queue = mp.Queue()
            share = [args.count // args.clients + (1 if i < args.count % args.clients else 0)
                     for i in range(args.clients)]
            workers = [mp.Process(target=generator, args=(url, n, i, queue)) for i, n in enumerate(share)]
            started = time.perf_counter()
            for w in workers:
                w.start()
            results = [queue.get() for _ in workers]
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - started
            finished = time.perf_counter()
            counted = _counted(folder, survey_id)
            visible_after = time.perf_counter() - finished
        finally:
            server.stop()
        gets = [g for r in results for g in r[0]]
        posts = [p for r in results for p in r[1]]
        failures = sum(r[2] for r in results)
        print(f"survey web submissions: {args.count:,} through one server process, {args.clients} generator "
              f"processes (closed loop), {args.synthetic:,} synthetic answers there before")
        print(f"  throughput: {args.count / elapsed:,.1f} submissions/s over {elapsed:,.1f} s (client proof of work "
              "included in the loop)")
        print(f"  POST (store + code + commit): p50 {statistics.median(posts) * 1000:.1f} ms, "
              f"p95 {percentile(posts, .95) * 1000:.1f} ms, p99 {percentile(posts, .99) * 1000:.1f} ms; "
              f"failures {failures}")
        print(f"  baseline GET of the questionnaire: p50 {statistics.median(gets) * 1000:.1f} ms, "
              f"p99 {percentile(gets, .99) * 1000:.1f} ms")
        print(f"  counted in the themes right after the last answer: {counted['web']:,} web respondents of "
              f"{args.count:,} sent ({counted['coded']:,} with a theme); checked {visible_after * 1000:.0f} ms later")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _counted(folder: Path, survey_id: int) -> dict:
    from sqlalchemy import func, select

    from editor import create_app
    from editor.survey.models import Answer, Coding, Respondent

    app = create_app({"INSTANCE_PATH": str(folder), "SECRET_KEY": "test-secret"})
    services = app.extensions["constituent"]
    try:
        db = services.db
        sent = (Respondent.survey_id == survey_id, Respondent.channel == "web", Respondent.received_at.is_not(None))
        web = db.scalar(select(func.count(Respondent.id)).where(*sent))
        coded = db.scalar(select(func.count(func.distinct(Answer.respondent_id))).join(Coding, Coding.answer_id == Answer.id)
                          .join(Respondent, Respondent.id == Answer.respondent_id)
                          .where(*sent))
        return {"web": web, "coded": coded}
    finally:
        services.close()


if __name__ == "__main__":
    main()
