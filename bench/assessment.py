"""Speed of the evidence proposal of the assessment of municipal mechanisms (issue 16) against plain SQL group-bys
taking the same counts, measured in the same run.

Dataset: a generated region of BENCH_MUNICIPALITIES municipalities (default 50), each with one cycle per municipal
mechanism (8) of the period, its nine stages (half approved), 3 goals, 6 indicators over the required groups,
2 collection methods, 2 findings, 2 measures and 1 decision per cycle — rows inserted directly (the bench is about
reading).

Timed: app.assessment.evidence.gather for all municipalities × mechanisms — the documents, the per-cycle counts of the
cycles' chains (app/effectiveness/chain_counts.py ChainCounts, one GROUP BY per table for all cycles) from which the
stage states and content counts are read and the integrity checks' defects counted (count_defects) — and the proposal
of every criterion of the default set, each rule compiled once (evidence.propose_all: what publishing and
«Пересчитать предложенные баллы» do).
Baseline: the same counts by plain SQL group-bys (one per table, grouped by owner and mechanism, including those the
integrity checks rest on: stages reached, indicators without a method, values per indicator, recommendations,
decisions' missing fields, evaluations) through the same connection, results into dicts.
BENCH_REPEATS interleaved pairs (default 7): best of each side, their ratio, and the median per-pair ratio.
Target ≤ 3×. Also printed: the statement count for 5 and for all municipalities (must be equal: no N+1).

Run: .venv/bin/python bench/assessment.py   (DATABASE_URL for PostgreSQL; a temporary SQLite file otherwise)

With --package: the evidence package of one municipality (8 mechanisms × BENCH_PACKAGE_DOCUMENTS registered
documents) against zipping the same stored files with `zipfile` alone; target ≤ 1.5× (see package_bench).
"""

import gc
import os
import statistics
from datetime import date, timedelta
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
    return list(evidence.propose_all(criteria, facts, municipality_ids, groups=groups, titles=titles))


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


# --- the evidence package (run with --package) ---------------------------------------------------------------

PACKAGE_DOCUMENTS = int(os.environ.get("BENCH_PACKAGE_DOCUMENTS", "9"))  # registered documents per mechanism
PACKAGE_REPEATS = int(os.environ.get("BENCH_PACKAGE_REPEATS", "21"))  # interleaved pairs


