from wtforms import SelectMultipleField, StringField, SubmitField, TextAreaField

from app.core.forms import Form, NotBlank, max_length, optional, required


class MechanismForm(Form):
    code = StringField("Код", validators=[required(), NotBlank(), max_length(20)])
    title = StringField("Наименование", validators=[required(), NotBlank(), max_length(500)])
    group = StringField("Группа механизмов", validators=[optional(), max_length(200)])
    groups = TextAreaField("Обязательные группы показателей (по одной в строке)", validators=[optional(),
                                                                                             max_length(8000)])
    submit = SubmitField("Добавить механизм")


class TrackForm(Form):
    code = StringField("Код трека", validators=[required(), NotBlank(), max_length(40)])
    title = StringField("Наименование трека", validators=[required(), NotBlank(), max_length(500)])
    blocks = SelectMultipleField("Блоки неполного цикла (пусто — полный цикл)", validators=[optional()])
    submit = SubmitField("Добавить трек")
