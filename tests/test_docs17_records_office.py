"""Records-office review of the generated documents, 7 December 2026 (ГОСТ Р 7.0.97-2016), the loose ends the
earlier reviews (tests/test_docs*_records_office.py) left: the campaign order and report stated the levels of
formation as «средний — от 50 до 79 %», whole percents with a gap, while the conclusion and the report print shares
in tenths — a share of 79,5 % (средний by criteria.level_of) stood on no level the order named."""

import io
import re

from docx import Document as Docx
from docx.oxml.ns import qn

from tests.test_assessment_documents import camp, generated  # noqa: F401  (camp: the fixture)


def _words(data: bytes) -> str:
    body = Docx(io.BytesIO(data)).element.body
    # the no-break spaces the renderer glues «%» and short words with read as spaces here
    return re.sub(r"\s", " ", "".join(t.text or "" for t in body.iter(qn("w:t"))))


def test_the_campaign_order_states_the_levels_without_a_gap_between_them(camp, world, db_session):  # noqa: F811
    from app.assessment import documents
    from app.assessment.criteria import level_of
    from app.documents import storage

    campaign = camp["campaign"]
    thresholds = campaign.criteria_set.thresholds
    doc = generated(documents.generate_campaign_document(campaign, documents.ORDER, actor=camp["manager"]),
                    db_session)
    text = _words(storage.version_path(doc.current).read_bytes())
    high, medium, low = thresholds["high"], thresholds["medium"], thresholds["low"]
    stated = (f"высокий — не менее {high} % максимального балла, средний — не менее {medium} % и менее "
              f"{high} %, низкий — не менее {low} % и менее {medium} %, "
              f"не сформирован — менее {low} %")
    assert stated in text, text
    assert f"до {high - 1} %" not in text and f"до {medium - 1} %" not in text
    # the share just below a threshold, in the tenths the conclusion prints, is on the level the order names for it
    assert level_of(high - 0.5, thresholds) == "medium" and level_of(medium - 0.5, thresholds) == "low"