def _package_region(db, storage: Path):
    """One municipality of a published campaign over the 8 municipal mechanisms: per mechanism a cycle with
    PACKAGE_DOCUMENTS registered documents (signed file and registered copy stored, ~40 KB .docx each, a visa and a
    signature), each the recorded evidence of two criteria of its block."""
    import hashlib
    from datetime import datetime, timezone

    from app.assessment import services
    from app.assessment.criteria import published_sets
    from app.assessment.models import EvidenceItem
    from app.auth.services import create_user
    from app.catalogue.models import Mechanism, MechanismSet, Track
    from app.cycles.models import Cycle, Stage
    from app.documents.models import Document, DocumentApproval, DocumentVersion, Signature
    from app.orgs.services import create_organisation

    region = create_organisation(code="PKG", name="Область", kind="region")
    mun = create_organisation(code="PKG-M", name="Район", kind="municipality", parent=region)
    workplace = create_organisation(code="PKG-E", name="Институт", kind="municipality", parent=region)
    manager = create_user(login="pkg_manager", full_name="Регионова Ольга Петровна", password="bench-password-long-1",
                          roles=[("official", region)], password_policy=False)
    coordinator = create_user(login="pkg_coord", full_name="Координаторова Анна Ивановна",
                              password="bench-password-long-1", roles=[("official", mun)], password_policy=False)
    expert_user = create_user(login="pkg_expert", full_name="Экспертов Иван Петрович",
                              password="bench-password-long-1", roles=[("expert", region)], password_policy=False)
    cset = published_sets()[0]
    mechanisms = ["M1.1", "M1.2", "M1.3", "M1.4", "M2.1", "M2.2", "M2.3", "M2.4"]
    today = date.today()
    campaign = services.create_campaign(region, actor=manager, title="Мониторинг", period=PERIOD,
                                        window_start=today, window_end=today + timedelta(days=30),
                                        criteria_set_id=cset.id,
                                        mechanisms=mechanisms, municipality_ids=[mun.id])
    services.appoint_coordinator(campaign, municipality_id=mun.id, user_id=coordinator.id, actor=manager)
    expert = services.add_expert(region, actor=manager, user_id=expert_user.id, organisation_id=workplace.id,
                                 position="эксперт", competences=mechanisms, included_on=today, basis="приказ № 1",
                                 mechanism_codes=cset.mechanism_codes())
    for code in mechanisms:
        services.assign_expert(campaign, municipality_id=mun.id, mechanism_code=code, expert_id=expert.id,
                               actor=manager)
    services.publish_campaign(campaign, actor=manager)
    tracks = dict(db.session.execute(
        select(Mechanism.code, Track.id).join(Track, Track.mechanism_id == Mechanism.id).join(MechanismSet)
        .where(MechanismSet.level == "municipal", MechanismSet.active.is_(True), Track.position <= 1)).all())
    signed_at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    docx = _docx

    def store(relative: str, data: bytes) -> str:
        (storage / relative).parent.mkdir(parents=True, exist_ok=True)
        (storage / relative).write_bytes(data)
        return hashlib.sha256(data).hexdigest()

    n = 0
    for code in mechanisms:
        cycle = Cycle(track_id=tracks[code], owner_id=mun.id, period=PERIOD, state="open")
        db.session.add(cycle)
        db.session.flush()
        criteria = services.criteria_of(campaign, code)
        for pos, block in enumerate(BLOCKS[:PACKAGE_DOCUMENTS], 1):
            stage = Stage(cycle_id=cycle.id, code=block, position=pos, state="approved", approved_at=signed_at)
            doc = Document(cycle_id=cycle.id, stage=stage, type_key="goals_order", title=f"Приказ {code} {block}",
                           state="registered", created_by_id=manager.id)
            db.session.add(doc)
            db.session.flush()
            n += 1
            version = DocumentVersion(document_id=doc.id, number=1, status="done", signed=True, signed_at=signed_at,
                                      registration_number=f"{n:04d}/2026", registration_seq=n, registration_year=2026,
                                      registration_date=today, registered_status="done",
                                      stored_path=f"documents/{doc.id}/s.docx",
                                      registered_path=f"documents/{doc.id}/r.docx")
            version.sha256 = store(version.stored_path, docx(n, "Подписанная редакция"))
            version.registered_sha256 = store(version.registered_path, docx(n, "Зарегистрированный экземпляр"))
            version.approvals.append(DocumentApproval(round=1, position=1, role="methodologist",
                                                      approver_id=coordinator.id, approver_name="Методистова Ольга",
                                                      approver_position="методист", decision="approved",
                                                      decided_at=signed_at))
            version.signatures.append(Signature(signer_id=manager.id, signer_name=manager.full_name,
                                                signer_position="начальник", signer_role="head", meaning="утверждаю",
                                                file_sha256=version.sha256, signed_at=signed_at))
            db.session.add(version)
            db.session.flush()
            for criterion in [c for c in criteria if c.block == block][:2]:
                db.session.add(EvidenceItem(
                    campaign_id=campaign.id, municipality_id=mun.id, criterion_id=criterion.id, kind="document",
                    document_id=doc.id, document_version_id=version.id, title=doc.title,
                    registration_number=version.registration_number, registration_date=today,
                    signer="начальник Регионова О.П.", sha256=version.registered_sha256, recorded_at=signed_at))
    db.session.commit()
    return campaign, mun


MEMORY_MUNICIPALITIES = (5, int(os.environ.get("BENCH_MEMORY_MUNICIPALITIES", "50")))
MEMORY_DOCUMENTS = int(os.environ.get("BENCH_MEMORY_DOCUMENTS", "3"))  # registered documents per mechanism


