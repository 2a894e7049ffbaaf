"""Issue 17 item 8: a create form sent twice (a double click, a resent request) creates one object. Every
rendered form carries a one-time token; the second POST with it gets the first one's redirect and changes
nothing. Each create form of the system is sent twice here with the token taken from its rendered page."""

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.test_access import (  # noqa: F401  (fixtures)
    FORM_ROUTES,
    build_path,
    changed_tables,
    client_for,
    db_state,
    school_b,
)

TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"')

# The GET-and-POST routes that create something (their edit twins are guarded by the optimistic lock).
CREATE_FORM_ROUTES = sorted(e for e in FORM_ROUTES if e.split(".")[1].startswith("new_"))


def form_token(html: str, action: str | None = None) -> str:
    """The token of the form posting to `action` (or of the page's only token-carrying form)."""
    if action is not None:
        forms = re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S)
        forms = [f for f in forms if f'action="{action}"' in f.split(">", 1)[0]]
        assert forms, f"no form posting to {action}"
        html = forms[0]
    found = [a or b for a, b in TOKEN.findall(html)]
    assert found, "the rendered form carries no form_token"
    return found[0]


def fresh(data: dict) -> dict:
    """The same form data with new file objects (a request consumes its upload streams)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, tuple) and hasattr(value[0], "read"):
            value[0].seek(0)
            value = (io.BytesIO(value[0].read()), value[1])
        out[key] = value
    return out


def without_tokens(state: dict) -> dict:
    return {k: v for k, v in state.items() if k != "form_submissions"}


def send_twice(client, path, data, token, db_session):
    first = client.post(path, data={**fresh(data), "form_token": token})
    assert first.status_code == 302, first.get_data(as_text=True)[:1000]
    after_first = without_tokens(db_state(db_session))
    second = client.post(path, data={**fresh(data), "form_token": token})
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert changed_tables(after_first, without_tokens(db_state(db_session))) == []
    return first, second


def test_every_create_form_route_is_covered():
    assert set(CREATE_FORM_ROUTES) >= {
        "auth.new_user", "cycles.new_cycle", "orgs.new_org", "monitoring.new_request", "imports.new_results",
        "imports.new_organisations", "followup.new_recommendation", "followup.new_measure", "followup.new_decision"}


@pytest.mark.parametrize("endpoint", CREATE_FORM_ROUTES + ["cycles.content_new"])
def test_a_create_form_sent_twice_creates_once(app, endpoint, world, school_b, client_for, db_session):  # noqa: F811
    actor, values, data = FORM_ROUTES[endpoint](school_b, world, db_session)
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    path = build_path(rule, values)
    client = client_for(world[actor])
    page = client.get(path)
    assert page.status_code == 200
    token = form_token(page.get_data(as_text=True))
    before = without_tokens(db_state(db_session))
    first, second = send_twice(client, path, data, token, db_session)
    assert changed_tables(before, without_tokens(db_state(db_session))) != []  # the first one did create
    followed = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Эта форма уже была отправлена" in followed


def test_each_rendering_gets_its_own_token_and_a_new_form_creates_again(app, world, school_b, client_for,  # noqa: F811
                                                                        db_session):
    from app.cycles.models import CollectionMethod

    actor, values, data = FORM_ROUTES["cycles.content_new"](school_b, world, db_session)
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == "cycles.content_new"]
    path = build_path(rule, values)
    client = client_for(world[actor])
    one = form_token(client.get(path).get_data(as_text=True))
    two = form_token(client.get(path).get_data(as_text=True))
    assert one != two
    count = db_session.scalar(select(func.count()).select_from(CollectionMethod))
    assert client.post(path, data={**data, "form_token": one}).status_code == 302
    assert client.post(path, data={**data, "form_token": one}).status_code == 302
    assert client.post(path, data={**data, "form_token": two}).status_code == 302
    assert db_session.scalar(select(func.count()).select_from(CollectionMethod)) == count + 2


def test_a_refused_post_keeps_the_token_usable(app, world, school_b, client_for, db_session):  # noqa: F811
    """A form sent back with errors is corrected and sent again with the same token: that one creates."""
    from app.cycles.models import CollectionMethod

    actor, values, data = FORM_ROUTES["cycles.content_new"](school_b, world, db_session)
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == "cycles.content_new"]
    path = build_path(rule, values)
    client = client_for(world[actor])
    token = form_token(client.get(path).get_data(as_text=True))
    count = db_session.scalar(select(func.count()).select_from(CollectionMethod))
    refused = client.post(path, data={**data, "source": "", "form_token": token})
    assert refused.status_code == 422
    assert form_token(refused.get_data(as_text=True)) == token  # the re-rendered form keeps its token
    assert client.post(path, data={**data, "form_token": token}).status_code == 302
    assert db_session.scalar(select(func.count()).select_from(CollectionMethod)) == count + 1


def test_another_users_token_is_refused(app, world, school_b, client_for, make_user, db_session):  # noqa: F811
    admin, values, data = FORM_ROUTES["orgs.new_org"](school_b, world, db_session)
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == "orgs.new_org"]
    path = build_path(rule, values)
    client = client_for(world[admin])
    token = form_token(client.get(path).get_data(as_text=True))
    assert client.post(path, data={**data, "form_token": token}).status_code == 302
    second_admin = make_user("admin", world["region"], login="admin2")
    db_session.commit()
    other = client_for(second_admin)
    before = without_tokens(db_state(db_session))
    response = other.post(path, data={**data, "code": "SCH-NEW2", "form_token": token})
    assert response.status_code == 400
    assert changed_tables(before, without_tokens(db_state(db_session))) == []


def test_forms_sharing_a_token_on_one_page_do_not_stand_in_for_each_other(app, world, client_for,  # noqa: F811
                                                                           db_session):
    """The catalogue page renders one track form object per mechanism: the same token, different addresses."""
    from app.catalogue.models import Mechanism, Track

    client = client_for(world["admin"])
    page = client.get(path_of(app, "catalogue.index")).get_data(as_text=True)
    mechanisms = db_session.scalars(select(Mechanism).order_by(Mechanism.id).limit(2)).all()
    actions = [path_of(app, "catalogue.add_track", mechanism_id=m.id) for m in mechanisms]
    tokens = [form_token(page, action=a) for a in actions]
    assert tokens[0] == tokens[1]
    count = db_session.scalar(select(func.count()).select_from(Track))
    for action in actions:
        response = client.post(action, data={"code": "dbl", "title": "Трек", "blocks": ["EFF"],
                                              "form_token": tokens[0]})
        assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Track)) == count + 2


# --- create forms rendered on another page (POST-only routes) ------------------------------------

def _day(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def path_of(app, endpoint, **values) -> str:
    (rule,) = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    return build_path(rule, values)


def test_stand_in_form_sent_twice_creates_once(app, world, school_b, client_for, db_session):  # noqa: F811
    from app.deadlines import standins
    from app.deadlines.models import StandIn

    director = world["director_b"]
    client = client_for(director)
    action = path_of(app, "deadlines.standin_create")
    token = form_token(client.get(path_of(app, "deadlines.standin_list")).get_data(as_text=True), action=action)
    deputy = standins.deputy_candidates(director)[0]
    data = {"deputy_id": str(deputy.id), "start": _day(90), "end": _day(100), "reason": "командировка"}
    count = db_session.scalar(select(func.count()).select_from(StandIn))
    send_twice(client, action, data, token, db_session)
    assert db_session.scalar(select(func.count()).select_from(StandIn)) == count + 1


def twice_from_page(app, client, page_endpoint, page_values, action_endpoint, action_values, data, db_session,
                    model):
    """Take the token from the page's form posting to the action, send it twice: one row more."""
    page = client.get(path_of(app, page_endpoint, **page_values))
    assert page.status_code == 200
    action = path_of(app, action_endpoint, **action_values)
    token = form_token(page.get_data(as_text=True), action=action)
    count = db_session.scalar(select(func.count()).select_from(model))
    send_twice(client, action, data, token, db_session)
    assert db_session.scalar(select(func.count()).select_from(model)) == count + 1


