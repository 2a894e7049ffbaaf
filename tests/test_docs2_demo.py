"""The demo read as a records office reads it (review of 7 December 2026, second helper): the effectiveness report's
last conclusion a finding rather than a description of the report."""

import re

from sqlalchemy import select


def test_the_effectiveness_report_concludes_with_findings_not_a_description_of_itself(app, demo):
    from app.cycles.models import Stage

    for stage in demo.scalars(select(Stage).where(Stage.code == "EFF", Stage.summary.is_not(None))):
        # «Справка об эффективности принятых мер: сравнение значений показателей с целевыми, …» printed as 3.7
        assert not re.match(r"Справка", stage.summary), stage.summary


def test_no_demo_effectiveness_text_describes_the_report():
    from app import demo

    texts = [demo.SUMMARY["EFF"], demo.NEUTRAL_SUMMARY["EFF"]] + [
        own["EFF"] for own in demo.SUMMARY_BY_MECHANISM.values() if "EFF" in own]
    assert texts and not [t for t in texts if t.startswith(("Справка", "Аналитическая справка"))]