def _memory_region(db, storage: Path, count: int):
    """A draft campaign of `count` municipalities × 8 mechanisms × MEMORY_DOCUMENTS registered documents (each the
    evidence of two criteria, with a visa and a signature) and every criterion's score row — rows inserted in
    bulk. The documents of every municipality share one set of stored files (the package reads each once per
    document all the same; the bench is about what the builder holds, not about disk space)."""
    import hashlib
    from datetime import datetime, timezone

    from app.assessment import services
    from app.assessment.criteria import published_sets
    from app.assessment.models import EvidenceItem, Score
    from app.auth.services import create_user
    from app.catalogue.models import Mechanism, MechanismSet, Track
    from app.cycles.models import Cycle, Stage
    from app.documents.models import Document, DocumentApproval, DocumentVersion, Signature
    from app.orgs.services import create_organisation

    region = create_organisation(code=f"MEM{count}", name=f"Область {count}", kind="region")
    muns = [create_organisation(code=f"MEM{count}-{i:03d}", name=f"Район {i}", kind="municipality", parent=region)
            for i in range(count)]
    manager = create_user(login=f"mem_manager{count}", full_name="Регионова Ольга Петровна",
                          password="bench-password-long-1", roles=[("official", region)], password_policy=False)
    cset = published_sets()[0]
    mechanisms = ["M1.1", "M1.2", "M1.3", "M1.4", "M2.1", "M2.2", "M2.3", "M2.4"]
    campaign = services.create_campaign(region, actor=manager, title="Мониторинг", period=PERIOD,
                                        window_start=date.today(), window_end=date.today() + timedelta(days=30),
                                        criteria_set_id=cset.id,
                                        mechanisms=mechanisms, municipality_ids=[m.id for m in muns])
    tracks = dict(db.session.execute(
        select(Mechanism.code, Track.id).join(Track, Track.mechanism_id == Mechanism.id).join(MechanismSet)
        .where(MechanismSet.level == "municipal", MechanismSet.active.is_(True), Track.position <= 1)).all())
    signed_at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    files = {}
    for k in range(len(mechanisms) * MEMORY_DOCUMENTS):
        relative = f"memory/{k}.docx"
        data = _docx(k, "Зарегистрированный экземпляр")
        (storage / relative).parent.mkdir(parents=True, exist_ok=True)
        (storage / relative).write_bytes(data)
        files[k] = (relative, hashlib.sha256(data).hexdigest())
    criteria = {code: services.criteria_of(campaign, code) for code in mechanisms}
    db.session.execute(insert(Score), [
        {"campaign_id": campaign.id, "municipality_id": m.id, "mechanism_code": code, "criterion_id": c.id,
         "proposed_points": 1, "self_points": 1} for m in muns for code in mechanisms for c in criteria[code]])
    for mun in muns:
        cycles = db.session.execute(insert(Cycle).returning(Cycle.id, sort_by_parameter_order=True), [
            {"track_id": tracks[code], "owner_id": mun.id, "period": PERIOD, "state": "open"}
            for code in mechanisms]).scalars().all()
        plan = [(code, cycle_id, block, i * MEMORY_DOCUMENTS + n)
                for i, (code, cycle_id) in enumerate(zip(mechanisms, cycles))
                for n, block in enumerate(BLOCKS[:MEMORY_DOCUMENTS])]
        stages = db.session.execute(insert(Stage).returning(Stage.id, sort_by_parameter_order=True), [
            {"cycle_id": cycle_id, "code": block, "position": n + 1, "state": "approved", "approved_at": signed_at}
            for n, (_code, cycle_id, block, _k) in enumerate(plan)]).scalars().all()
        docs = db.session.execute(insert(Document).returning(Document.id, sort_by_parameter_order=True), [
            {"cycle_id": cycle_id, "stage_id": stage, "type_key": "goals_order", "title": f"Приказ {code} {block}",
             "state": "registered", "created_by_id": manager.id}
            for stage, (code, cycle_id, block, _k) in zip(stages, plan)]).scalars().all()
        versions = db.session.execute(insert(DocumentVersion).returning(DocumentVersion.id,
                                                                        sort_by_parameter_order=True), [
            {"document_id": doc, "number": 1, "status": "done", "signed": True, "signed_at": signed_at,
             "registration_number": f"{doc}/2026", "registration_seq": doc, "registration_year": 2026,
             "registration_date": date.today(), "registered_status": "done",
             "stored_path": files[k][0], "sha256": files[k][1], "registered_path": files[k][0],
             "registered_sha256": files[k][1]} for doc, (_c, _cy, _b, k) in zip(docs, plan)]).scalars().all()
        db.session.execute(insert(DocumentApproval), [
            {"version_id": v, "round": 1, "position": 1, "role": "methodologist", "approver_id": manager.id,
             "approver_name": "Методистова Ольга",
             "approver_position": "методист", "decision": "approved", "decided_at": signed_at} for v in versions])
        db.session.execute(insert(Signature), [
            {"version_id": v, "signer_id": manager.id, "signer_name": manager.full_name, "signer_position": "начальник",
             "signer_role": "head", "meaning": "утверждаю", "file_sha256": files[k][1], "signed_at": signed_at}
            for v, (_c, _cy, _b, k) in zip(versions, plan)])
        db.session.execute(insert(EvidenceItem), [
            {"campaign_id": campaign.id, "municipality_id": mun.id, "criterion_id": c.id, "kind": "document",
             "document_id": doc, "document_version_id": v, "title": f"Приказ {code} {block}",
             "registration_number": f"{doc}/2026", "signer": "начальник Регионова О.П.", "sha256": files[k][1]}
            for doc, v, (code, _cy, block, k) in zip(docs, versions, plan)
            for c in [c for c in criteria[code] if c.block == block][:2]])
    db.session.commit()
    return campaign


