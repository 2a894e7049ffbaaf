"""Numbers as people type them into the forms: grouped thousands copied from Word or Excel are read, digits of
another script are not (Decimal reads «٣٥» as 35, a figure nobody typed in 0–9)."""

from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from app.core.forms import Form, RuDecimalField
from app.monitoring.values import parse_number


class _Figure(Form):
    value = RuDecimalField("Значение")


def _read(app, raw):
    with app.test_request_context(method="POST"):
        form = _Figure(formdata=MultiDict({"value": raw}), meta={"csrf": False})
        return form.validate(), form.value.data, form.value.errors


@pytest.mark.parametrize("raw, value", [("12,5", Decimal("12.5")), ("1\u00a0234,5", Decimal("1234.5")),
                                        ("1\u202f000", Decimal("1000")), ("1 000", Decimal("1000"))])
def test_grouped_and_comma_numbers_are_read(app, raw, value):
    assert _read(app, raw)[:2] == (True, value)


@pytest.mark.parametrize("raw", ["٣٥", "３５", "१२"])
def test_digits_of_another_script_are_refused_in_russian(app, raw):
    valid, data, errors = _read(app, raw)
    assert not valid and data is None
    assert errors == ["Введите число цифрами 0–9 (например, 75 или 12,5)."]


@pytest.mark.parametrize("raw", ["٣٥", "３５"])
def test_monitoring_values_refuse_digits_of_another_script(raw):
    value, error = parse_number(raw)
    assert value is None and error.startswith("Ожидается число")


def test_an_effectiveness_target_in_another_script_is_refused():
    from app.core.errors import ValidationFailed
    from app.effectiveness.services import parse_target

    with pytest.raises(ValidationFailed):
        parse_target("٣٥")
    assert parse_target("1\u00a0234,5") == Decimal("1234.5")
