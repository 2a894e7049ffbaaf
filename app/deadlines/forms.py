from wtforms import SelectField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired, InputRequired

from app.core.forms import Form, RuDateField, max_length


class StandInForm(Form):
    # Choices are the colleagues of the absent person; any other id is refused by the service with a reason.
    # What is missing is said beside its own field (the service's one message for all stood under «Заместитель»,
    # the dates unmarked); the service still refuses the same, for callers without a form.
    deputy_id = SelectField("Заместитель", coerce=int, validate_choice=False,
                            validators=[DataRequired(message="Укажите заместителя.")])
    # InputRequired, not DataRequired: a date typed wrong («31.02.2027») has no data, and DataRequired put its
    # «Укажите дату начала.» in place of the field's own «Введите корректную дату.» over a field that was filled.
    start = RuDateField("С (дата начала)", validators=[InputRequired(message="Укажите дату начала.")])
    end = RuDateField("По (дата окончания, включительно)",
                      validators=[InputRequired(message="Укажите дату окончания.")])
    reason = StringField("Основание (отпуск, командировка, приказ …)", validators=[max_length(300)])
    submit = SubmitField("Назначить заместителя")

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("Дата окончания периода раньше даты начала.")


class ButtonForm(Form):
    """Carries only the CSRF token of a POST button."""
