"""The evidence package of the assessment (issue 16 item 10): the ZIP's manifest hashes match its files, a superseded
document stays as it was scored (or is refused with the reason when its stored bytes changed), the audit extract
verifies and a tampered one fails naming the row, download is scoped like the campaign, and the job shows progress
and fails without stranding its row — inline and in a real RQ worker on Redis."""

import csv
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from tests import services as test_services
from tests.access_cases.assessment import make_campaign
from tests.conftest import build_world, fill_goal, org_factory, user_factory
from tests.fixtures_documents import tiny_docx

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = test_services.own_redis_url(3)  # a Redis database of its own: flushed here


def _store(relative: str, data: bytes) -> str:
    from app.documents.storage import storage_root

    target = storage_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def registered_edition(doc, number: int, signer, approver, text: str):
    """A signed, registered edition of `doc` with its stored file, its registered copy, a visa and a signature."""
    from app.documents.models import DocumentApproval, DocumentVersion, Signature

    signed = tiny_docx(f"{text}: подписанная редакция {number}")
    copy = tiny_docx(f"{text}: зарегистрированный экземпляр {number}")
    signed_at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    version = DocumentVersion(number=number, status="done", signed=True, signed_at=signed_at,
                              registration_number=f"00{number}7/2026", registration_seq=number * 10 + 7,
                              registration_year=2026,
                              registration_date=date(2026, 3, number), registered_status="done",
                              stored_path=f"documents/{doc.id}/signed-{number}.docx",
                              registered_path=f"documents/{doc.id}/registered-{number}.docx")
    version.sha256 = _store(version.stored_path, signed)
    version.registered_sha256 = _store(version.registered_path, copy)
    version.approvals.append(DocumentApproval(round=1, position=1, role="methodologist",
                                              approver_id=approver.id, approver_name="Методистова Ольга",
                                              approver_position="методист", decision="approved",
                                              decided_at=datetime(2026, 3, 1, 9, tzinfo=timezone.utc)))
    version.signatures.append(Signature(signer_id=signer.id, signer_name=signer.full_name, signer_position="начальник",
                                        signer_role="head", meaning="утверждаю", file_sha256=version.sha256,
                                        signed_at=signed_at))
    doc.versions.append(version)
    return version


@pytest.fixture
def scored(world, make_cycle, db_session):
    """A published campaign over MUN (M1.1): a registered «Приказ об утверждении целей» standing as evidence, scored
    by the expert (its hash recorded then), and a file the coordinator attached."""
    from app.assessment import services
    from app.documents.models import Document

    campaign, manager, expert = make_campaign(world, db_session, mechanisms=("M1.1",))
    mun = world["mun"]
    cycle = make_cycle(mun, world["official"], mechanism="M1.1", period="2025/26")
    fill_goal(cycle, world["official"])
    doc = Document(cycle_id=cycle.id, stage_id=cycle.stage("GOAL").id, type_key="goals_order",
                   title="Приказ об утверждении целей", state="registered", created_by_id=world["official"].id)
    db_session.add(doc)
    db_session.flush()
    first = registered_edition(doc, 1, world["head"], world["methodologist"], "Цели")
    db_session.flush()
    assignment = services.assignment_for(campaign, mun.id, "M1.1")
    scores = services.scores_of(campaign, mun.id, "M1.1")
    services.save_expert_scores(assignment, actor=world["expert"], today=date.today(),
                                entries={scores[0].id: (1, "есть приказ", scores[0].version)})
    sa = services.self_assessment_for(campaign, mun.id, "M1.1")
    services.add_evidence(sa, actor=world["official"], criterion_id=scores[1].criterion_id, comment="протокол",
                          stream=io.BytesIO(b"%PDF-1.4 protocol"), filename="protokol.pdf")
    db_session.commit()
    return {"campaign": campaign, "doc": doc, "first": first, "assignment": assignment, "manager": manager}


def submit_self(world, campaign, db_session) -> None:
    """MUN's self-assessment of M1.1 scored (the proposed points) and submitted by its coordinator; committed."""
    from app.assessment import services

    sa = services.self_assessment_for(campaign, world["mun"].id, "M1.1")
    scores = services.scores_of(campaign, world["mun"].id, "M1.1")
    services.save_self_scores(sa, actor=world["official"], today=date.today(),
                              entries={s.id: (s.proposed_points or 0, None, s.version) for s in scores})
    services.transition_self(sa, "submit", actor=world["official"], today=date.today())
    db_session.commit()