def test_catalogue_mechanism_and_track_forms(app, world, client_for, db_session):  # noqa: F811
    from app.catalogue.models import Mechanism, MechanismSet, Track

    client = client_for(world["admin"])
    mset = db_session.scalar(select(MechanismSet).where(MechanismSet.level == "municipal",
                                                        MechanismSet.active.is_(True)))
    twice_from_page(app, client, "catalogue.index", {}, "catalogue.add_mechanism", {"set_id": mset.id},
                    {"code": "MR.9", "title": "Поддержка сельских школ", "group": "региональные", "groups": ""},
                    db_session, Mechanism)
    mech = db_session.scalar(select(Mechanism).where(Mechanism.code == "MR.9"))
    twice_from_page(app, client, "catalogue.index", {}, "catalogue.add_track", {"mechanism_id": mech.id},
                    {"code": "rural", "title": "Малокомплектные школы", "blocks": ["EFF", "MEAS", "DEC"]},
                    db_session, Track)


def test_api_token_form(app, world, db_session):
    from app.api.models import ApiToken

    client = app.test_client()
    assert client.post("/login", data={"login": "official", "password": PASSWORD}).status_code == 302
    page = client.get(path_of(app, "tokens.token_list"))
    action = path_of(app, "tokens.issue_token")
    token = form_token(page.get_data(as_text=True), action=action)
    count = db_session.scalar(select(func.count()).select_from(ApiToken))
    headers = {"Referer": "http://localhost" + path_of(app, "tokens.token_list")}
    first = client.post(action, data={"name": "Выгрузка", "form_token": token}, headers=headers)
    assert first.status_code == 201
    second = client.post(action, data={"name": "Выгрузка", "form_token": token}, headers=headers)
    assert second.status_code == 302 and second.headers["Location"] == path_of(app, "tokens.token_list")
    assert db_session.scalar(select(func.count()).select_from(ApiToken)) == count + 1


