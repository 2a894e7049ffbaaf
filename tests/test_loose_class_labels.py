"""A class label typed with Latin letters that look Cyrillic («8A», «8a») is the class «8А»: the results import stores
it in Cyrillic, so one class is one class in the analysis, and the same rows typed either way change nothing."""

from sqlalchemy import select

from tests.test_imports import import_results, result_row, results_csv, run_file, uploads  # noqa: F401


def test_latin_lookalike_letters_of_a_class_label_are_stored_cyrillic(import_results, db_session):  # noqa: F811
    from app.imports.models import AssessmentResult

    # the first row of a work goes through the thorough checker, the next ones through the fast path: both
    labels = {1: "8A", 2: "8А", 3: " 8a ", 4: "8а", 5: "10B", 6: "7X", 7: "8b"}
    rows = [result_row(n, class_label=label) for n, label in labels.items()]
    first = import_results(results_csv(rows))
    assert (first.status, first.rows_inserted) == ("done", 7), first.message
    stored = db_session.scalars(select(AssessmentResult.class_label).order_by(AssessmentResult.id)).all()
    # Cyrillic А, а, В, Х; a Latin «b» is no lookalike of «в» and stays as typed
    assert stored == ["8\u0410", "8\u0410", "8\u0430", "8\u0430", "10\u0412", "7\u0425", "8b"]

    # the same rows with the Cyrillic letters typed: nothing to change
    typed = [result_row(n, class_label=label) for n, label in zip(labels, stored, strict=True)]
    again = import_results(results_csv(typed))
    assert (again.status, again.rows_unchanged) == ("unchanged", 7), again.message
