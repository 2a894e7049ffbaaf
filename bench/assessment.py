"""Speed of the evidence proposal of the assessment of municipal mechanisms (issue 16) against plain SQL group-bys
taking the same counts, measured in the same run.

Dataset: a generated region of BENCH_MUNICIPALITIES municipalities (default 50), each with one cycle per municipal
mechanism (8) of the period, its nine stages (half approved), 3 goals, 6 indicators over the required groups,
2 collection methods, 2 findings, 2 measures and 1 decision per cycle — rows inserted directly (the bench is about
reading).

Timed: app.assessment.evidence.gather for all municipalities × mechanisms — the content counts, the documents and the
cycles' integrity checks (app/effectiveness/integrity.py check_cycles, one query per kind of row for all cycles) —
and the proposal of every criterion of the default set (what publishing and «Пересчитать предложенные баллы» do).
Baseline: the same counts by plain SQL group-bys (one per table, grouped by owner and mechanism, including those the
integrity checks rest on: stages reached, indicators without a method, values per indicator, recommendations,
decisions' missing fields, evaluations) through the same connection, results into dicts.
BENCH_REPEATS interleaved pairs (default 7): best of each side, their ratio, and the median per-pair ratio.
Target ≤ 3×. Also printed: the statement count for 5 and for all municipalities (must be equal: no N+1).

Run: .venv/bin/python bench/assessment.py   (DATABASE_URL for PostgreSQL; a temporary SQLite file otherwise)
"""

import os
import statistics
from datetime import date
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from config import DevelopmentConfig  # noqa: E402

MUNICIPALITIES = int(os.environ.get("BENCH_MUNICIPALITIES", "50"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))
PERIOD = "2025/26"
BLOCKS = ["GOAL", "IND", "METH", "MON", "ANL", "REC", "MEAS", "DEC", "EFF"]

BASELINE = [
    "SELECT c.owner_id, m.code, count(*) FROM stages s JOIN cycles c ON c.id = s.cycle_id JOIN tracks t ON "
    "t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p AND s.state = 'approved' "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, count(*), sum(CASE WHEN length(trim(g.justification)) > 0 THEN 1 ELSE 0 END), "
    "sum(CASE WHEN length(trim(g.realism)) > 0 THEN 1 ELSE 0 END) FROM goals g JOIN cycles c ON c.id = g.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, count(DISTINCT i.group_name) FROM indicators i JOIN cycles c ON c.id = i.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, count(*) FROM collection_methods x JOIN cycles c ON c.id = x.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, count(*) FROM findings x JOIN cycles c ON c.id = x.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, count(*) FROM measures x JOIN cycles c ON c.id = x.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, count(*) FROM decisions x JOIN cycles c ON c.id = x.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, count(*) FROM documents x JOIN cycles c ON c.id = x.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    # The same counts the integrity checks rest on (the proposal scores the criteria that name them).
    "SELECT c.owner_id, m.code, count(*) FROM stages s JOIN cycles c ON c.id = s.cycle_id JOIN tracks t ON "
    "t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p AND s.state <> 'waiting' "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, sum(CASE WHEN length(trim(i.collection_method)) > 0 THEN 0 ELSE 1 END) "
    "FROM indicators i JOIN cycles c ON c.id = i.cycle_id JOIN tracks t ON t.id = c.track_id "
    "JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p GROUP BY c.owner_id, m.code",
    "SELECT i.cycle_id, i.id, count(v.id) FROM indicators i JOIN cycles c ON c.id = i.cycle_id "
    "LEFT JOIN indicator_values v ON v.indicator_id = i.id WHERE c.period = :p GROUP BY i.cycle_id, i.id",
    "SELECT c.owner_id, m.code, count(*) FROM recommendations x JOIN cycles c ON c.id = x.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, sum(CASE WHEN x.responsible_id IS NULL THEN 1 ELSE 0 END), "
    "sum(CASE WHEN x.deadline IS NULL THEN 1 ELSE 0 END) FROM decisions x JOIN cycles c ON c.id = x.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
    "SELECT c.owner_id, m.code, count(*) FROM effectiveness_evaluations x JOIN cycles c ON c.id = x.cycle_id "
    "JOIN tracks t ON t.id = c.track_id JOIN mechanisms m ON m.id = t.mechanism_id WHERE c.period = :p "
    "GROUP BY c.owner_id, m.code",
]


