"""Forms of the effectiveness evaluation page."""

from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField

from app.core.forms import (Form, NotBlank, RuIntegerField, VersionField, as_choices, max_length, optional,
                            required)
from app.effectiveness.models import PROPOSAL_KINDS, RESULTS


class ConclusionsForm(Form):
    conclusions = TextAreaField("Выводы об эффективности принятых мер",
                                validators=[required(), NotBlank(), max_length(20000)])
    version = VersionField()
    submit = SubmitField("Сохранить выводы и пересчитать оценки мер")


class AssessmentForm(Form):
    measure_id = RuIntegerField("Мероприятие", validators=[required()])
    result = SelectField("Оценка", choices=as_choices([("", "как рассчитано")] + list(RESULTS.items())),
                         validators=[optional()])
    note = StringField("Обоснование", validators=[optional(), max_length(2000)])
    version = VersionField()
    submit = SubmitField("Сохранить")


class ProposalForm(Form):
    kind = SelectField("Вид предложения", choices=as_choices(list(PROPOSAL_KINDS.items())), validators=[required()])
    text = TextAreaField("Предложение", validators=[required(), NotBlank(), max_length(5000)])
    indicator_id = SelectField("Показатель (для корректировки)", coerce=int, validators=[optional()])
    new_target = StringField("Новое целевое значение", validators=[optional(), max_length(40)])
    submit = SubmitField("Добавить предложение")


class DeleteForm(Form):
    version = VersionField()
    confirm = HiddenField("Подтверждение")
