"""Attack 12: whole numbers of the forms were read by WTForms' IntegerField, that is by Python's `int`, which takes
any script's digits and Python's digit groups. An administrator's «٣٥٠» (Arabic-Indic), «１２３» (full-width) or
«1_000» as a school's number of students was stored as 350, 123 and 1000 — numbers nobody typed — although the
README promises numbers in the digits 0–9 only; decimal fields likewise took «7_5» for 75. Each is now refused
with one Russian message (not also «Значение должно быть от 0 до 100000.» about the nothing read), nothing
changed; digits grouped by a space are still read."""

import re

import pytest

TYPED = ["٣٥٠", "１２３", "1_000", "12\u0663"]


def _post(client, school, **fields):
    return client.post(f"/orgs/{school.id}/edit", data={"name": school.name, "settlement": "village", **fields})


def _messages(page: str) -> list[str]:
    return [m.strip() for m in re.findall(r'class="invalid-feedback[^"]*"[^>]*>\s*([^<]+)', page)]


@pytest.mark.parametrize("typed", TYPED)
@pytest.mark.parametrize("field", ["students", "teacher_vacancies"])
def test_a_count_in_other_digits_is_refused_and_nothing_changes(client, login, world, db_session, field, typed):
    school = world["school_b"]
    before = (school.students, school.teacher_vacancies)
    login(world["admin"])
    response = _post(client, school, **{"students": "120", field: typed})
    assert response.status_code == 422
    messages = _messages(response.get_data(as_text=True))
    assert messages == ["Введите целое число цифрами 0–9 (например, 350)."]
    db_session.expire_all()
    assert (school.students, school.teacher_vacancies) == before


@pytest.mark.parametrize("typed", ["7_5", "1_0,5"])
def test_a_share_with_python_digit_groups_is_refused(client, login, world, db_session, typed):
    school = world["school_b"]
    login(world["admin"])
    response = _post(client, school, students="120", ovz_share=typed)
    assert response.status_code == 422
    assert _messages(response.get_data(as_text=True)) == ["Введите число цифрами 0–9 (например, 75 или 12,5)."]
    db_session.expire_all()
    assert school.ovz_share is None


def test_a_count_out_of_range_still_says_the_range_once(client, login, world):
    login(world["admin"])
    response = _post(client, world["school_b"], students="100001")
    assert _messages(response.get_data(as_text=True)) == ["Значение должно быть от 0 до 100000."]


def test_digits_grouped_by_a_space_are_still_read(client, login, world, db_session):
    school = world["school_b"]
    login(world["admin"])
    response = _post(client, school, students="1\u00a0234", teacher_vacancies=" 7 ", ovz_share="12,5")
    assert response.status_code == 302
    db_session.expire_all()
    assert (school.students, school.teacher_vacancies, str(school.ovz_share)) == (1234, 7, "12.50")
