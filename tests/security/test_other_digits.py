"""Numbers in other digits than 0–9 where a service read them with `str.isdigit`/`int`/`float` (attack 8): «²» passed
`isdigit` and then made `int` raise — a 500 for the administrator editing a criteria set's thresholds or points —
and «٥٠» (Arabic-Indic) or a full-width «１０» were read as 50 and 10, numbers nobody typed; a risk profile's
factor score likewise. Each is refused with the field's Russian message, nothing changed."""

import pytest

from tests.test_assessment import assess  # noqa: F401  (fixture)

OTHER_DIGITS = ["²", "٥٠", "５０", "①"]


@pytest.mark.parametrize("typed", OTHER_DIGITS)
def test_criteria_thresholds_and_points_in_other_digits_are_refused(world, assess, db_session, typed):  # noqa: F811
    from app.assessment import criteria
    from app.core.errors import ValidationFailed

    draft = criteria.new_version(assess["campaign"].criteria_set, version="2027.3", title="Набор",
                                 actor=world["admin"], region=world["region"])
    first = draft.criteria[0]
    before = (dict(draft.thresholds), first.text, first.max_points)
    db_session.commit()
    with pytest.raises(ValidationFailed) as refused:
        criteria.edit_draft(draft, actor=world["admin"], thresholds={"high": "80", "medium": typed, "low": "20"},
                            criteria={first.id: ("Текст", typed)})
    problems = refused.value.problems
    assert any("Порог уровня «средний» — целое число" in p for p in problems), problems
    assert any("максимальный балл — целое число" in p for p in problems), problems
    db_session.rollback()
    db_session.expire_all()
    assert (dict(draft.thresholds), first.text, first.max_points) == before


@pytest.mark.parametrize("typed", ["１０", "٣", "５,５"])
def test_a_risk_factor_score_in_other_digits_is_refused(typed):
    from app.analysis.risk_profile import factor_titles, validate_profile
    from app.core.errors import ValidationFailed

    titles = factor_titles()
    first = next(iter(titles))
    scores = {key: "5" for key in titles} | {first: typed}
    with pytest.raises(ValidationFailed) as refused:
        validate_profile(2026, scores, [])
    assert any(f"Оценка фактора «{titles[first]}» должна быть числом" in p
               for p in [refused.value.message, *refused.value.problems])


@pytest.mark.parametrize("typed", ["٢٠٢٥", "２０２５", "2_025"])
def test_a_questionnaire_year_in_other_digits_is_refused(app, typed):
    """The risk questionnaire's year was WTForms' IntegerField (`int`): «٢٠٢٥» was read as 2025 (attack 12)."""
    from werkzeug.datastructures import MultiDict

    from app.analysis.forms import RiskProfileForm

    with app.test_request_context(method="POST"):
        form = RiskProfileForm(formdata=MultiDict({"year": typed, "version": "1"}), meta={"csrf": False})
        assert not form.validate()
        assert form.year.data is None and "цифрами 0–9" in " ".join(form.year.errors)
