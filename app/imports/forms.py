from flask_wtf.file import FileField
from wtforms import SelectField, SubmitField
from wtforms.validators import ValidationError

from app.core.forms import Form, required
from app.imports.services import ALLOWED_SUFFIXES


def _upload(form, field):
    data = field.data
    if data is None or not getattr(data, "filename", ""):
        raise ValidationError("Выберите файл.")
    if not data.filename.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError("Нужен файл CSV или XLSX.")


class UploadForm(Form):
    organisation_id = SelectField("Организация (зона ответственности импорта)", coerce=int, validators=[required()])
    file = FileField("Файл (CSV в UTF-8 или Windows-1251, разделитель «;» или «,»; либо XLSX)", validators=[_upload])
    submit = SubmitField("Загрузить")
