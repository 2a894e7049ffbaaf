from wtforms import (
    BooleanField,
    FileField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from app.core.forms import Form, RuIntegerField, VersionField, as_choices, max_length, optional, required
from app.documents import invited

# «Приглашённые» of a protocol: the lines are checked by invited.parse_invited (in the view), whose refusal keeps
# what was typed; the form only carries the text.
INVITED_LABEL = "Приглашённые (по одному на строке: «Фамилия И.О. — должность, организация»)"
INVITED_MAX = invited.TEXT_MAX


class GenerateForm(Form):
    """Generate (or regenerate) a stage's document of one type; addressee or data request where the type needs it."""

    type_key = StringField("Вид документа", validators=[required(), max_length(60)])
    addressee_id = RuIntegerField("Адресат", validators=[optional()])
    data_request_id = RuIntegerField("Запрос сведений", validators=[optional()])
    all_addressees = BooleanField("Всем адресатам")
    invited = TextAreaField(INVITED_LABEL, validators=[optional(), max_length(INVITED_MAX)])
    submit = SubmitField("Сформировать")


class ActionForm(Form):
    comment = TextAreaField("Комментарий", validators=[optional(), max_length(2000)])
    version = VersionField()


class RegenerateForm(ActionForm):
    """A new edition; for a type that prints those invited, their lines as they are to be (the current ones shown)."""

    invited = TextAreaField(INVITED_LABEL, validators=[optional(), max_length(INVITED_MAX)])


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


class JournalForm(Form):
    """A registration journal: its title and number format (prefix + индекс дела/ + number + suffix)."""

    code = StringField("Код (латиницей, не меняется)", validators=[optional(), max_length(30)])
    title = StringField("Название журнала", validators=[required(), max_length(200)])
    prefix = StringField("Префикс номера", validators=[optional(), max_length(20)])
    file_index = StringField("Индекс дела по номенклатуре", validators=[optional(), max_length(30)])
    suffix = StringField("Суффикс номера", validators=[optional(), max_length(20)])
    submit = SubmitField("Сохранить")

    def format_data(self) -> dict:
        return {"title": self.title.data, "prefix": self.prefix.data, "suffix": self.suffix.data,
                "file_index": self.file_index.data}


class JournalTypesForm(Form):
    """Which journal each document type goes into: the choices come as fields «type-<key>» = journal id."""

    submit = SubmitField("Сохранить распределение")