def build_zip(campaign, municipality=None) -> zipfile.ZipFile:
    from app.assessment import package

    out = io.BytesIO()
    package.build(campaign, municipality, out)
    out.seek(0)
    return zipfile.ZipFile(out)


def manifest_of(archive: zipfile.ZipFile) -> dict:
    return json.loads(archive.read("manifest.json"))


def test_manifest_hashes_match_the_files_in_the_zip(world, scored, db_session, tmp_path):
    from app.assessment.models import EvidenceItem

    # The same edition recorded earlier for another criterion, before its registered copy existed: the signed file.
    first = scored["first"]
    item = db_session.scalar(select(EvidenceItem).where(EvidenceItem.document_version_id == first.id))
    other = next(c for c in scored["campaign"].criteria_set.criteria
                 if c.mechanism_code == "M1.1" and c.block == "GOAL" and c.id != item.criterion_id)
    db_session.add(EvidenceItem(campaign_id=item.campaign_id, municipality_id=item.municipality_id,
                                criterion_id=other.id, kind="document", document_id=item.document_id,
                                document_version_id=first.id, title=item.title, sha256=first.sha256))
    db_session.commit()
    archive = build_zip(scored["campaign"], world["mun"])
    # The ZIP itself (app.core.zipstream, written forwards): zipfile's CRC check and Info-ZIP's, a reader apart
    # from Python.
    assert archive.testzip() is None
    if shutil.which("unzip"):
        path = tmp_path / "package.zip"
        archive.fp.seek(0)
        path.write_bytes(archive.fp.read())
        done = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
        assert done.returncode == 0 and "No errors detected" in done.stdout, done.stdout + done.stderr
    manifest = manifest_of(archive)
    assert manifest["campaign"]["id"] == scored["campaign"].id
    assert manifest["municipality"] == {"code": "MUN", "name": world["mun"].name}
    files = manifest["files"]
    packaged = [f for f in files if f["path"]]
    # Every listed file is in the ZIP with the listed hash, and every file of the ZIP is listed (but the manifests).
    for f in packaged:
        assert hashlib.sha256(archive.read(f["path"])).hexdigest() == f["sha256"], f["path"]
    assert {f["path"] for f in packaged} == set(archive.namelist()) - {"manifest.json", "manifest.csv"}
    kinds = {f["kind"] for f in packaged}
    assert {"registered", "document", "sheets", "attachment", "scores", "audit"} <= kinds
    signed = next(f for f in files if f["kind"] == "document")
    assert signed["sha256"] == first.sha256 and signed["path"].endswith("-ред1-Приказ об утверждении целей-2.docx")
    evidence = next(f for f in files if f["kind"] == "registered")
    assert evidence["sha256"] == scored["first"].registered_sha256
    assert evidence["registration"] == "№ 0017/2026 от 01.03.2026"
    assert evidence["signer"] and evidence["criterion"].startswith("M1.1 ")
    assert evidence["path"].startswith("MUN/M1.1/GOAL/") and evidence["status"] == "ok"
    # The approval and signature sheets carry the visa and the registration stamp.
    sheets = archive.read(next(f["path"] for f in files if f["kind"] == "sheets")).decode("utf-8-sig")
    assert "Лист согласования;методист;О. Методистова;согласовано;01.03.2026" in sheets
    assert "Регистрационный номер;0017/2026" in sheets
    # manifest.csv: the same rows for people, UTF-8 with BOM and «;» like the other CSV exports.
    raw = archive.read("manifest.csv")
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [(r["path"], r["sha256"]) for r in rows] == [(f["path"] or "", f["sha256"] or "") for f in files]
    # The scores: one row per criterion of the municipality, with the expert's point.
    scores = list(csv.DictReader(io.StringIO(archive.read("scores.csv").decode("utf-8-sig")), delimiter=";"))
    assert scores[0]["municipality"] == "MUN" and scores[0]["expert"] == "1"
    assert list(scores[0]) == ["municipality", "municipality_name", "mechanism", "block", "criterion", "proposed",
                               "self", "expert", "level"]


