"""The executor mark (отметка об исполнителе) gives the executor's own phone; the issuer's phone only for someone who
works at the issuer. A regional expert without a phone got the ministry's phone as his own on the conclusion he signs
(«+7 (999) 263-42-04, expert@demo.example»): an expert is a teacher or methodologist of another organisation whose
role is held at the region for its reach, not a ministry employee."""

import io
import zipfile

from lxml import etree

from app.documents import lint, rendering
from app.documents.owned import build_owned_context
from tests.test_assessment_documents import approve_a, camp  # noqa: F401  (fixtures and the evaluation they need)

REGION_PHONE = "+7 (351) 263-42-04"  # camp's region phone


def _conclusion_row(camp):  # noqa: F811  (the fixture's name)
    from app.assessment.models import CampaignMunicipality
    from app.extensions import db

    return db.session.query(CampaignMunicipality).filter_by(
        campaign_id=camp["campaign"].id, municipality_id=camp["mun_a"].id).one()


def test_an_experts_conclusion_never_prints_the_regions_phone_as_the_experts(camp, world, db_session):  # noqa: F811
    approve_a(camp, world, db_session)
    expert = camp["expert_a"]
    expert.phone, expert.email = None, "expert@example.ru"
    db_session.flush()
    ctx = build_owned_context("expert_conclusion", _conclusion_row(camp))
    assert ctx["executor"]["name"] == expert.full_name
    assert ctx["executor"]["contact"] == "expert@example.ru"  # name and e-mail only: no one else's phone
    # with neither a phone nor an e-mail: the name alone, never a blank «тел. ______» a registered copy may not carry
    expert.email = None
    db_session.flush()
    contact = build_owned_context("expert_conclusion", _conclusion_row(camp))["executor"]["contact"]
    assert contact == "" and not lint.BLANK_REQUISITE.search(contact)
    # the expert's own phone is his
    expert.phone = "+7 (912) 000-11-22"
    db_session.flush()
    assert build_owned_context("expert_conclusion", _conclusion_row(camp))["executor"]["contact"] == expert.phone
    db_session.rollback()


def test_an_official_of_the_issuer_without_a_phone_gets_the_issuers_phone(camp, world, db_session):  # noqa: F811
    """The campaign's order, prepared by the region's official (its executor): the region's phone, the office's."""
    manager = camp["manager"]
    manager.phone, manager.email = None, "manager@example.ru"
    db_session.flush()
    ctx = build_owned_context("assessment_order", camp["campaign"])
    assert ctx["executor"]["name"] == manager.full_name
    assert ctx["executor"]["contact"] == f"{REGION_PHONE}, manager@example.ru"
    # an expert who is also the region's official works there: the region's phone
    approve_a(camp, world, db_session)
    expert = camp["expert_a"]
    from app.auth.models import RoleAssignment  # test-local: the model only this case needs

    db_session.add(RoleAssignment(user=expert, role="official", organisation=world["region"]))
    expert.phone, expert.email = None, None
    db_session.flush()
    assert build_owned_context("expert_conclusion", _conclusion_row(camp))["executor"]["contact"] == REGION_PHONE
    db_session.rollback()


def _mark_lines(data: bytes) -> list[str]:
    """The lines of the executor mark (the text box at the foot of the signature's page), empty ones too."""
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        body = etree.fromstring(package.read("word/document.xml"))
    box = body.find(".//w:txbxContent", ns)
    return ["".join(box_p.itertext()) for box_p in box.findall("w:p", ns)]


def test_an_executor_without_phone_or_email_leaves_no_empty_line_in_the_mark(camp, world, db_session):  # noqa: F811
    """The mark's text stands on the foot of the page: an empty contact line under the name lifted the name a line
    off it, a blank a records office returns."""
    approve_a(camp, world, db_session)
    expert = camp["expert_a"]
    expert.phone, expert.email = None, None
    db_session.flush()
    ctx = build_owned_context("expert_conclusion", _conclusion_row(camp))
    assert _mark_lines(rendering.render("expert_conclusion", ctx)) == [expert.full_name]
    expert.email = "expert@example.ru"
    db_session.flush()
    ctx = build_owned_context("expert_conclusion", _conclusion_row(camp))
    assert _mark_lines(rendering.render("expert_conclusion", ctx)) == [expert.full_name, "expert@example.ru"]
    db_session.rollback()
