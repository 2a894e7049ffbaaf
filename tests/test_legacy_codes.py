# ruff: noqa: F811  (the imported fixtures are named as test parameters)
"""Participant codes stored by an earlier rule: before attack 21 a code was hashed as typed, then upper-cased with
str.upper(). A region that loaded «ab-7» under the first rule and loads the same file again must get one row per
pupil, not a second one beside the first; and a code differing only in how it was encoded (a decomposed «й», full-width
letters) is one participant."""

import hashlib
import unicodedata

import pytest
from sqlalchemy import select, update

from tests.test_imports import count, import_results, result_row, results_csv, run_file, uploads  # noqa: F401


def salted(app, text: str) -> str:
    """The hash of `text` exactly as given: what an earlier rule stored for a code it hashed in this form."""
    salt = app.config["STUDENT_CODE_SALT"].encode()
    return hashlib.sha256(salt + b"\x00" + text.encode()).hexdigest()


def stored(db_session):
    from app.imports.models import AssessmentResult as R

    db_session.expire_all()
    return db_session.execute(select(R.student_hash, R.mark, R.class_label).order_by(R.id)).all()


def make_earlier(db_session, app, stored_form: str, earlier_form: str) -> None:
    """Turn the row stored under `stored_form` into what an earlier rule stored: the hash of `earlier_form`."""
    from app.imports.models import AssessmentResult as R

    done = db_session.execute(update(R).where(R.student_hash == salted(app, stored_form))
                              .values(student_hash=salted(app, earlier_form))).rowcount
    assert done == 1
    db_session.commit()


def test_a_row_stored_under_the_code_as_typed_is_updated_not_doubled(import_results, app, db_session):
    codes = ["ab-7", "д-2", "Ёж-3", "S-0004"]
    first = import_results(results_csv([result_row(1, student_code=c) for c in codes]))
    assert first.status == "done", first.message
    for typed in codes[:3]:
        make_earlier(db_session, app, typed.upper(), typed)  # loaded before codes ignored case
    again = import_results(results_csv([result_row(1, student_code=c, mark="5" if c == "д-2" else "4")
                                        for c in codes]))
    assert (again.status, again.rows_inserted, again.rows_updated, again.rows_unchanged) == ("done", 0, 3, 1), \
        again.message
    rows = stored(db_session)
    assert len(rows) == 4
    # the earlier form dies out: every row now carries the hash of the code in capitals
    assert sorted(h for h, _m, _c in rows) == sorted(salted(app, c.upper()) for c in codes)
    assert dict((h, m) for h, m, _c in rows)[salted(app, "Д-2")] == 5
    # and a third load of the same rows changes nothing
    third = import_results(results_csv([result_row(1, student_code=c.upper(), mark="5" if c == "д-2" else "4")
                                        for c in codes]))
    assert third.status == "unchanged", third.message
    assert len(stored(db_session)) == 4


def test_a_pupil_doubled_by_the_earlier_rule_is_one_row_again(import_results, app, db_session):
    from app.imports.models import AssessmentResult as R

    first = import_results(results_csv([result_row(1, student_code="ab-7"), result_row(2)]))
    assert first.status == "done", first.message
    # The README's old warning: the file loaded before the rule, then again after it, made a second row.
    row = db_session.scalars(select(R).where(R.student_hash == salted(app, "AB-7"))).one()
    db_session.add(R(**{c: getattr(row, c) for c in ("procedure", "year", "subject", "grade", "school_id",
                                                     "task_scores", "primary_score", "max_score", "term_mark")},
                     class_label="5Б", mark=3, student_hash=salted(app, "ab-7")))
    db_session.commit()
    again = import_results(results_csv([result_row(1, student_code="ab-7"), result_row(2, mark="5")]))
    assert again.status == "done", again.message
    assert "Удалено повторных записей тех же участников" in again.message and ": 1." in again.message
    assert sorted(stored(db_session)) == sorted([(salted(app, "AB-7"), 4, "5А"), (salted(app, "S-0002"), 5, "5А")])


def test_the_removed_double_alone_is_a_change(import_results, app, db_session):
    from app.imports.models import AssessmentResult as R

    content = [result_row(1, student_code="ab-7")]
    assert import_results(results_csv(content)).status == "done"
    row = db_session.scalars(select(R)).one()
    db_session.add(R(**{c: getattr(row, c) for c in ("procedure", "year", "subject", "grade", "school_id",
                                                     "class_label", "task_scores", "primary_score", "max_score",
                                                     "mark", "term_mark")}, student_hash=salted(app, "ab-7")))
    db_session.commit()
    again = import_results(results_csv(content, delimiter=";"))
    assert again.status == "done", again.message
    assert len(stored(db_session)) == 1