def generate(db):
    """The region, its municipalities, one user, and the cycles with their content (direct inserts)."""
    from app.assessment.evidence import required_groups
    from app.auth.services import create_user
    from app.core.timeutil import utcnow
    from app.catalogue.models import Mechanism, MechanismSet, Track
    from app.cycles.models import CollectionMethod, Cycle, Goal, Indicator, Stage
    from app.followup.models import Decision, Measure
    from app.orgs.services import create_organisation

    region = create_organisation(code="BENCH", name="Область", kind="region")
    muns = [create_organisation(code=f"BM{n:03d}", name=f"Район {n}", kind="municipality", parent=region)
            for n in range(MUNICIPALITIES)]
    user = create_user(login="bench", full_name="Бенчев Иван Иванович", password="bench-password-long-1",
                       roles=[("official", region)], password_policy=False)
    db.session.flush()
    tracks = db.session.execute(select(Track.id, Mechanism.code).join(Mechanism, Mechanism.id == Track.mechanism_id)
                                .join(MechanismSet).where(MechanismSet.level == "municipal",
                                                          MechanismSet.active.is_(True), Track.position <= 1,
                                                          Mechanism.optional.is_(False))).all()
    groups = required_groups([code for _, code in tracks])
    now = utcnow()
    for mun in muns:
        for track_id, code in tracks:
            cycle_id = db.session.execute(insert(Cycle).values(track_id=track_id, owner_id=mun.id, period=PERIOD,
                                                               state="open", version=1)).inserted_primary_key[0]
            stage_ids = {}
            for pos, block in enumerate(BLOCKS, 1):
                stage_ids[block] = db.session.execute(insert(Stage).values(
                    cycle_id=cycle_id, code=block, position=pos, state="approved" if pos <= 4 else "draft",
                    approved_at=now if pos <= 4 else None, version=1)).inserted_primary_key[0]
            db.session.execute(insert(Goal), [dict(cycle_id=cycle_id, direction="Развитие", statement="Цель",
                                                   justification="Данные" if n else "", realism="Ресурсы",
                                                   position=n, version=1) for n in range(3)])
            db.session.execute(insert(Indicator), [dict(
                cycle_id=cycle_id, code=f"I{n}", name="Показатель", unit="%", definition="d",
                group_name=groups[code][n % len(groups[code])], source="ФИС ОКО", collection_method="выгрузка",
                periodicity="ежегодно", direction="up", responsible="Иванов", version=1) for n in range(6)])
            db.session.execute(insert(CollectionMethod), [dict(cycle_id=cycle_id, source="s", method="m", tool="t",
                                                               schedule="май", version=1) for _ in range(2)])
            db.session.execute(insert(Measure), [dict(
                cycle_id=cycle_id, stage_id=stage_ids["MEAS"], title="Семинар", kind="event", responsible_id=user.id,
                participants="Учителя", start_date=date(2026, 1, 10), end_date=date(2026, 2, 10), state="planned",
                created_by_id=user.id) for _ in range(2)])
            db.session.execute(insert(Decision).values(
                cycle_id=cycle_id, stage_id=stage_ids["DEC"], text="Решение", kind="organisational",
                deadline=date(2026, 5, 1), responsible_id=user.id, participants="Директора", state="draft",
                created_by_id=user.id))
    db.session.commit()
    return [m.id for m in muns]


def propose_all(criteria, municipality_ids, mechanisms):
    from app.assessment import evidence

    facts = evidence.gather(PERIOD, municipality_ids, mechanisms)
    groups = evidence.required_groups(mechanisms)
    titles = evidence.block_titles()
    return [evidence.propose(c, facts[(m, c.mechanism_code)], groups=groups.get(c.mechanism_code, []),
                             titles=titles) for m in municipality_ids for c in criteria]


def baseline(db):
    out = []
    for sql in BASELINE:
        out.append({(row[0], row[1]): row[2:] for row in db.session.execute(text(sql), {"p": PERIOD})})
    return out


def main() -> None:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    from config import normalise_database_url

    config = type("BenchConfig", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
                                                         "JOBS_MODE": "inline"})
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        from app.assessment.criteria import load_criteria
        from app.assessment.models import Criterion
        from app.catalogue.services import load_all
        from app.extensions import db

        upgrade()
        load_all()
        (cset,) = load_criteria() or [None]
        db.session.commit()
        started = time.perf_counter()
        municipality_ids = generate(db)
        elapsed = time.perf_counter() - started
        print(f"generated {len(municipality_ids)} municipalities × 8 mechanisms in {elapsed:.1f} s")
        mechanisms = ["M1.1", "M1.2", "M1.3", "M1.4", "M2.1", "M2.2", "M2.3", "M2.4"]
        criteria = db.session.scalars(select(Criterion).where(Criterion.set_id == cset.id,
                                                              Criterion.mechanism_code.in_(mechanisms))).all()

        statements = []

        def count(*args):
            statements.append(1)

        for ids in (municipality_ids[:5], municipality_ids):
            statements.clear()
            event.listen(db.engine, "before_cursor_execute", count)
            propose_all(criteria, ids, mechanisms)
            event.remove(db.engine, "before_cursor_execute", count)
            print(f"statements for {len(ids)} municipalities: {len(statements)}")

        ratios, best_full, best_base = [], float("inf"), float("inf")
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            proposals = propose_all(criteria, municipality_ids, mechanisms)
            t1 = time.perf_counter()
            baseline(db)
            t2 = time.perf_counter()
            best_full, best_base = min(best_full, t1 - t0), min(best_base, t2 - t1)
            ratios.append((t1 - t0) / (t2 - t1))
        print(f"proposals: {len(proposals)} (criteria × municipalities)")
        from app.assessment import evidence

        t0 = time.perf_counter()
        evidence.gather(PERIOD, municipality_ids, mechanisms)
        print(f"of which gathering the facts: {(time.perf_counter() - t0) * 1000:.1f} ms")

        print(f"evidence proposal best {best_full * 1000:.1f} ms; plain SQL group-bys best {best_base * 1000:.1f} ms; "
              f"ratio of bests {best_full / best_base:.2f}×; median per-pair ratio {statistics.median(ratios):.2f}× "
              f"(target ≤ 3×)")


if __name__ == "__main__":
    main()
