"""History in words (issue 13): the audit log and the cycle histories of the seeded demo speak the workflows'
vocabulary — no state keys, field names, ids, Python reprs or ISO stamps — and the audit log's filtered extract
(CSV, XLSX) carries the chain hashes an auditor can check."""

import csv
import hashlib
import io
import re

import lxml.html
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.audit import labels
from app.audit.models import AuditEvent
from app.cycles.models import Cycle
from app.demo import DEMO_PASSWORD, USERS

DEMO_LOGINS = {u[0] for u in USERS}
RAW = {
    "snake_case": re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*_[a-z0-9_]+(?![\w.@/-])"),
    "latin word": re.compile(r"(?<![\w./@-])[a-z]{3,}(?![\w.@/-])"),
    "Python literal": re.compile(r"\b(None|True|False|null)\b"),
    "Python repr": re.compile(r"[\[{(]'|'[\]})]|\{\"|': "),
    "ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "bare id": re.compile(r"(?<!№ )\b(пользователь|организация|цикл|документ) \d+\b"),
}
# Literal data a reader needs as it is: web addresses, e-mails, checksums, the demo's logins.
VERBATIM = re.compile(r"https?://\S+|\S+@\S+|\b[0-9a-f]{32,}\b")


def page_text(html: str) -> str:
    doc = lxml.html.fromstring(html)
    main = doc.xpath("//main")[0]
    for node in main.xpath(".//script|.//style|.//select"):
        node.drop_tree()
    return "\n".join(t.strip() for t in main.itertext() if t.strip())


def raw_codes(text: str) -> list[tuple[str, str, str]]:
    found = []
    for line in text.splitlines():
        cleaned = VERBATIM.sub(" ", line)
        for kind, pattern in RAW.items():
            for match in pattern.finditer(cleaned):
                if match.group(0) in DEMO_LOGINS:
                    continue
                found.append((kind, match.group(0), line[:160]))
    return found


def next_page(html: str) -> str | None:
    links = lxml.html.fromstring(html).xpath("//a[@rel='next']/@href")
    return links[0] if links else None


def test_the_demos_whole_history_speaks_russian(demo, db_session, client):
    client.post("/login", data={"login": "admin", "password": DEMO_PASSWORD})
    pages, problems = [], []
    url = "/audit/"
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        pages.append(url)
        problems += [(url, *p) for p in raw_codes(page_text(html))]
        url = next_page(html)
    # Counted, not the highest id: PostgreSQL's sequence keeps the ids of earlier tests' rolled-back events.
    events = db_session.scalar(select(func.count()).select_from(AuditEvent))
    assert len(pages) >= events // 50, "the walk reached the oldest page of the log"
    for cycle_id in db_session.scalars(select(Cycle.id)):
        url = f"/cycles/{cycle_id}/history"
        response = client.get(url)
        assert response.status_code == 200, url
        problems += [(url, *p) for p in raw_codes(page_text(response.get_data(as_text=True)))]
    assert problems == [], "\n".join(" | ".join(p) for p in problems[:40])


def test_values_are_spoken_not_printed():
    names = {"measure": {3: ("«Семинар»", None)}, "user": {7: ("А.Б. Иванова", None)}}
    assert labels.value_text("decision", "findings", [], names) == "—"
    assert labels.value_text("stage", "responsible_id", 7, names) == "А.Б. Иванова"
    assert labels.value_text("stage", "responsible_id", 8, names) == "пользователь (нет в базе)"
    assert labels.value_text("stage", "deadline", "2027-01-18", names) == "18.01.2027"
    assert labels.value_text("indicator", "baseline", 47.3, names) == "47,3"
    assert labels.value_text("indicator_value", "value", "88.4000", names) == "88,4"
    assert labels.value_text("organisation", "remote", False, names) == "нет"
    assert labels.value_text("indicator", "direction", "down", names) == "чем меньше, тем лучше"
    assert labels.value_text("stage", "state", "on_review", names) == "на рассмотрении"


def test_changes_name_fields_and_states_by_their_workflow(app):
    event = AuditEvent(object_type="document", action="sign", before='{"state":"awaiting_signature"}',
                       after='{"state":"signed","type_key":"regulation","addressee_id":null}')
    with app.test_request_context():
        changes = labels.changes(event, {"document_type": {"regulation": ("Положение о МСОКО", None)}})
    assert ("состояние", "на подписи", "подписан") in changes
    assert ("вид документа", "—", "Положение о МСОКО") in changes
    assert all(not RAW["snake_case"].search(" ".join(c)) for c in changes)



def test_a_score_change_names_the_criterion_as_the_sheet_numbers_it(app):
    # the scores are recorded by criterion code: the history read «GOAL.1: — → 2» where the sheet says «1.1»
    event = AuditEvent(object_type="self_assessment", action="score_self", before='{"GOAL.1": [null], "IND.2": [1]}',
                       after='{"GOAL.1": [2, null], "IND.2": [0, "нет документа"]}')
    with app.test_request_context():
        fields = [field for field, _before, _after in labels.changes(event, {})]
    assert fields == ["критерий 1.1", "критерий 2.2"]