def test_files_above_the_in_memory_size_are_hashed_then_streamed_with_the_same_result(world, scored, monkeypatch):
    from app.assessment import package

    whole = build_zip(scored["campaign"], world["mun"])
    monkeypatch.setattr(package, "WHOLE_FILE", 0)  # every stored file takes the streamed path
    monkeypatch.setattr(package, "CHUNK", 7)  # in many pieces
    streamed = build_zip(scored["campaign"], world["mun"])
    assert streamed.testzip() is None
    files = [f for f in manifest_of(streamed)["files"] if f["path"]]
    assert [(f["path"], f["sha256"]) for f in files] == \
        [(f["path"], f["sha256"]) for f in manifest_of(whole)["files"] if f["path"]]
    for f in files:
        assert hashlib.sha256(streamed.read(f["path"])).hexdigest() == f["sha256"], f["path"]


def test_a_superseded_document_keeps_its_scored_hash_and_changed_bytes_are_not_packaged(world, scored, db_session):
    from app.assessment import services
    from app.documents.storage import registered_path

    doc, first = scored["doc"], scored["first"]
    second = registered_edition(doc, 2, world["head"], world["methodologist"], "Цели, новая редакция")
    first.superseded_at = datetime(2026, 4, 1, tzinfo=timezone.utc)
    db_session.flush()
    services.record_evidence(scored["campaign"], world["mun"].id, "M1.1")  # a later scoring records edition 2 too
    db_session.commit()
    archive = build_zip(scored["campaign"], world["mun"])
    files = manifest_of(archive)["files"]
    documents = {f["sha256"]: f for f in files if f["kind"] == "registered"}
    assert first.registered_sha256 in documents and second.registered_sha256 in documents
    old = documents[first.registered_sha256]
    assert archive.read(old["path"]) == registered_path(first).read_bytes()
    assert "-ред1-" in old["path"] and "-ред2-" in documents[second.registered_sha256]["path"]

    # The stored bytes of the scored edition change: the file is left out and the manifest says why.
    registered_path(first).write_bytes(tiny_docx("подменённый файл"))
    archive = build_zip(scored["campaign"], world["mun"])
    row = next(f for f in manifest_of(archive)["files"] if f["sha256"] == first.registered_sha256)
    assert row["path"] is None and row["status"] == "mismatch"
    assert "не совпадает" in row["note"] and row["stored_sha256"] != first.registered_sha256
    assert not any("-ред1-" in name and name.endswith(".docx") for name in archive.namelist())


def _extract(archive, tmp_path) -> Path:
    path = tmp_path / "audit.csv"
    path.write_bytes(archive.read("audit.csv"))
    return path


