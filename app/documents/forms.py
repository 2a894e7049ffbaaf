from wtforms import (
    BooleanField,
    FileField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from app.core.forms import Form, VersionField, as_choices, max_length, optional, required


class GenerateForm(Form):
    """Generate (or regenerate) a stage's document of one type; addressee or data request where the type needs it."""

    type_key = StringField(validators=[required(), max_length(60)])
    addressee_id = IntegerField(validators=[optional()])
    data_request_id = IntegerField(validators=[optional()])
    all_addressees = BooleanField()
    submit = SubmitField("Сформировать")


class ActionForm(Form):
    comment = TextAreaField("Комментарий", validators=[optional(), max_length(2000)])
    version = VersionField()


class SignForm(Form):
    password = PasswordField("Пароль (для подтверждения подписи)", validators=[required()])
    version = VersionField()
    submit = SubmitField("Подписать")


class AcknowledgeForm(Form):
    password = PasswordField("Пароль (для подтверждения)", validators=[required()])
    submit = SubmitField("Ознакомлен")


class SignedCopyForm(Form):
    kind = SelectField("Что прикладывается", choices=as_choices([
        ("scan", "Скан подписанного экземпляра (PDF)"), ("signature", "Файл электронной подписи (.sig, .p7s)")]))
    file = FileField("Файл")
    submit = SubmitField("Приложить")
