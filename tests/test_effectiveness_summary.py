"""The effectiveness report's sentence after its table (section 1): «из 1 показателя» agrees with its number, and a
cycle with no value to compare does not read «достигнуты по 0 из 9 показателей» — nine targets missed — in
the sentence and again in conclusion 3.1 (fourth PDF review, 6 December 2026)."""

import io
from pathlib import Path

from docx import Document
from sqlalchemy import select


TEMPLATE = Path(__file__).resolve().parent.parent / "document_templates" / "effectiveness_report.docx"


def _text(context) -> str:
    from app.documents import rendering

    data = rendering.render("effectiveness_report", context, template=TEMPLATE.read_bytes())
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_a_cycle_without_values_says_the_targets_could_not_be_assessed(demo):
    from app.cycles.models import Cycle
    from app.documents import contexts
    from app.effectiveness.services import indicator_rows

    cycle = next(c for c in demo.scalars(select(Cycle).order_by(Cycle.id))
                 if c.track.own_indicators and c.indicators and all(r.after is None for r in indicator_rows(c)))
    context = contexts.build_context("effectiveness_report", cycle.stage("EFF"))
    expected = (f"Достижение целевых значений оценить нельзя: нет принятых значений показателей за {cycle.period} "
                "учебный год.")
    assert context["report"]["summary"] == expected and context["conclusions"][0] == expected
    assert not any("Нет данных для оценки по показателям" in line for line in context["conclusions"])
    text = _text(context)
    assert expected in text and "достигнуты по 0" not in text


def test_one_indicator_agrees_with_its_number(app):
    from app.documents import template_admin

    context = template_admin.synthetic_context("effectiveness_report")
    context["report"] = {"intro": "—", "period": "2025/26", "achieved": 1, "total": 1,
                         "summary": "Целевые значения достигнуты по 1 из 1 показателя."}
    assert "Целевые значения достигнуты по 1 из 1 показателя." in _text(context)
    # the data of a report signed before the summary existed: its registered copy still says it
    del context["report"]["summary"]
    assert "Целевые значения достигнуты по 1 из 1 показателей." in _text(context)