def test_the_audit_extract_verifies_and_a_tampered_one_fails_with_its_row(app, world, scored, tmp_path):
    from app.audit import chain
    from app.audit.models import AuditEvent
    from app.extensions import db

    # An event of the evidence document, and one of a document that is no evidence (not in the extract).
    involved = chain.record(action="update", object_type="document", object_id=scored["doc"].id,
                            organisation_id=world["mun"].id)
    other = chain.record(action="update", object_type="document", object_id=scored["doc"].id + 1000,
                         organisation_id=world["mun"].id)
    db.session.commit()
    archive = build_zip(scored["campaign"], world["mun"])
    path = _extract(archive, tmp_path)
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    ids = [int(r[0]) for r in rows[1:]]
    # The events of the objects involved: the campaign, the self-assessment, the evaluation and the document.
    types = set(db.session.scalars(select(AuditEvent.object_type).where(AuditEvent.id.in_(ids))))
    assert {"assessment_campaign", "self_assessment", "expert_evaluation", "document"} <= types
    assert involved.id in ids and other.id not in ids
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify-extract", str(path)])
    assert result.exit_code == 0, result.output
    assert f"проверено записей {len(ids)}" in result.output

    # One character of the third record's hashed content changed: that row is named, exit 1.
    tampered = [list(r) for r in rows]
    tampered[3][13] = tampered[3][13].replace('"action":"', '"action":"x', 1)
    bad = tmp_path / "tampered.csv"
    with open(bad, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(tampered)
    result = runner.invoke(args=["audit", "verify-extract", str(bad)])
    assert result.exit_code == 1
    assert f"строка 4 (запись № {tampered[3][0]})" in result.output and "хеш записи не совпадает" in result.output

    # The content and its hash rewritten together: the next row's link to it breaks.
    linked = next(i for i in range(2, len(rows)) if rows[i][14] == rows[i - 1][15])
    forged = [list(r) for r in rows]
    forged[linked - 1][13] = forged[linked - 1][13].replace('"action":"', '"action":"y', 1)
    forged[linked - 1][15] = hashlib.sha256(forged[linked - 1][13].encode()).hexdigest()
    with open(bad, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(forged)
    result = runner.invoke(args=["audit", "verify-extract", str(bad), "--database"])
    assert result.exit_code == 1 and f"строка {linked}" in result.output

    not_an_extract = tmp_path / "other.csv"
    not_an_extract.write_text("a;b\n1;2\n", encoding="utf-8")
    result = runner.invoke(args=["audit", "verify-extract", str(not_an_extract)])
    assert result.exit_code == 1 and "не выписка журнала аудита" in result.output
    result = runner.invoke(args=["audit", "verify-extract", str(tmp_path / "нет.csv")])
    assert result.exit_code == 1 and "не найден" in result.output


def test_download_is_scoped_an_unassigned_expert_gets_404(world, scored, make_user, make_org, client_for,
                                                         db_session):
    from app.assessment import package, services

    campaign = scored["campaign"]
    outsider = make_user("expert", world["region"], login="expert_other", full_name="Сторонний Эксперт Петрович")
    mun2 = make_org("municipality", parent=world["region"], code="MUN2", name="Другой муниципалитет")
    official2 = make_user("official", mun2, login="official_mun2")
    submit_self(world, campaign, db_session)  # an expert takes the package once the self-assessment is submitted
    row, _ = package.request_package(campaign, services.scope_of(campaign, world["auditor"]), actor=world["auditor"],
                                     municipality_id=world["mun"].id)
    db_session.commit()
    from app.jobs.queue import dispatch_ready

    dispatch_ready()
    db_session.refresh(row)
    assert row.status == "done"
    urls = [f"/assessment/campaigns/{campaign.id}/packages", f"/assessment/packages/{row.id}",
            f"/assessment/packages/{row.id}/download"]
    for user in (outsider, official2, world["director_a"]):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code in (403, 404), (user.login, url)
        assert client.post(urls[0] + "/request", data={"municipality_id": str(world["mun"].id)}).status_code \
            in (403, 404)
    # The assigned expert downloads it; the archive is the stored one.
    expert = client_for(world["expert"])
    response = expert.get(urls[2])
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert hashlib.sha256(response.get_data()).hexdigest() == row.sha256
    # The whole campaign's package is only for those who read all of it: not the expert, but the auditor.
    count = db_session.scalar(select(package.EvidencePackage.id).order_by(package.EvidencePackage.id.desc()))
    assert expert.post(urls[0] + "/request", data={"municipality_id": ""}).status_code == 404
    assert db_session.scalar(select(package.EvidencePackage.id).order_by(package.EvidencePackage.id.desc())) == count
    auditor = client_for(world["auditor"])
    response = auditor.post(urls[0] + "/request", data={"municipality_id": ""})
    assert response.status_code == 303
    whole = db_session.scalar(select(package.EvidencePackage).order_by(package.EvidencePackage.id.desc()))
    assert whole.municipality_id is None and whole.status == "done"
    page = auditor.get(f"/assessment/packages/{whole.id}").get_data(as_text=True)
    assert "вся кампания" in page and whole.sha256 in page
    # The campaign page has the button; the packages page lists both.
    assert f"/assessment/campaigns/{campaign.id}/packages" in expert.get(f"/assessment/campaigns/{campaign.id}") \
        .get_data(as_text=True)
    assert str(whole.id) in auditor.get(urls[0]).get_data(as_text=True)


def test_a_package_built_before_a_side_was_sent_on_is_not_given_to_who_reads_that_side_only_once_sent(
        world, scored, client_for, db_session):
    """The package holds the scores as they stood when it was built: one the auditor built while the self-assessment
    was a draft is not the expert's, nor after the coordinator submitted it (the draft is still inside); one built
    after it is. The coordinator likewise does not take a package holding the expert's unsent points."""
    from app.assessment import package, services
    from app.audit.models import AuditEvent
    from app.jobs.queue import dispatch_ready

    campaign = scored["campaign"]

    def built_for(user):
        row, _ = package.request_package(campaign, services.scope_of(campaign, user), actor=user,
                                         municipality_id=world["mun"].id)
        db_session.commit()
        dispatch_ready()
        db_session.refresh(row)
        assert row.status == "done"
        return row

    def downloads():
        return db_session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "download"))

    expert, coordinator = client_for(world["expert"]), client_for(world["official"])
    early = built_for(world["auditor"])  # the self-assessment is a draft, the expert's evaluation too
    response = expert.get(f"/assessment/packages/{early.id}/download")
    assert response.status_code == 422 and response.mimetype != "application/zip"
    assert "самооценка по механизму M1.1 ещё не представлена" in response.get_data(as_text=True)
    response = coordinator.get(f"/assessment/packages/{early.id}/download")
    assert response.status_code == 422
    assert "экспертная оценка по механизму M1.1 ещё не направлена" in response.get_data(as_text=True)
    assert downloads() == 0

    submit_self(world, campaign, db_session)
    response = expert.get(f"/assessment/packages/{early.id}/download")
    assert response.status_code == 422
    assert "представил после того, как пакет был запрошен" in response.get_data(as_text=True)
    # Built after the submission, the expert takes it (and the readers of the whole campaign any package).
    later = built_for(world["expert"])
    assert expert.get(f"/assessment/packages/{later.id}/download").status_code == 200
    assert client_for(world["auditor"]).get(f"/assessment/packages/{later.id}/download").status_code == 200

    # The expert's evaluation, sent for approval: the coordinator takes a package built after that, not before.
    assignment = scored["assignment"]
    scores = services.scores_of(campaign, world["mun"].id, "M1.1")
    services.save_expert_scores(assignment, actor=world["expert"], today=date.today(),
                                entries={s.id: (s.self_points, None, s.version) for s in scores})
    services.transition_evaluation(assignment, "submit", actor=world["expert"], today=date.today())
    db_session.commit()
    response = coordinator.get(f"/assessment/packages/{later.id}/download")
    assert response.status_code == 422 and "направил после того" in response.get_data(as_text=True)
    assert coordinator.get(f"/assessment/packages/{built_for(world['official']).id}/download").status_code == 200


