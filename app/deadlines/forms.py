from wtforms import SelectField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired

from app.core.forms import Form, RuDateField, max_length


class StandInForm(Form):
    # Choices are the colleagues of the absent person; any other id is refused by the service with a reason.
    # What is missing is said beside its own field (the service's one message for all stood under «Заместитель»,
    # the dates unmarked); the service still refuses the same, for callers without a form.
    deputy_id = SelectField("Заместитель", coerce=int, validate_choice=False,
                            validators=[DataRequired(message="Укажите заместителя.")])
    start = RuDateField("С (дата начала)", validators=[DataRequired(message="Укажите дату начала.")])
    end = RuDateField("По (дата окончания, включительно)", validators=[DataRequired(message="Укажите дату окончания.")])
    reason = StringField("Основание (отпуск, командировка, приказ …)", validators=[max_length(300)])
    submit = SubmitField("Назначить заместителя")

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError("Дата окончания периода раньше даты начала.")


class ButtonForm(Form):
    """Carries only the CSRF token of a POST button."""
