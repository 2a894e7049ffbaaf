"""Three loose ends of the documents a records office signs: a refused «Сформировать» kept the typed «Приглашённые» in
the session cookie for the redirected page (a long list outgrew the cookie's 4 KB and was lost without a word); a
«Сформировать» posted without the form's one-time token made a new edition every time it was sent again; and the
deputy who signed an expert's conclusion for the expert left the expert's line undated in the registered copy."""

import io
import re
from datetime import date, timedelta

import lxml.html
from docx import Document as Docx
from docx.oxml.ns import qn

from app.documents.models import DocumentVersion
from tests.conftest import PASSWORD
from tests.test_assessment_documents import approve_a, camp, generated, register  # noqa: F401  (camp: the fixture)
from tests.test_docs16_protocol_invited import DIRECTOR, _count, _over, _protocol, dec_cycle  # noqa: F401


def _long_list() -> str:
    """About 6,000 characters: twenty good lines of nearly 300 characters and a last one without the dash."""
    lines = [f"Гость{n:02d} А.А. — " + f"методист отдела {n} " * 16 + "МКУ «ИМЦ»" for n in range(20)]
    lines = [line[:295] for line in lines] + ["Петров П.П. методист ИМЦ"]
    return "\n".join(lines)


def test_a_refused_generation_gives_a_long_invited_list_back_intact_without_the_cookie(dec_cycle, client, login,  # noqa: F811
                                                                                     world):
    stage = dec_cycle.stage("DEC")
    login(world["official"])
    typed = _long_list()
    assert 5800 < len(typed) < 6500
    response = client.post(f"/documents/stages/{stage.id}/generate", data={"type_key": "protocol", "invited": typed})
    # the stage page itself, not a redirect to it: what was typed is in the answer, not in the cookie
    assert response.status_code == 422
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.get_element_by_id("invited-protocol").text_content().replace("\r\n", "\n").strip("\n") == typed
    assert "Список приглашённых не принят, ничего не изменено." in response.get_data(as_text=True)
    assert all(len(c) < 4000 for c in response.headers.getlist("Set-Cookie"))
    assert _protocol(stage) is None
    # nothing waits for the next page: the stage page shows the box empty again
    box = lxml.html.fromstring(client.get(f"/stages/{stage.id}").get_data(as_text=True)).get_element_by_id(
        "invited-protocol")
    assert box.text_content().strip() == ""


def test_a_generation_posted_without_the_forms_token_makes_no_second_edition(dec_cycle, client, login, world,  # noqa: F811
                                                                             db_session):
    stage = dec_cycle.stage("DEC")
    login(world["official"])
    sent = {"type_key": "protocol", "invited": DIRECTOR}
    # the first one (a form of before the token) makes the document: nothing of it can be a repeat
    assert client.post(f"/documents/stages/{stage.id}/generate", data=sent).status_code == 302
    doc = _protocol(stage)
    _over(doc, db_session)
    versions = _count(DocumentVersion)
    for token in (None, "not a token"):
        data = sent if token is None else {**sent, "form_token": token}
        response = client.post(f"/documents/stages/{stage.id}/generate", data=data)
        text = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "без одноразового ключа формы" in text and "ничего не изменил" in text
        assert DIRECTOR.replace("«", "&laquo;") in text or DIRECTOR in text  # what was typed is in its box again
        assert _count(DocumentVersion) == versions
    db_session.refresh(doc)
    assert doc.current.number == 1
    # the form of the page (with its token) makes the next edition, once
    data = {**sent, "form_token": "a" * 32}
    assert client.post(f"/documents/stages/{stage.id}/generate", data=data).status_code == 302
    db_session.refresh(doc)
    assert doc.current.number == 2
    _over(doc, db_session)
    client.post(f"/documents/stages/{stage.id}/generate", data=data)
    assert _count(DocumentVersion) == versions + 1


def _words(data: bytes) -> str:
    body = Docx(io.BytesIO(data)).element.body
    return "".join(t.text or "" for t in body.iter(qn("w:t"))).replace("\u00a0", " ")


def test_a_deputy_signing_the_conclusion_for_the_expert_dates_the_experts_line(camp, world, make_user,  # noqa: F811
                                                                               db_session):
    """The expert is away; their deputy signs the conclusion for them. The registered copy named the deputy nowhere
    on the signature block and left the line undated, as if nobody had signed it."""
    from app.assessment import documents
    from app.core import russian as ru
    from app.deadlines.models import StandIn
    from app.documents import services, storage
    from app.documents.contexts import fmt_date_long
    from app.documents.registered import _day

    approve_a(camp, world, db_session)
    expert = camp["expert_a"]
    deputy = make_user("expert", world["region"], login="expert_deputy", full_name="Заменова Вера Петровна",
                       position="Заместитель начальника отдела оценки качества")
    db_session.add(StandIn(absent_id=expert.id, deputy_id=deputy.id, start_date=date.today() - timedelta(days=1),
                           end_date=date.today() + timedelta(days=10), reason="отпуск",
                           organisation_id=world["region"].id, created_by_id=camp["manager"].id))
    db_session.commit()
    doc = generated(documents.generate_conclusion(camp["campaign"], camp["mun_a"].id, actor=camp["manager"]),
                    db_session)
    services.transition(doc, "to_signature", actor=camp["manager"])
    services.sign_document(doc, actor=deputy, password=PASSWORD)
    db_session.commit()
    version = register(doc, camp["manager"], db_session)
    (signature,) = version.signatures
    assert signature.signer_id == deputy.id
    block = _words(storage.registered_path(version).read_bytes()).split("4. Рекомендации", 1)[1]
    signed_on = fmt_date_long(_day(version, signature.signed_at)).replace("\u00a0", " ")
    name = ru.initials_surname(deputy.full_name).replace("\u00a0", " ")
    # the deputy's position and name on the line they signed, dated the day they signed; no blank left to fill in
    assert re.search(re.escape(signature.signer_position) + r".*" + re.escape(name) + r".*" + re.escape(signed_on),
                     block), block
    assert "«___» ____________ 20___ г." not in block
    assert not re.search(r"\bза\s+" + re.escape(name), block)  # ГОСТ Р 7.0.97, п. 5.23: no «за»
