"""A school's questionnaire results (CSV) that the csv module cannot take apart get a Russian message and change
nothing. Before, a row with more values than the header's columns (a stray «;») and a field longer than 128 KB
both answered 500 (attack 7); a priority written in other digits («٣») was read as 3."""

import io

import pytest
from sqlalchemy import func, select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)

CASES = {
    "more-values-than-columns": ("factor;score\nlow_motivation;3;7;8\n", "значений больше, чем столбцов"),
    "field-past-the-limit": ("factor;score\n" + "x" * 200_000 + ";1\n", "не читается как таблица CSV"),
    "priority-in-other-digits": ("factor;score;priority\nlow_motivation;3;\u0663\n", "приоритет должен быть числом"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_questionnaire_file_the_reader_cannot_take_is_refused_with_a_reason(world, client, login, db_session,
                                                                              name):
    from app.analysis.models import RiskProfile

    body, message = CASES[name]
    login(world["director_a"])
    school = world["school_a"]
    response = client.post(f"/analysis/schools/{school.id}/risk-profile/import",
                           data={"year": "2025", "file": (io.BytesIO(body.encode()), "anketa.csv")},
                           follow_redirects=True)
    assert response.status_code < 500
    assert message in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(RiskProfile)) == 0