def _docx(n: int, what: str) -> bytes:
    """A ~40 KB .docx of 30 paragraphs (python-docx)."""
    import io as _io

    from docx import Document as Docx

    text_block = "Приказ об утверждении показателей и методов сбора информации. " * 40
    out = _io.BytesIO()
    document = Docx()
    for k in range(30):
        document.add_paragraph(f"{what} {n}.{k}. {text_block}")
    document.save(out)
    return out.getvalue()


def _package_memory(db, storage: Path, out: Path) -> None:
    """Peak memory (tracemalloc) of the whole campaign's package at 5 and at BENCH_MEMORY_MUNICIPALITIES
    municipalities, and their ratio: flat means it does not grow with the region (app.core.zipstream keeps the ZIP's
    central directory in a temporary file, not one ZipInfo per member as zipfile does). Each region's ZIP is
    checked: zipfile's testzip, `unzip -tq` (Info-ZIP) and every manifest row's SHA-256 against its member."""
    import hashlib
    import json
    import shutil
    import subprocess
    import tracemalloc
    import zipfile

    from app.assessment import package

    peaks = {}
    for count in MEMORY_MUNICIPALITIES:
        campaign = _memory_region(db, storage, count)
        # Once untraced first: statements compiled and cached on first use are not the builder's own memory.
        package.build(campaign, None, out / f"region-{count}.zip")
        db.session.expire_all()
        tracemalloc.start()
        started = time.perf_counter()
        result = package.build(campaign, None, out / f"region-{count}.zip")
        elapsed = time.perf_counter() - started
        peaks[count] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        db.session.rollback()
        with zipfile.ZipFile(out / f"region-{count}.zip") as archive:
            members = len(archive.namelist())
            assert archive.testzip() is None
            for row in json.loads(archive.read("manifest.json"))["files"]:
                if row["path"]:
                    assert hashlib.sha256(archive.read(row["path"])).hexdigest() == row["sha256"], row["path"]
        unzip = shutil.which("unzip")
        if unzip:
            subprocess.run([unzip, "-tq", str(out / f"region-{count}.zip")], check=True, stdout=subprocess.DEVNULL)
        size = (out / f"region-{count}.zip").stat().st_size
        print(f"whole campaign, {count} municipalities: {result.files} files listed, {members} in the ZIP, "
              f"{size / 1e6:.1f} MB, {elapsed:.1f} s under tracemalloc; peak memory {peaks[count] / 1e6:.2f} MB; "
              f"testzip{', unzip -t' if unzip else ''} and the manifest's hashes ok")
    small, large = MEMORY_MUNICIPALITIES
    print(f"peak memory {large} vs {small} municipalities: {peaks[large] / peaks[small]:.2f}× "
          f"(target ≈ flat; municipalities ×{large / small:.0f})")


