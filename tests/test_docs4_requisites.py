"""Requisites of the documents read as a records office reads them before signing (fourth PDF review, 6 December
2026): the date in a form ГОСТ Р 7.0.97-2016 knows."""

from app.core import russian as ru
from app.core.timeutil import format_date_long


def test_a_document_date_is_in_words_without_quotes_nor_a_leading_zero():
    # The registered orders printed «06» декабря 2026 г. (a hand-filled blank's form) above annex marks dated
    # 06.12.2026; ГОСТ Р 7.0.97-2016 (5.11) knows 06.12.2026 and 6 декабря 2026 г.
    from datetime import date

    from app.documents.contexts import fmt_date_long

    assert fmt_date_long(date(2026, 12, 6)) == "6 декабря 2026 г."
    assert format_date_long(date(2026, 12, 6)) == "6 декабря 2026 г."
    assert not hasattr(ru, "date_long")  # one form for documents, no second helper to pick by mistake
