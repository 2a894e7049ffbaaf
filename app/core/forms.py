"""Shared form pieces: Russian messages for the standard validators, and the optimistic-lock field."""

from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS, _Auto as _AUTO  # Flask-WTF's «bind the request» default (wrap_formdata)
from wtforms import (DateField, DecimalField, FileField, HiddenField, IntegerField, PasswordField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation, ValidationError
from wtforms.fields.choices import SelectChoice
from flask import flash, request
from werkzeug.datastructures import CombinedMultiDict, MultiDict
import re
import secrets
from datetime import date, datetime

from app.core.checks import MISSING_VERSION
from app.core.hardening import without_invisible
from app.core.timeutil import format_date, utcnow

REQUIRED = "Обязательное поле."


def required():
    return DataRequired(message=REQUIRED)


def max_length(n: int):
    return Length(max=n, message=f"Не более {n} символов.")


def length_between(lo: int, hi: int):
    return Length(min=lo, max=hi, message=f"От {lo} до {hi} символов.")


def number_range(lo=None, hi=None):
    if lo is not None and hi is not None:
        message = f"Значение должно быть от {lo} до {hi}."
    elif lo is not None:
        message = f"Значение должно быть не меньше {lo}."
    else:
        message = f"Значение должно быть не больше {hi}."
    return NumberRange(min=lo, max=hi, message=message)


def optional():
    return Optional()


class VersionField(HiddenField):
    """The version of the object the form was rendered from; a mismatch on save means a stale form. A submitted form
    without it (absent or blank) carries MISSING_VERSION, which no object has: the save is refused as an incomplete
    form (check_seen, 422), not let through unchecked (a form made for a new object has no version, and its view
    passes none to the service)."""

    def __init__(self, label="Версия формы", **kwargs):
        # WTForms' default label is the name, «Version», printed before the field's error on the page
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not valuelist or not str(valuelist[0]).strip():
            self.data = MISSING_VERSION
            return
        try:
            self.data = int(self.data)
        except ValueError:
            self.data = None
            raise ValidationError("Некорректная версия формы. Обновите страницу.") from None


class NotBlank:
    """Rejects values made only of whitespace (DataRequired passes them through as truthy)."""

    def __init__(self, message: str = REQUIRED):
        self.message = message

    def __call__(self, form, field):
        if isinstance(field.data, str) and not field.data.strip():
            raise ValidationError(self.message)


class EmailAddress:
    """A syntactic e-mail check (one @, a local part, a dotted domain, no spaces). WTForms' Email validator needs
    the email_validator package, which the project does not install: it raised on every filled-in address."""

    PATTERN = re.compile(r"[^@\s]{1,64}@(?:[^@\s.]+\.)+[^@\s.]{2,}")

    def __init__(self, message: str = "Некорректный адрес эл. почты."):
        self.message = message

    def __call__(self, form, field):
        if field.data and not self.PATTERN.fullmatch(field.data):
            raise ValidationError(self.message)


class _OneMessage:
    """A number field whose reading failed says only why (its own message), not also that «nothing» is out of
    range: the range check ran on the None the failed reading left and added «Значение должно быть от 0 до …»."""

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


# Thousands are grouped by a space, or by a no-break or narrow no-break one when copied from Word or Excel («1 234»).
_GROUPING = re.compile(r"[ \u00a0\u202f]")


class RuDecimalField(_OneMessage, DecimalField):
    """Decimal input that accepts a comma as the decimal separator and explains errors in Russian."""

    def process_formdata(self, valuelist):
        if valuelist and not valuelist[0].strip():
            # Nothing typed is no value, as in RuIntegerField: Decimal("") failed, and since _OneMessage stops the
            # chain on a reading error before Optional() could clear it, every empty optional share was refused.
            self.data = None
            return
        if valuelist:
            text = _GROUPING.sub("", valuelist[0].strip()).replace(",", ".")
            if not text.isascii() or "_" in text:
                # Decimal reads any script's digits («٣٥» is 35) and Python's digit groups («7_5» is 75): a figure
                # of a Russian report is typed in 0–9, and one read otherwise would be shown back and printed in
                # digits nobody typed.
                self.data = None
                raise ValueError("Введите число цифрами 0–9 (например, 75 или 12,5).")
            valuelist = [text]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("Введите число (например, 75 или 12,5).") from None
        # Decimal reads «NaN», «Infinity», «sNaN» too: not a value of anything, and a NaN raised InvalidOperation
        # in the first comparison of a range check (a 500 on the indicator form).
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError("Введите число (например, 75 или 12,5).")


class RuIntegerField(_OneMessage, IntegerField):
    """A whole number typed in the digits 0–9 (thousands grouped by a space), refused in Russian otherwise. WTForms'
    IntegerField calls `int`, which took «٣٥٠» and «１２３» for 350 and 123 and «1_000» for 1000 — numbers nobody
    typed, stored for a school (attack 12)."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = _GROUPING.sub("", valuelist[0].strip())
        if not re.fullmatch(r"-?[0-9]{1,18}", text):
            self.data = None
            raise ValueError("Введите целое число цифрами 0–9 (например, 350).")
        self.data = int(text)


FIRST_YEAR = 2000  # no document, deadline or window of this system is older
HORIZON_YEARS = 10  # programmes run to 2030–2036: a date further ahead than this is a typo («31.12.9999»)


def implausible_date(day) -> str | None:
    """The Russian reason a date typed into a form cannot be meant, or None. A year 9999 deadline was accepted and
    then never fell due, nor counted as overdue."""
    if day is None:
        return None
    last = utcnow().year + HORIZON_YEARS
    if not FIRST_YEAR <= day.year <= last:
        return f"Укажите дату между 01.01.{FIRST_YEAR} и 31.12.{last}."
    return None


# RuDateField's formats: the date picker's ISO first (it renders the value), then as people type it.
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def parse_day(raw: str) -> date | None:
    """ДД.ММ.ГГГГ as people type it, or ISO (ГГГГ-ММ-ДД) as a date picker sends it; None for anything else."""
    for parse in (lambda s: datetime.strptime(s, "%d.%m.%Y").date(), date.fromisoformat):
        try:
            return parse(raw)
        except ValueError:
            continue
    return None


class RuDateField(DateField):
    """A date as the picker sends it or as typed (ДД.ММ.ГГГГ), within plausible years, refused in Russian."""

    def __init__(self, *args, **kwargs):
        kwargs["format"] = list(DATE_FORMATS)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Введите корректную дату.") from None
        reason = implausible_date(self.data)
        if reason:
            self.data = None
            raise ValueError(reason)


def as_choices(pairs) -> list:
    """(value, label) pairs as WTForms SelectChoice objects (tuples are deprecated since WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


FORM_TOKEN_FIELD = "form_token"  # noqa: S105  (a form field name, not a secret)


def new_form_token() -> str:

    return secrets.token_urlsafe(24)


class FormTokenField(HiddenField):
    """A fresh token when the form is rendered from scratch; what was posted (or nothing) when it is re-rendered."""

    def __init__(self, label="Одноразовый токен формы", **kwargs):
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist):
        self.data = valuelist[0] if valuelist else ""


_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def one_line(value):
    """A single-line field's value with its line breaks made spaces: a browser's <input> cannot send them, a
    hand-made POST can, and a title with a break went on into task titles and the e-mail Subject header. Characters
    that print as nothing go too: a name with a zero-width space or a right-to-left override showed exactly like
    (or reversed against) another, in lists, the audit log and the documents signed with it."""
    return without_invisible(_LINE_BREAKS.sub(" ", value)) if isinstance(value, str) else value


class Form(FlaskForm):
    """Base form: WTForms' own Russian messages for its built-in validators and choice checks; single-line text
    fields (every StringField but a textarea or a password) keep no line break and no invisible character
    (`one_line`).

    Every rendered form carries a fresh one-time token (hidden, rendered by hidden_tag() and render_form()).
    A form re-rendered after a refused POST keeps the token it was sent with. Create views decorated with
    app.auth.submissions.submit_once use it to answer a double submit with the first one's redirect.
    """

    form_token = FormTokenField(default=new_form_token)

    class Meta:
        locales = ("ru_RU", "ru")

        def bind_field(self, form, unbound_field, options):
            cls = unbound_field.field_class
            if issubclass(cls, StringField) and not issubclass(cls, (TextAreaField, PasswordField)):
                options = {**options, "filters": (*unbound_field.kwargs.get("filters", ()), one_line)}
            return super().bind_field(form, unbound_field, options)

        def get_translations(self, form):
            return _RussianChoiceMessages(super().get_translations(form))

        def wrap_formdata(self, form, formdata):
            """A submitted request with an empty body is a form sent with nothing, not a form to fill from its
            object: Flask-WTF binds none then, and a VersionField kept the object's own version — a POST without
            any field passed the staleness check by construction."""
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is None and formdata is _AUTO and request.method in SUBMIT_METHODS and not request.is_json:
                return request.form
            if formdata is _AUTO and isinstance(wrapped, CombinedMultiDict):
                # Flask-WTF lays every uploaded part over the text fields, so a file sent under a text field's
                # name reached its validators as a FileStorage (Length took its len(): a 500 on any form of a
                # multipart POST). Only the form's file fields take files.
                file_fields = {name for name, field in form._fields.items() if isinstance(field, FileField)}
                files = MultiDict([(k, v) for k, v in request.files.items(multi=True) if k in file_fields])
                return CombinedMultiDict((files, request.form))
            return wrapped


class _RussianChoiceMessages:
    """WTForms' Russian catalogue leaves the multiple-choice message untranslated (its entry is marked fuzzy),
    so a forged value in a multiple select was answered in English; this supplies it and defers the rest."""

    PLURAL = {"'%(value)s' is not a valid choice for this field.":
              "Недопустимое значение: %(value)s. Выберите из списка."}

    def __init__(self, base):
        self.base = base

    def gettext(self, string):
        return string if self.base is None else self.base.gettext(string)

    def ngettext(self, singular, plural, n):
        if singular in self.PLURAL:
            return self.PLURAL[singular]
        if self.base is None:
            return singular if n == 1 else plural
        return self.base.ngettext(singular, plural, n)


def flash_form_errors(form) -> None:
    """For forms whose fields are not rendered with their own error slots (e.g. action buttons)."""
    for field_name, errors in form.errors.items():
        label = getattr(form, field_name).label.text if hasattr(form, field_name) else ""
        for error in errors:
            flash(f"{label}: {error}" if label else error, "danger")


def stored_beside(form, stored: dict, version: int) -> list[tuple[str, str]]:
    """After a save refused as stale (someone else saved the object since the form was opened): (field label, what
    is stored now, in words) for each field of `stored` (name → stored value) whose typed value differs, for the page
    to show above the typed form; the form then carries the stored `version`, so sending it again replaces those
    values knowingly — kept at the old one, every further save was refused until a reload threw the typing away."""
    out = []
    for name, value in stored.items():
        field = form[name]
        words = {choice.value if isinstance(choice, SelectChoice) else choice[0]:
                 choice.label if isinstance(choice, SelectChoice) else choice[1] for choice in field.choices or ()} \
            if hasattr(field, "choices") else {}
        if isinstance(value, (list, tuple, set)):
            if set(field.data or ()) == set(value):
                continue
            text = "; ".join(str(words.get(v, v)) for v in value) or "—"
        else:
            typed = field.data.strip() if isinstance(field.data, str) else field.data
            if (typed or None) == (value or None):
                continue
            text = words.get(value, value)
            text = format_date(text) if isinstance(text, date) else (str(text) if text else "—")
        out.append((field.label.text, text))
    form.version.data = version
    return out