def test_score_changes_come_in_the_order_of_the_sheet_not_of_the_stored_codes(app):
    # the snapshot's keys are sorted for the hash: ANL.1 (block 5) came first, GOAL.1 (block 1) after MEAS (block 7)
    from app.audit.chain import to_json

    codes = ["GOAL.1", "GOAL.2", "IND.1", "METH.1", "MON.1", "ANL.1", "MEAS.1", "DEC.1", "EFF.1", "GOAL.10"]
    event = AuditEvent(object_type="expert_evaluation", action="score_expert", before="{}",
                       after=to_json({code: [0, None] for code in codes}))
    with app.test_request_context():
        fields = [field for field, _before, _after in labels.changes(event, {})]
    assert fields == ["критерий 1.1", "критерий 1.2", "критерий 1.10", "критерий 2.1", "критерий 3.1",
                      "критерий 4.1", "критерий 5.1", "критерий 7.1", "критерий 8.1", "критерий 9.1"]


def test_a_granted_role_names_its_organisation(demo, app):
    # the demo grants no role after its seed: an administrator's grant read «organisation: DEMO» in the history
    from app.audit.present import present
    from app.auth.models import User
    from app.auth.services import grant_role
    from app.orgs.models import Organisation

    admin = demo.scalars(select(User).where(User.login == "admin")).one()
    director = demo.scalars(select(User).where(User.login == "director")).one()
    region = demo.scalars(select(Organisation).where(Organisation.code == "DEMO")).one()
    grant_role(director, "auditor", region, actor=admin)
    event = demo.scalars(select(AuditEvent).where(AuditEvent.action == "grant_role")
                         .order_by(AuditEvent.id.desc())).first()
    with app.test_request_context():
        (row,) = present([event])
    assert ("организация", "—", region.display_name) in row.changes, row.changes


def test_changes_leave_the_transition_and_its_comment_to_their_own_columns(app):
    # «Состояние: на утверждении → возвращена» and «Комментарий: …» stood beside «состояние: … → …» and
    # «комментарий при возврате: … → …» in the changes of the same row.
    event = AuditEvent(object_type="expert_evaluation", action="return", from_state="on_approval",
                       to_state="returned", reason="Обоснуйте оценку",
                       before='{"state": "on_approval", "return_comment": null, "version": 3}',
                       after='{"state": "returned", "return_comment": "Обоснуйте оценку", "version": 4}')
    with app.test_request_context():
        assert labels.changes(event, {}) == []


# --- the extract ------------------------------------------------------------------------------------

def test_the_filtered_extract_carries_checkable_hashes(world, make_cycle, client, login, db_session):
    from tests.conftest import fill_goal
    cycle = make_cycle(world["mun"], world["official"])
    fill_goal(cycle, world["official"])
    db_session.commit()
    login(world["auditor"])

    response = client.get("/audit/export.csv?object=goal")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    header, data = rows[0], rows[1:]
    goals = db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "goal")).all()
    assert [int(r[0]) for r in data] == sorted(e.id for e in goals) and data
    content, prev_hash, own_hash = (header.index(h) for h in
                                    ("содержание для проверки (SHA-256)", "хеш предыдущей записи", "хеш записи"))
    for row in data:
        assert hashlib.sha256(row[content].encode("utf-8")).hexdigest() == row[own_hash]
        event = db_session.get(AuditEvent, int(row[0]))
        assert (row[prev_hash], row[own_hash]) == (event.prev_hash, event.hash)
        assert row[header.index("объект")].startswith("цель «")
        assert row[header.index("действие")] == "создание"

    response = client.get("/audit/export.xlsx?object=goal")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == "№ записи" and [r[0] for r in values[2:]] == [int(r[0]) for r in data]


def test_the_extract_keeps_to_the_users_scope(world, make_org, make_user, make_cycle, client, login, db_session):
    other = make_org("municipality", parent=world["region"])
    make_cycle(other, make_user("official", other))
    make_cycle(world["mun"], world["official"])
    db_session.commit()
    login(make_user("head", world["mun"]))
    response = client.get("/audit/export.csv?object=cycle")
    ids = [int(r[0]) for r in list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                                              delimiter=";"))[1:]]
    mine = db_session.scalars(select(AuditEvent.id).where(AuditEvent.object_type == "cycle",
                                                          AuditEvent.organisation_id == world["mun"].id)).all()
    assert sorted(ids) == sorted(mine) and ids


def test_the_extract_refuses_other_formats_and_bad_filters_are_dropped(world, client, login):
    login(world["auditor"])
    assert client.get("/audit/export.pdf").status_code == 404
    response = client.get("/audit/export.csv?actor=abc&cycle=-1")
    assert response.status_code == 200
