from wtforms import StringField, SubmitField

from app.core.forms import Form, NotBlank, max_length, required


class TokenForm(Form):
    name = StringField("Название (для чего токен: система, скрипт)", validators=[required(), NotBlank(),
                                                                             max_length(200)])
    submit = SubmitField("Выпустить токен")


class RevokeForm(Form):
    """Carries only the CSRF token of a revoke button."""
