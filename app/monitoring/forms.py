import re

from wtforms import BooleanField, FileField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from app.core.timeutil import is_academic_year, period_year_problem
from app.core.forms import REQUIRED, Form, NotBlank, RuDateField, VersionField, max_length, optional, required
from app.cycles.forms import not_in_past

YEAR_RE = re.compile(r"^\d{4}$", re.ASCII)  # ASCII: \d takes any script's digits


def valid_period(form, field):
    text = (field.data or "").strip()
    if not (YEAR_RE.match(text) or is_academic_year(text)):  # «2025/27» is no academic year
        raise ValidationError("Период указывается как учебный год (2025/26) или календарный год (2025).")
    if problem := period_year_problem(text):
        raise ValidationError(problem)


class RequestForm(Form):
    title = StringField("Название запроса", validators=[required(), NotBlank(), max_length(500)])
    period = StringField("Период, за который представляются сведения", validators=[required(), valid_period])
    # InputRequired, not DataRequired: an unparsable date must say so rather than «Обязательное поле».
    deadline = RuDateField("Срок представления", validators=[InputRequired(message=REQUIRED), not_in_past],
                           format="%Y-%m-%d")
    indicator_ids = SelectMultipleField("Показатели", coerce=int)
    all_organisations = BooleanField("Все образовательные организации")
    organisation_ids = SelectMultipleField("Организации-адресаты", coerce=int)
    version = VersionField()
    submit = SubmitField("Сохранить черновик")

    def validate_indicator_ids(self, field):
        if not field.data:
            raise ValidationError("Выберите хотя бы один показатель.")

    def validate_organisation_ids(self, field):
        if not field.data and not self.all_organisations.data:
            raise ValidationError("Выберите хотя бы одну организацию-адресата или отметьте «все».")


class ActionForm(Form):
    """A workflow action from a page: the object's version and, where needed, a comment."""

    trigger = StringField("Действие", validators=[required()])
    comment = TextAreaField("Комментарий", validators=[optional(), max_length(2000)])
    version = VersionField()


class DelegateForm(Form):
    delegate_id = SelectField("Поручить подготовку сведений", coerce=int, validators=[optional()])
    version = VersionField()


class VersionForm(Form):
    version = VersionField()


class ValuesForm(Form):
    """CSRF and version of the values form; the values themselves are read per indicator (value-<id>)."""

    version = VersionField()


class UploadForm(Form):
    file = FileField("Файл XLSX")
    save_valid_rows = BooleanField("Сохранить корректные строки, если в файле есть ошибки")
    version = VersionField()


class RemindForm(Form):
    submission_ids = SelectMultipleField("Адресаты", coerce=int, validate_choice=False)