def test_the_job_reports_progress_and_a_failure_leaves_no_stranded_row_nor_file(world, scored, db_session,
                                                                                  monkeypatch):
    from app.assessment import package, services
    from app.documents.storage import storage_root
    from app.jobs import progress as progress_module
    from app.jobs.queue import dispatch_ready

    seen = []
    original = progress_module.Progress.set

    def record(self, percent, *, force=False):
        seen.append(int(percent))
        return original(self, percent, force=force)

    monkeypatch.setattr(progress_module.Progress, "set", record)
    campaign = scored["campaign"]
    scope = services.scope_of(campaign, world["auditor"])
    row, _ = package.request_package(campaign, scope, actor=world["auditor"], municipality_id=str(world["mun"].id))
    db_session.commit()
    assert row.status == "queued"
    dispatch_ready()
    db_session.refresh(row)
    assert (row.status, row.progress, row.problems) == ("done", 100, 0)
    assert seen == sorted(seen) and seen[-1] == 99 and len(set(seen)) >= 3
    assert package.package_path(row).is_file()

    # The build crashes half-way: the row fails with the Russian reason, the partial ZIP is gone.
    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(package, "_stream_csv", crash)
    before = sorted(p.name for p in (storage_root() / f"assessment/packages/{campaign.id}").iterdir())
    failed, _ = package.request_package(campaign, scope, actor=world["auditor"], municipality_id=str(world["mun"].id))
    db_session.commit()
    dispatch_ready()
    db_session.refresh(failed)
    assert (failed.status, failed.message, failed.path, failed.sha256) == ("failed", package.INTERNAL_ERROR, None,
                                                                           None)
    assert failed.finished_at is not None
    assert sorted(p.name for p in (storage_root() / f"assessment/packages/{campaign.id}").iterdir()) == before
    assert db_session.scalar(select(package.EvidencePackage.id).where(
        package.EvidencePackage.status.in_(("queued", "running")))) is None


