"""Forms of the follow-up pages. They only parse input; the services validate it (with Russian messages) so the
same rules hold for pages, demo data and tests."""

from wtforms import FileField, MultipleFileField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms import TextAreaField
from wtforms.validators import Optional

from app.core.forms import Form, RuDateField, VersionField, max_length, optional, required


class RecommendationForm(Form):
    text = TextAreaField("Текст рекомендации", validators=[optional(), max_length(10000)])
    addressee_group = SelectField("Адресат", validate_choice=False)
    addressee_note = StringField("Уточнение адресата (предмет для учителей-предметников)",
                                 validators=[optional(), max_length(300)])
    organisation_ids = SelectMultipleField("Организации", coerce=int, validate_choice=False)
    cluster = SelectField("Кластер", validate_choice=False, validators=[optional()])
    finding_ids = SelectMultipleField("Выводы анализа, на которые отвечает рекомендация", coerce=int,
                                      validate_choice=False)
    basis = TextAreaField("Основание (если в анализе нет выводов) или пояснение",
                          validators=[optional(), max_length(10000)])
    response_deadline = RuDateField("Срок ответа (исполнения)", validators=[Optional()], format="%Y-%m-%d")
    version = VersionField()


class MeasureForm(Form):
    title = StringField("Мероприятие", validators=[optional(), max_length(500)])
    kind = SelectField("Вид", validate_choice=False)
    responsible_id = SelectField("Ответственный", coerce=int, validate_choice=False)
    participants = TextAreaField("Участники", validators=[optional(), max_length(2000)])
    start_date = RuDateField("Дата начала", validators=[Optional()], format="%Y-%m-%d")
    end_date = RuDateField("Дата окончания", validators=[Optional()], format="%Y-%m-%d")
    expected_result = TextAreaField("Ожидаемый результат", validators=[optional(), max_length(4000)])
    recommendation_ids = SelectMultipleField("Реализует рекомендации", coerce=int, validate_choice=False)
    finding_ids = SelectMultipleField("Отвечает на выводы анализа", coerce=int, validate_choice=False)
    indicator_ids = SelectMultipleField("Должно изменить показатели", coerce=int, validate_choice=False)
    version = VersionField()


class DecisionForm(Form):
    text = TextAreaField("Текст решения", validators=[optional(), max_length(10000)])
    kind = SelectField("Вид решения", validate_choice=False)
    deadline = RuDateField("Срок исполнения", validators=[Optional()], format="%Y-%m-%d")
    responsible_id = SelectField("Ответственный", coerce=int, validate_choice=False)
    participants = TextAreaField("Участники", validators=[optional(), max_length(2000)])
    basis = TextAreaField("Основание (анализ, на котором основано решение)",
                          validators=[optional(), max_length(10000)])
    finding_ids = SelectMultipleField("Выводы анализа", coerce=int, validate_choice=False)
    measure_ids = SelectMultipleField("Запускаемые мероприятия", coerce=int, validate_choice=False)
    version = VersionField()


class ActionForm(Form):
    trigger = StringField("Действие", validators=[required()])
    comment = TextAreaField("Комментарий", validators=[optional(), max_length(4000)])
    version = VersionField()


class RescheduleForm(Form):
    start_date = RuDateField("Новая дата начала", validators=[Optional()], format="%Y-%m-%d")
    end_date = RuDateField("Новая дата окончания", validators=[Optional()], format="%Y-%m-%d")
    comment = TextAreaField("Причина переноса", validators=[optional(), max_length(4000)])
    version = VersionField()


class AcknowledgeForm(Form):
    # required, as at a signature: an empty field is not a wrong password (nor a guess counted by the throttle)
    password = PasswordField("Пароль (для подтверждения ознакомления)", validators=[required()])
    version = VersionField()


class StartForm(Form):
    action_plan = TextAreaField("Планируемые действия и сроки", validators=[optional(), max_length(10000)])
    planned_completion = RuDateField("Планируемый срок исполнения", validators=[Optional()], format="%Y-%m-%d")
    version = VersionField()


class ReportForm(Form):
    report = TextAreaField("Что сделано", validators=[optional(), max_length(10000)])
    files = MultipleFileField("Подтверждающие документы")
    version = VersionField()


class AttachForm(Form):
    file = FileField("Файл")
    kind = SelectField("Вид документа", validate_choice=False)


class VersionForm(Form):
    version = VersionField()
