from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import ValidationError

from app.core.forms import (Form, NotBlank, RuDateField, RuDecimalField, VersionField, as_choices, max_length, optional,
                            required)
from app.core.timeutil import is_academic_year, period_year_problem
from app.core.web import user_today

DIRECTIONS = [("up", "чем больше, тем лучше"), ("down", "чем меньше, тем лучше")]
AGGREGATION_CHOICES = [("mean_weighted", "среднее, взвешенное по числу обучающихся"), ("sum", "сумма"),
                       ("share_meeting", "доля организаций, достигших целевого значения")]


def _text(label: str, limit: int, *, area: bool = False, is_required: bool = True):
    validators = [required(), NotBlank(), max_length(limit)] if is_required else [optional(), max_length(limit)]
    return (TextAreaField if area else StringField)(label, validators=validators)


def not_in_past(form, field):
    if field.data and field.data < user_today():
        raise ValidationError("Срок не может быть в прошлом.")


def valid_period(form, field):
    if not is_academic_year(field.data):
        raise ValidationError("Период указывается как учебный год, например 2025/26.")
    if problem := period_year_problem(field.data):
        raise ValidationError(problem)


class CycleForm(Form):
    # Radio lists, not closed lists: the titles are long by nature (see app/templates/_choices.html).
    track_id = RadioField("Механизм и направление", coerce=int, validators=[required()])
    owner_id = SelectField("Организация", coerce=int, validators=[required()])
    period = StringField("Период (учебный год)", validators=[required(), valid_period])
    responsible_id = SelectField("Ответственный за этапы", coerce=int, validators=[optional()])
    first_deadline = RuDateField("Срок первого этапа", validators=[optional(), not_in_past],
                               format="%Y-%m-%d")
    submit = SubmitField("Открыть цикл")


class GoalForm(Form):
    direction = _text("Направление", 500)
    statement = _text("Цель (формулировка изменения)", 4000, area=True)
    justification = _text("Обоснование (данные о проблеме, нормативная база, местная специфика)", 8000, area=True)
    realism = _text("Реалистичность (ресурсы, имеющийся опыт)", 8000, area=True)
    parent_goal_id = RadioField("Связь с целью вышестоящего уровня", coerce=int, default=0, validators=[optional()])
    version = VersionField()
    submit = SubmitField("Сохранить")

    def domain_data(self) -> dict:
        return {"direction": self.direction.data.strip(), "statement": self.statement.data.strip(),
                "justification": self.justification.data.strip(), "realism": self.realism.data.strip(),
                "parent_goal_id": self.parent_goal_id.data or None}


class IndicatorForm(Form):
    code = StringField("Код", validators=[required(), NotBlank(), max_length(40)])
    name = _text("Наименование", 2000, area=True)
    unit = _text("Единица измерения", 40)
    definition = _text("Определение / формула расчёта", 4000, area=True)
    # The service names the mechanism's groups in its refusal, which says more than «Неверный вариант».
    group_name = SelectField("Группа показателей", validators=[required()], validate_choice=False)
    source = _text("Источник данных", 2000)
    collection_method = _text("Метод сбора", 2000)
    periodicity = _text("Периодичность", 100)
    baseline = RuDecimalField("Базовое значение", places=None, validators=[optional()],
                            render_kw={"inputmode": "decimal"})
    target = RuDecimalField("Целевое значение", places=None, validators=[optional()],
                          render_kw={"inputmode": "decimal"})
    direction = SelectField("Направление", choices=as_choices(DIRECTIONS), validators=[required()])
    responsible = _text("Ответственный", 300)
    invariant = BooleanField("Обязателен для нижестоящего уровня (инвариантный показатель)")
    aggregation = SelectField("Свод значений нижестоящего уровня", choices=as_choices(AGGREGATION_CHOICES),
                              default="mean_weighted", validators=[required()])
    version = VersionField()
    submit = SubmitField("Сохранить")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if (self.unit.data or "").strip() == "%":
            for field in (self.baseline, self.target):
                if field.data is not None and not 0 <= field.data <= 100:
                    field.errors.append("Значение в процентах должно быть от 0 до 100.")
                    ok = False
        return ok

    def domain_data(self) -> dict:
        data = {name: (getattr(self, name).data or "").strip() for name in
                ("code", "name", "unit", "definition", "group_name", "source", "collection_method", "periodicity",
                 "direction", "responsible")}
        data["baseline"] = self.baseline.data
        data["target"] = self.target.data
        data["invariant"] = bool(self.invariant.data)
        data["aggregation"] = self.aggregation.data
        return data




class CollectionMethodForm(Form):
    source = _text("Источник информации (ФИС ОКО, ГИА, региональные системы, анкетирование…)", 2000, area=True)
    method = _text("Метод (измерение, анкетирование, анализ документов, статистика…)", 2000, area=True)
    tool = _text("Инструмент", 2000, area=True)
    schedule = _text("График (сроки, периодичность)", 2000, area=True)
    version = VersionField()
    submit = SubmitField("Сохранить")

    def domain_data(self) -> dict:
        return {name: getattr(self, name).data.strip() for name in ("source", "method", "tool", "schedule")}


class StageSettingsForm(Form):
    responsible_id = SelectField("Ответственный", coerce=int, validators=[optional()])
    deadline = RuDateField("Срок", validators=[optional(), not_in_past], format="%Y-%m-%d")
    version = VersionField()
    submit = SubmitField("Сохранить")


class SummaryForm(Form):
    summary = _text("Содержание этапа", 20000, area=True)
    version = VersionField()
    submit = SubmitField("Сохранить")


class TransitionForm(Form):
    comment = TextAreaField("Комментарий", validators=[optional(), max_length(2000)])
    version = VersionField()


class ConfirmForm(Form):
    version = VersionField()