def test_requesting_and_downloading_a_package_are_audited(world, scored, client_for, db_session):
    from app.assessment import package
    from app.audit import labels
    from app.audit.chain import verify
    from app.audit.models import AuditEvent

    campaign = scored["campaign"]
    auditor = client_for(world["auditor"])
    assert auditor.post(f"/assessment/campaigns/{campaign.id}/packages/request",
                        data={"municipality_id": str(world["mun"].id)}).status_code == 303
    row = db_session.scalar(select(package.EvidencePackage).order_by(package.EvidencePackage.id.desc()))
    assert row.status == "done"

    def events():
        return db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "assessment_package",
                                                           AuditEvent.object_id == row.id)
                                  .order_by(AuditEvent.id)).all()
    requested, = events()
    assert (requested.action, requested.actor_id, requested.organisation_id) == ("request", world["auditor"].id,
                                                                                 world["mun"].id)
    assert json.loads(requested.after)["municipality_id"] == world["mun"].id
    response = auditor.get(f"/assessment/packages/{row.id}/download")
    assert response.status_code == 200
    db_session.expire_all()
    downloaded = events()[-1]
    assert (downloaded.action, downloaded.actor_id) == ("download", world["auditor"].id)
    assert json.loads(downloaded.after)["sha256"] == row.sha256 == hashlib.sha256(response.get_data()).hexdigest()
    # The history names them in words, and the chain still verifies.
    assert [labels.action_label(e.action, e.object_type) for e in (requested, downloaded)] == [
        "запрошен пакет доказательств", "пакет доказательств скачан"]
    assert labels.OBJECTS["assessment_package"] == "пакет доказательств"
    assert verify().ok
    # Refused: a package not built yet — 404 with the reason, no download event.
    pending = package.EvidencePackage(campaign_id=campaign.id, municipality_id=world["mun"].id, status="running")
    db_session.add(pending)
    db_session.commit()
    assert auditor.get(f"/assessment/packages/{pending.id}/download").status_code == 404
    assert db_session.scalar(select(AuditEvent.id).where(AuditEvent.object_type == "assessment_package",
                                                         AuditEvent.object_id == pending.id)) is None


def test_a_newer_package_deletes_the_files_of_older_ones_of_its_scope(world, scored, client_for, db_session, app):
    from app.assessment import package, services
    from app.jobs.queue import dispatch_ready

    campaign = scored["campaign"]
    scope = services.scope_of(campaign, world["auditor"])

    def built(municipality_id):
        row, _ = package.request_package(campaign, scope, actor=world["auditor"], municipality_id=municipality_id)
        db_session.commit()
        dispatch_ready()
        db_session.refresh(row)
        assert row.status == "done"
        return row

    first, whole = built(str(world["mun"].id)), built("")
    first_file = package.package_path(first)
    second = built(str(world["mun"].id))
    db_session.expire_all()
    # The newer package of the same municipality supersedes the older one: its file is gone, its row stays and
    # says why; the whole campaign's package (another scope) keeps its file.
    assert not first_file.exists() and first.path is None and first.sha256
    assert f"собран более новый пакет № {second.id}" in first.message
    assert package.package_path(second).is_file() and package.package_path(whole).is_file()
    # The new ZIP is whole: its recorded hash is its file's, and every member reads back.
    data = package.package_path(second).read_bytes()
    assert hashlib.sha256(data).hexdigest() == second.sha256 and len(data) == second.size
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    auditor = client_for(world["auditor"])
    response = auditor.get(f"/assessment/packages/{first.id}/download")
    assert response.status_code == 404 and "более новый пакет" in response.get_data(as_text=True)
    assert "файл удалён" in auditor.get(f"/assessment/campaigns/{campaign.id}/packages").get_data(as_text=True)
    # Keeping two: the next one deletes nothing of the last two.
    app.config["ASSESSMENT_PACKAGES_KEEP"] = 2
    try:
        third = built(str(world["mun"].id))
    finally:
        app.config["ASSESSMENT_PACKAGES_KEEP"] = 1
    db_session.expire_all()
    assert package.package_path(second).is_file() and package.package_path(third).is_file()