def test_two_rows_of_earlier_forms_of_one_code_become_one(import_results, app, db_session):
    # Full-width «ａｂ-7» was stored as typed by the first rule and as «ＡＢ-7» by the second; all are «AB-7».
    typed = "ａｂ-7"
    assert import_results(results_csv([result_row(1, student_code=typed)])).status == "done"
    make_earlier(db_session, app, "AB-7", typed)
    assert import_results(results_csv([result_row(1, student_code="ＡＢ-7", mark="5")])).status == "done"
    make_earlier(db_session, app, "AB-7", "ＡＢ-7")
    # now two rows: one under each earlier form (the second file found no row under «ＡＢ-7», it was made so above)
    db_session.expire_all()
    assert len(stored(db_session)) == 2
    last = import_results(results_csv([result_row(1, student_code=typed, mark="3")]))
    assert last.status == "done", last.message
    assert stored(db_session) == [(salted(app, "AB-7"), 3, "5А")]


def test_a_row_of_the_upper_case_rule_is_found_for_a_code_it_left_apart(import_results, app, db_session):
    # «ｄ-2».upper() is «Ｄ-2», not «D-2»: the rule before this one stored it so.
    assert import_results(results_csv([result_row(1, student_code="ｄ-2")])).status == "done"
    make_earlier(db_session, app, "D-2", "ｄ-2".upper())
    again = import_results(results_csv([result_row(1, student_code="ｄ-2", mark="5")]))
    assert (again.status, again.rows_updated) == ("done", 1), again.message
    assert stored(db_session) == [(salted(app, "D-2"), 5, "5А")]


def test_a_decomposed_letter_is_the_same_participant(import_results, app, db_session):
    composed = "Й-5"
    decomposed = unicodedata.normalize("NFD", "й-5")
    assert decomposed != composed.lower()
    assert import_results(results_csv([result_row(1, student_code=composed)])).status == "done"
    again = import_results(results_csv([result_row(1, student_code=decomposed, mark="5")]))
    assert (again.status, again.rows_inserted, again.rows_updated) == ("done", 0, 1), again.message
    assert stored(db_session) == [(salted(app, composed), 5, "5А")]


def test_codes_differing_only_in_case_or_encoding_are_a_duplicate_in_one_file(import_results, uploads):
    # «д-2» and «Д-2», «ß» and «SS» were one participant already; a decomposed «Й» was another one.
    from app.imports.models import AssessmentResult

    for pair in (("д-2", "Д-2"), ("Й-5", unicodedata.normalize("NFD", "Й-5")), ("ß-1", "SS-1")):
        run = import_results(results_csv([result_row(1, student_code=pair[0]), result_row(2, student_code=pair[1])]))
        assert run.status == "rejected", pair
    assert count(AssessmentResult) == 0


def test_a_failed_load_leaves_the_earlier_row_as_it_was(import_results, app, db_session, monkeypatch):
    # Guard (passes on the old code too): the rewrite of an earlier hash is part of the one transaction.
    from app.imports import results

    assert import_results(results_csv([result_row(1, student_code="ab-7")])).status == "done"
    make_earlier(db_session, app, "AB-7", "ab-7")
    before = stored(db_session)

    def boom(works):
        raise RuntimeError("disk full")

    monkeypatch.setattr(results, "derive_boundaries", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        import_results(results_csv([result_row(1, student_code="ab-7", mark="5")]))
    assert stored(db_session) == before


def test_codes_in_capitals_hash_as_before(app):
    # Guard (passes on the old code too): a code the upper-case rule already stored keeps its hash, or every stored
    # row would become an earlier one.
    from app.imports.results import student_hasher

    capitals = [chr(c) for c in range(0x21, 0x7f) if chr(c) == chr(c).upper()]
    capitals += [chr(c) for c in range(0x400, 0x530) if chr(c) == chr(c).upper()]
    with app.app_context():
        digest = student_hasher()
        assert [c for c in capitals if digest(f"{c}-7") != salted(app, f"{c}-7")] == []
        assert digest("AB-7") == salted(app, "AB-7") and digest("ab-7") == salted(app, "AB-7")
        assert digest("Ёж-3") == salted(app, "ЁЖ-3") != digest("ЕЖ-3")  # «Ё» is not «Е»


@pytest.mark.parametrize(("typed", "canonical"), [
    ("д-2", "Д-2"), ("ё-1", "Ё-1"), ("ß-1", "SS-1"), ("ẞ-1", "SS-1"), ("ＡＢ１２", "AB12"),
    (unicodedata.normalize("NFD", "й"), "Й"), ("\u00a0ab 7\u3000", "AB 7"),
])
def test_the_one_form_of_a_code(typed, canonical):
    from app.imports.results import participant_code

    assert participant_code(typed) == canonical == participant_code(canonical)


def test_a_code_already_in_its_one_form_has_no_earlier_hashes(app):
    from app.imports.results import student_hashes

    with app.app_context():
        hashes = student_hashes()
        assert hashes("S-0001") == (salted(app, "S-0001"), ())
        assert hashes("ab-7") == (salted(app, "AB-7"), (salted(app, "ab-7"),))
        assert hashes("ｄ-2") == (salted(app, "D-2"), (salted(app, "ｄ-2"), salted(app, "Ｄ-2")))
