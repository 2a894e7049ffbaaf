"""«Ознакомлен» on a signed document is its addressees' — the people of the organisation that issued it and those
above it. The regional expert assigned to evaluate a municipality reads its documents as evidence: the page offers
them no «Ознакомлен» and the service refuses it (the document workflow's ACKNOWLEDGERS rule); on their own region's
documents (the campaign's order appointing them) they are an addressee and keep it."""

from types import SimpleNamespace

import lxml.html
import pytest

from tests.access_cases.assessment import make_campaign
from tests.conftest import PASSWORD
from tests.test_documents import _signed


def _ack_buttons(response) -> list:
    page = lxml.html.fromstring(response.get_data(as_text=True))
    return page.xpath("//form[contains(@action, '/acknowledge')]")


def test_the_expert_evaluating_a_municipality_is_not_offered_its_acknowledgement(world, goal_stage, db_session,
                                                                                fake_generation, client_for):
    from app.core.errors import PermissionDenied
    from app.documents import services

    doc = _signed(world, goal_stage, db_session)
    make_campaign(world, db_session)
    db_session.commit()
    expert = world["expert"]
    assert "expert" in expert.roles_over(doc.organisation)  # assigned: the expert reads the municipality's documents

    client = client_for(expert)
    response = client.get(f"/documents/{doc.id}")
    assert response.status_code == 200 and not _ack_buttons(response)
    response = client.post(f"/documents/versions/{doc.current.id}/acknowledge", data={"password": PASSWORD})
    assert response.status_code == 403
    db_session.expire_all()
    assert not [s for s in doc.current.signatures if s.meaning == "ознакомлен"]
    with pytest.raises(PermissionDenied):
        services.acknowledge(doc.current, actor=expert, password=PASSWORD)
    db_session.rollback()

    # the municipality's own people still acknowledge it
    assert _ack_buttons(client_for(world["official"]).get(f"/documents/{doc.id}"))
    signature = services.acknowledge(doc.current, actor=world["official"], password=PASSWORD)
    assert signature.meaning == "ознакомлен"


def test_the_expert_acknowledges_the_documents_of_the_region_where_the_role_is_held(world):
    from workflows.document import ACKNOWLEDGERS

    own = SimpleNamespace(organisation=world["region"])
    assert ACKNOWLEDGERS(own, world["expert"]) == "expert"
    assert ACKNOWLEDGERS(own, world["auditor"]) is None