def test_a_package_whose_job_died_is_failed_by_the_reconciler(world, scored, db_session, app, monkeypatch):
    from app.assessment import package
    from app.jobs.tracked import reconcile_all

    row = package.EvidencePackage(campaign_id=scored["campaign"].id, municipality_id=world["mun"].id,
                                  status="running", created_at=datetime(2020, 1, 1, tzinfo=timezone.utc))
    db_session.add(row)
    db_session.commit()
    outcome = reconcile_all(["assessment_package"])["assessment_package"]
    assert outcome.failed == [row.id]
    db_session.refresh(row)
    assert (row.status, row.message) == ("failed", package.LOST)


def test_a_second_request_for_a_package_being_built_joins_it_and_a_dead_build_blocks_nothing(
        world, scored, client_for, db_session, monkeypatch):
    """«Сформировать» clicked again (or by a script) while the same package was queued or being built queued another
    build each time. A request now joins the build under way and says so, with its state; a change of what the
    package holds since then (a score saved) starts a new one, and a build whose job died is failed, not joined."""
    from app.assessment import jobs, package
    from app.jobs.queue import job

    campaign, mun = scored["campaign"], world["mun"]
    built = []  # the jobs run (inline here): none of them builds, so the row stays queued, as behind a busy worker
    monkeypatch.setattr(jobs, "build_package", job(queue="documents")(lambda package_id: built.append(package_id)))
    auditor = client_for(world["auditor"])
    url = f"/assessment/campaigns/{campaign.id}/packages/request"

    def request() -> tuple[str, str]:
        response = auditor.post(url, data={"municipality_id": str(mun.id)})
        assert response.status_code == 303
        page = auditor.get(response.headers["Location"]).get_data(as_text=True)
        return response.headers["Location"], " ".join(page.split())

    def rows() -> list:
        db_session.expire_all()
        return db_session.scalars(select(package.EvidencePackage).order_by(package.EvidencePackage.id)).all()

    where, page = request()
    (first,) = rows()
    assert where.endswith(f"/assessment/packages/{first.id}") and "поставлен в очередь" in page
    assert built == [first.id]
    where, page = request()
    assert where.endswith(f"/assessment/packages/{first.id}") and rows() == [first] and built == [first.id]
    assert (f"Пакет доказательств № {first.id} с теми же данными уже формируется (в очереди): новая сборка не "
            "запущена") in page
    first.status, first.progress = "running", 40  # a worker took it
    db_session.commit()
    assert "уже формируется (собирается, готово 40 %)" in request()[1] and len(rows()) == 1

    # What the package holds changed since it was requested: a new build, from the scores as they are now.
    submit_self(world, campaign, db_session)
    where, _ = request()
    first, second = rows()
    assert where.endswith(f"/assessment/packages/{second.id}") and built == [first.id, second.id]
    # The second one's job died (no worker took it back within twice its timeout): it is failed, not joined.
    second.created_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    db_session.commit()
    where, page = request()
    _, second, third = rows()
    assert (second.status, second.message) == ("failed", package.LOST)
    assert where.endswith(f"/assessment/packages/{third.id}") and built[-1] == third.id and "поставлен" in page
    # The whole campaign's package is another package: not joined to a municipality's; asked for again, joined.
    for _ in range(2):
        assert auditor.post(url, data={"municipality_id": ""}).headers["Location"].endswith(
            f"/assessment/packages/{third.id + 1}")
    assert len(rows()) == 4


# --- a real RQ worker on Redis ---------------------------------------------------------------------------------

