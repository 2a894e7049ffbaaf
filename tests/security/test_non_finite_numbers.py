"""«NaN», «Infinity» and «sNaN» are numbers to Python's Decimal but to no one filling a form: a baseline «NaN» made
the indicator form a 500 (the percent range check compares it and Decimal raises InvalidOperation), and «Infinity»
in a head-count indicator reached the database (attack 4). Every decimal field of the forms refuses them in
Russian, and nothing is written."""

import pytest

from tests.test_cycle_views import cycle, ind_cycle, indicator_form, page, row_counts  # noqa: F401  (fixtures)

NOT_NUMBERS = ["NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "-inf"]


@pytest.mark.parametrize("unit", ["%", "чел."])
@pytest.mark.parametrize("field", ["baseline", "target"])
@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_an_indicator_with_a_non_finite_number_is_422_and_nothing_written(client, world, login, ind_cycle,  # noqa: F811
                                                                          db_session, value, field, unit):
    login(world["official"])
    before = row_counts(db_session)
    response = client.post(f"/cycles/{ind_cycle.id}/indicators/new", data=indicator_form(unit=unit, **{field: value}))
    assert response.status_code == 422
    assert "Введите число (например, 75 или 12,5)." in page(response)
    assert row_counts(db_session) == before


def test_the_decimal_field_of_every_form_refuses_them(app):
    from werkzeug.datastructures import MultiDict

    from app.core.forms import Form, RuDecimalField

    class Probe(Form):
        share = RuDecimalField("Доля")

    with app.test_request_context(method="POST"):
        for value in NOT_NUMBERS:
            form = Probe(formdata=MultiDict({"share": value}), meta={"csrf": False})
            assert not form.validate() and form.share.data is None
            assert form.share.errors == ["Введите число (например, 75 или 12,5)."]
        form = Probe(formdata=MultiDict({"share": "12,5"}), meta={"csrf": False})
        assert form.validate() and str(form.share.data) == "12.5"
