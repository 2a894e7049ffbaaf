from zoneinfo import available_timezones

from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import ValidationError

from app.core.forms import (Form, NotBlank, RuDecimalField, RuIntegerField, as_choices, max_length, number_range,
                            optional, required)
from app.orgs.models import ORG_KINDS, PROFILES, SETTLEMENTS, Organisation
from app.orgs.requisites import LABELS, REQUISITE_FIELDS, clean_requisites

_EMPTY = [("", "— не указано —")]


def _known_time_zone(form, field):
    if field.data and field.data not in available_timezones():
        raise ValidationError("Неизвестный часовой пояс (пример: Europe/Moscow, Asia/Yekaterinburg).")


def _requisite(form, field):
    """The same check the service applies (check digits of ИНН, ОГРН, ОКПО …), shown beside the field."""
    _, problems = clean_requisites({field.name: field.data})
    if problems:
        # beside the field its label is not repeated, and what is left starts a sentence: «Адрес вида …»
        problem = problems[0].split(": ", 1)[-1]
        raise ValidationError(problem[:1].upper() + problem[1:])


def _requisite_field(key: str, label: str | None = None):
    # the column's own length is the form's limit, so the two always agree
    limit = Organisation.__table__.c[key].type.length
    return StringField(label or LABELS[key], validators=[optional(), max_length(limit), _requisite])


def _share(label: str):
    return RuDecimalField(label, places=None, validators=[optional(), number_range(0, 100)])


class OrganisationForm(Form):
    """Organisation and its context attributes (domain.md §2); the code is set once and never changes."""

    code = StringField("Код (уникальный, не меняется)", validators=[required(), NotBlank(), max_length(40)])
    name = StringField("Полное наименование", validators=[required(), NotBlank(), max_length(500)])
    short_name = StringField("Краткое наименование", validators=[optional(), max_length(200)])
    # No type is preselected: the list opened on «Регион» (its first entry), and an administrator who sent the form
    # as it opened was refused with «Регион не может входить в регион».
    kind = SelectField("Тип", choices=as_choices([("", "— выберите тип —"), *ORG_KINDS.items()]),
                       validators=[required()])
    parent_id = SelectField("Входит в", coerce=int, validators=[required()])
    timezone = StringField("Часовой пояс (если отличается от региона)", validators=[optional(), max_length(60),
                                                                                    _known_time_zone])
    settlement = SelectField("Тип населённого пункта", choices=as_choices(_EMPTY + list(SETTLEMENTS.items())),
                             validators=[optional()])
    remote = SelectField("Удалённость", choices=as_choices(_EMPTY + [("1", "удалённая"), ("0", "нет")]),
                         validators=[optional()])
    preschool_groups = BooleanField("Есть дошкольные группы (школа реализует программы дошкольного образования)")
    students = RuIntegerField("Число обучающихся", validators=[optional(), number_range(0, 100000)])
    profile = SelectField("Профиль", choices=as_choices(_EMPTY + list(PROFILES.items())), validators=[optional()])
    low_income_share = _share("Доля обучающихся из малообеспеченных семей, %")
    non_native_share = _share("Доля обучающихся, для которых русский язык не родной, %")
    ovz_share = _share("Доля обучающихся с ОВЗ, %")
    unqualified_teachers_share = _share("Доля педагогов без требуемой квалификации, %")
    teacher_vacancies = RuIntegerField("Вакансии педагогов", validators=[optional(), number_range(0, 1000)])
    head_position = _requisite_field("head_position", "Должность руководителя (для подписи и блока адресата)")
    address = _requisite_field("address", "Почтовый адрес (ул., д., г., индекс)")
    phone = _requisite_field("phone")
    email = _requisite_field("email")
    website = _requisite_field("website")
    okpo = _requisite_field("okpo")
    ogrn = _requisite_field("ogrn")
    inn = _requisite_field("inn")
    kpp = _requisite_field("kpp")
    emblem_file = FileField("Эмблема (герб) для бланка писем: PNG или JPEG до 512 КБ")
    emblem_remove = BooleanField("Убрать эмблему")
    submit = SubmitField("Сохранить")

    def context_data(self) -> dict:
        return {
            "timezone": (self.timezone.data or "").strip() or None,
            "settlement": self.settlement.data or None,
            "remote": {"1": True, "0": False}.get(self.remote.data),
            "preschool_groups": bool(self.preschool_groups.data),
            "students": self.students.data,
            "profile": self.profile.data or None,
            "low_income_share": self.low_income_share.data,
            "non_native_share": self.non_native_share.data,
            "ovz_share": self.ovz_share.data,
            "unqualified_teachers_share": self.unqualified_teachers_share.data,
            "teacher_vacancies": self.teacher_vacancies.data,
        }

    def requisites_data(self) -> dict:
        """The requisites; `emblem` only when a picture was uploaded or removal was asked for."""
        data = {key: (getattr(self, key).data or "").strip() or None for key in REQUISITE_FIELDS}
        upload = self.emblem_file.data
        if upload is not None and getattr(upload, "filename", ""):
            data["emblem"] = upload.read()
        elif self.emblem_remove.data:
            data["emblem"] = None
        return data


class SupportForm(Form):
    """A centre starts supporting a municipality or the region (the choices are set by the view)."""

    supported_id = SelectField("Сопровождаемая организация", coerce=int, validate_choice=False)