def test_measure_attachment_form(app, world, school_b, client_for, db_session):  # noqa: F811
    from app.documents.models import Attachment

    measure_id = school_b.extra["measure_id"]
    client = client_for(world["director_b"])
    data = {"kind": "protocol", "file": (io.BytesIO(b"%PDF-1.4 protocol"), "protokol.pdf")}
    twice_from_page(app, client, "followup.measure_detail", {"measure_id": measure_id}, "followup.measure_attach",
                    {"measure_id": measure_id}, data, db_session, Attachment)


def test_document_generation_form(app, world, goal_stage, fake_generation, db_session):
    from app.documents.models import Document

    client = app.test_client()
    assert client.post("/login", data={"login": "official", "password": PASSWORD}).status_code == 302
    twice_from_page(app, client, "cycles.stage_detail", {"stage_id": goal_stage.id}, "documents.generate",
                    {"stage_id": goal_stage.id}, {"type_key": "regulation"}, db_session, Document)


def test_finding_form(app, world, anl_cycle, db_session):
    from app.analysis.models import Finding

    client = app.test_client()
    assert client.post("/login", data={"login": "official", "password": PASSWORD}).status_code == 302
    data = {"problem": "Доля «2» по математике выше региональной", "causes": "", "evidence": "Справка",
            "organisation_ids": [str(world["school_a"].id)], "analysis_run_id": "", "source_result_id": "",
            "version": ""}
    twice_from_page(app, client, "analysis.new_finding", {"cycle_id": anl_cycle.id}, "analysis.create_finding",
                    {"cycle_id": anl_cycle.id}, data, db_session, Finding)


def test_effectiveness_proposal_form(app, world, chain, db_session):
    from app.effectiveness.models import EffectivenessProposal

    client = app.test_client()
    assert client.post("/login", data={"login": "official", "password": PASSWORD}).status_code == 302
    twice_from_page(app, client, "effectiveness.evaluation", {"cycle_id": chain.cycle.id},
                    "effectiveness.new_proposal", {"cycle_id": chain.cycle.id},
                    {"kind": "goal", "text": "Новая цель на следующий период"}, db_session, EffectivenessProposal)


def test_template_upload_form(app, world, goal_stage, db_session):
    from app.documents.template_admin import TemplateVersion
    from tests.test_document_template_admin import edited

    client = app.test_client()
    assert client.post("/login", data={"login": "admin", "password": PASSWORD}).status_code == 302
    data = {"file": (io.BytesIO(edited("Проверка повторной отправки")), "regulation.docx")}
    twice_from_page(app, client, "documents.templates_type", {"template_type": "regulation"},
                    "documents.templates_upload", {"template_type": "regulation"}, data, db_session, TemplateVersion)


def test_log_in_page_still_signs_in_with_its_token(app, world, db_session):
    client = app.test_client()
    token = form_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"login": "head", "password": PASSWORD, "form_token": token})
    assert response.status_code == 302


def test_acknowledgement_sent_twice_at_once_answers_409_not_500(app, world, goal_stage, fake_generation, db_session,
                                                                monkeypatch):
    """«Ознакомлен» sent from two tabs at once: both requests pass the «already acknowledged?» check before either
    writes, and the second one's row meets the first one's unique key. Here the twin's row lands between the check
    and the write; the user gets the document page with a Russian message, not the 500 page."""
    from sqlalchemy import insert

    from app.documents import services
    from app.documents.models import Signature
    from app.extensions import db
    from tests.test_documents import _signed

    doc = _signed(world, goal_stage, db_session)
    version, official = doc.current, world["official"]
    twin = {"version_id": version.id, "signer_id": official.id, "signer_name": official.full_name,
            "signer_role": "official", "meaning": "ознакомлен", "file_sha256": version.sha256}
    reenter = services._reenter_password

    def twin_commits_meanwhile(*args, **kwargs):
        reenter(*args, **kwargs)
        db.session.execute(insert(Signature).values(**twin))

    monkeypatch.setattr(services, "_reenter_password", twin_commits_meanwhile)
    client = app.test_client()
    assert client.post("/login", data={"login": official.login, "password": PASSWORD}).status_code == 302
    response = client.post(f"/documents/versions/{version.id}/acknowledge", data={"password": PASSWORD})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Это действие только что выполнено или данные изменены другим запросом" in page
    assert doc.title in page  # the document's own page, not the error page