def package_bench() -> None:
    """The evidence package of one municipality (app.assessment.package.build: hashing every stored file before
    copying it, the sheets, scores, audit extract and manifests) against zipping the same stored files with
    `zipfile` alone (same compression), interleaved, BENCH_REPEATS pairs. Target ≤ 1.5×."""
    import shutil
    import zipfile

    storage = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    from config import normalise_database_url

    config = type("BenchConfig", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
                                                         "JOBS_MODE": "inline", "STORAGE_DIR": str(storage)})
    app = create_app(config)
    with app.app_context(), app.test_request_context():
        from flask_migrate import upgrade

        from app.assessment import package
        from app.assessment.criteria import load_criteria
        from app.catalogue.services import load_all
        from app.extensions import db

        upgrade()
        load_all()
        load_criteria()
        db.session.commit()
        campaign, mun = _package_region(db, storage)
        out = Path(tempfile.mkdtemp(prefix="bench-zip-"))
        result = package.build(campaign, mun, out / "probe.zip")
        # The same files: the stored documents from storage, the files the package makes (sheets, scores, audit
        # extract, manifests) as written by the probe run.
        stored = dict(_stored_sources(out / "probe.zip"))
        made = out / "made"
        sources = []
        with zipfile.ZipFile(out / "probe.zip") as probe:
            for name in probe.namelist():
                if name not in stored:
                    probe.extract(name, made)
                sources.append((stored.get(name) or made / name, name))
        size = sum(src.stat().st_size for src, _ in sources)
        print(f"package of one municipality: {len(sources)} files ({len(stored)} stored documents), "
              f"{size / 1e6:.1f} MB, {result.problems} left out")

        def ours():
            package.build(campaign, mun, out / "package.zip")
            db.session.rollback()

        def plain():
            with zipfile.ZipFile(out / "plain.zip", "w", compression=zipfile.ZIP_DEFLATED,
                                 compresslevel=package.COMPRESS_LEVEL) as zf:
                for src, name in sources:
                    zf.write(src, name)

        ratios, best_ours, best_plain = [], float("inf"), float("inf")
        for n in range(PACKAGE_REPEATS):
            # Each pair in alternating order, each side after a collection of the garbage left before it (the
            # setup's, the other side's): what is timed is the side's own work, its own collections included.
            times = {}
            for side in ((ours, plain) if n % 2 == 0 else (plain, ours)):
                gc.collect()
                started = time.perf_counter()
                side()
                times[side] = time.perf_counter() - started
            best_ours, best_plain = min(best_ours, times[ours]), min(best_plain, times[plain])
            ratios.append(times[ours] / times[plain])
        ratios.sort()
        print(f"evidence package best {best_ours * 1000:.1f} ms; zipfile alone best {best_plain * 1000:.1f} ms; "
              f"ratio of bests {best_ours / best_plain:.2f}×; median per-pair ratio {statistics.median(ratios):.2f}× "
              f"(quartiles {ratios[len(ratios) // 4]:.2f}–{ratios[(3 * len(ratios)) // 4]:.2f}×, "
              f"{len(ratios)} pairs; target ≤ 1.5×)")
        _package_memory(db, storage, out)
    # ≈ 50 MB of stored files and ZIPs per run (kept when the run fails, to look at).
    shutil.rmtree(storage, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)


def _stored_sources(zip_path: Path):
    """(path in the ZIP, stored path) of every packaged stored file, matched by the hash its manifest row gives."""
    import hashlib
    import json
    import zipfile

    from app.documents.storage import storage_root

    by_hash = {}
    for path in storage_root().rglob("*.docx"):
        by_hash[hashlib.sha256(path.read_bytes()).hexdigest()] = path
    with zipfile.ZipFile(zip_path) as archive:
        files = json.loads(archive.read("manifest.json"))["files"]
    return [(f["path"], by_hash[f["sha256"]]) for f in files if f["path"] and f["sha256"] in by_hash]


if __name__ == "__main__":
    package_bench() if "--package" in sys.argv[1:] else main()
