"""`flask assessment scores|export CAMPAIGN_ID` read the id with `str.isdigit`, which says yes to «²»: int() then
raised and the operator got a Python traceback instead of the Russian «not found» (attack 8)."""

import pytest

from tests.test_assessment_api import campaign  # noqa: F401  (fixture)


@pytest.mark.parametrize("typed", ["²", "①", "１"])
def test_a_campaign_id_in_other_digits_is_not_found_in_russian(app, campaign, typed):  # noqa: F811
    result = app.test_cli_runner().invoke(args=["assessment", "scores", typed])
    assert result.exit_code == 1
    assert f"Кампания оценки механизмов № {typed} не найдена." in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)