@pytest.mark.redis
def test_packages_are_built_by_a_real_rq_worker_and_a_failed_build_is_recorded(tmp_path):
    test_services.require_redis()
    from app.assessment import package, services
    from app.catalogue.services import load_all
    from app.extensions import db
    from app.jobs import queue
    from tests.test_imports_jobs import dispose

    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import make_config

    url = test_services.scratch_database("assess_test_rq", tmp_path)
    storage = tmp_path / "storage"
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    app = create_app(make_config(url, JOBS_MODE="rq", REDIS_URL=REDIS_URL, STORAGE_DIR=str(storage)))
    env = {"REDIS_URL": REDIS_URL, "JOBS_MODE": "rq", "PYTHONPATH": str(ROOT)}
    try:
        with app.app_context():
            upgrade()
            load_all()
            world = build_world(org_factory, user_factory)
            campaign, _manager, _expert = make_campaign(world, db.session)
            db.session.commit()
            with app.test_request_context():
                scope = services.scope_of(campaign, world["auditor"])
                broken, _ = package.request_package(campaign, scope, actor=world["auditor"],
                                                    municipality_id=world["mun"].id)
                db.session.commit()
                queue.dispatch_ready()
                broken_id = broken.id
            # The worker's storage is not a directory: the build fails, the row says so, RQ keeps the failed job.
            not_a_dir = tmp_path / "not-a-directory"
            not_a_dir.write_text("x")
            worker = test_services.run_flask(["jobs", "worker", "--burst"], url, STORAGE_DIR=str(not_a_dir), **env)
            assert worker.returncode == 0, worker.stderr
            db.session.expire_all()
            broken = db.session.get(package.EvidencePackage, broken_id)
            assert (broken.status, broken.message) == ("failed", package.INTERNAL_ERROR)
            assert queue.get_queue("documents").failed_job_registry.get_job_ids() == [f"assessment_package-{broken_id}"]

            with app.test_request_context():
                good, _ = package.request_package(campaign, scope, actor=world["auditor"], municipality_id=None)
                db.session.commit()
                queue.dispatch_ready()
                good_id = good.id
            worker = test_services.run_flask(["jobs", "worker", "--burst"], url, STORAGE_DIR=str(storage), **env)
            assert worker.returncode == 0, worker.stderr
            db.session.expire_all()
            good = db.session.get(package.EvidencePackage, good_id)
            assert (good.status, good.progress) == ("done", 100), good.message
            data = package.package_path(good).read_bytes()
            assert hashlib.sha256(data).hexdigest() == good.sha256
            archive = zipfile.ZipFile(io.BytesIO(data))
            manifest = manifest_of(archive)
            assert manifest["municipality"] is None and manifest["municipalities"] == [
                {"code": "MUN", "name": "Тестовый муниципалитет"}]
            for f in manifest["files"]:
                if f["path"]:
                    assert hashlib.sha256(archive.read(f["path"])).hexdigest() == f["sha256"]
            assert not list(storage.rglob(".package-*"))
    finally:
        dispose(app)
        connection.flushdb()


@pytest.mark.parametrize("municipality", ["MUN", None])
def test_flask_assessment_export_writes_a_sound_zip(app, world, scored, tmp_path, municipality):
    """The CLI's package (a municipality's, and the whole campaign's) to a file: zipfile's CRC check passes and
    every listed file has its listed hash."""
    path = tmp_path / "package.zip"
    args = ["assessment", "export", str(scored["campaign"].id), "--out", str(path)]
    result = app.test_cli_runner().invoke(args=args + (["--municipality", municipality] if municipality else []))
    assert result.exit_code == 0, result.output
    assert "Пакет доказательств записан" in result.output
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        manifest = manifest_of(archive)
        assert manifest["municipality"] == ({"code": "MUN", "name": world["mun"].name} if municipality else None)
        assert [m["code"] for m in manifest["municipalities"]] == ["MUN"]
        for f in manifest["files"]:
            if f["path"]:
                assert hashlib.sha256(archive.read(f["path"])).hexdigest() == f["sha256"], f["path"]
        assert {"scores", "audit", "registered"} <= {f["kind"] for f in manifest["files"]}


def test_sheets_of_a_zoneless_issuer_are_dated_in_its_regions_zone(world, scored, db_session):
    """A municipality without a time zone of its own works in its region's (org_time_zone): a visa given at 19:30
    UTC on 1 March is 2 March in Yekaterinburg, and the package's sheet says so — as the registered copy and the
    deadlines do, not the application's Moscow day."""
    from app.documents.models import DocumentApproval

    world["mun"].timezone = None
    world["region"].timezone = "Asia/Yekaterinburg"
    visa = db_session.scalar(select(DocumentApproval).where(DocumentApproval.version_id == scored["first"].id))
    visa.decided_at = datetime(2026, 3, 1, 19, 30, tzinfo=timezone.utc)
    db_session.commit()
    archive = build_zip(scored["campaign"], world["mun"])
    files = manifest_of(archive)["files"]
    sheets = archive.read(next(f["path"] for f in files if f["kind"] == "sheets")).decode("utf-8-sig")
    assert "Лист согласования;методист;О. Методистова;согласовано;02.03.2026" in sheets
