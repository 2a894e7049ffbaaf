from wtforms import SelectField, StringField, SubmitField

from app.core.forms import Form, RuDateField, max_length, optional


class StandInForm(Form):
    # Choices are the colleagues of the absent person; any other id is refused by the service with a reason.
    deputy_id = SelectField("Заместитель", coerce=int, validate_choice=False)
    start = RuDateField("С (дата начала)", validators=[optional()])
    end = RuDateField("По (дата окончания, включительно)", validators=[optional()])
    reason = StringField("Основание (отпуск, командировка, приказ …)", validators=[max_length(300)])
    submit = SubmitField("Назначить заместителя")


class ButtonForm(Form):
    """Carries only the CSRF token of a POST button."""
