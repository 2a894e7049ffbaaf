"""Forms of the analysis feature. Risk-profile scores are read per factor (score-<key>) from the request."""

from flask_wtf.file import FileField
from wtforms import HiddenField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import ValidationError

from app.core.forms import Form, NotBlank, RuIntegerField, VersionField, max_length, optional, required


def _optional_int(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FindingForm(Form):
    problem = TextAreaField("Проблема", validators=[required(), NotBlank(), max_length(10_000)])
    causes = TextAreaField("Причины (факторы)", validators=[optional(), max_length(10_000)])
    evidence = TextAreaField("Доказательства (данные анализа)", validators=[required(), NotBlank(),
                                                                           max_length(10_000)])
    organisation_ids = SelectMultipleField("Затронутые организации", coerce=int)
    analysis_run_id = HiddenField("Расчёт", filters=[_optional_int])
    source_result_id = HiddenField("Результат расчёта", filters=[_optional_int])
    version = VersionField()
    submit = SubmitField("Сохранить вывод")

    def validate_organisation_ids(self, field):
        if not field.data:
            raise ValidationError("Выберите хотя бы одну затронутую организацию.")


class VersionForm(Form):
    version = VersionField()


class RunForm(Form):
    """Starting an analysis run: CSRF only."""


class RiskProfileForm(Form):
    year = RuIntegerField("Год анкетирования", validators=[required()])
    version = VersionField()


class RiskCsvForm(Form):
    year = RuIntegerField("Год анкетирования", validators=[required()])
    file = FileField("Файл CSV")
