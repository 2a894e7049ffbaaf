from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import EqualTo

from app.auth.roles import ROLES
from app.core.forms import EmailAddress, Form, as_choices, length_between, max_length, optional, required

# No role is preselected: the first of the list is «Администратор», so a form sent as it opened granted it (over the
# region, the first organisation); the blank choice fails `required` with the usual message instead.
ROLE_CHOICES = as_choices([("", "— выберите роль —"), *ROLES.items()])


class LoginForm(Form):
    login = StringField("Логин", validators=[required(), max_length(80)])
    password = PasswordField("Пароль", validators=[required(), max_length(200)])
    submit = SubmitField("Войти")


class ChangePasswordForm(Form):
    current = PasswordField("Текущий пароль", validators=[required()])
    new = PasswordField("Новый пароль", validators=[required(), length_between(10, 200)])
    repeat = PasswordField("Повторите новый пароль",
                           validators=[required(), EqualTo("new", message="Пароли не совпадают.")])
    submit = SubmitField("Сменить пароль")


class UserForm(Form):
    login = StringField("Логин", validators=[required(), max_length(80)])
    full_name = StringField("ФИО (Фамилия Имя Отчество)", validators=[required(), max_length(200)])
    position = StringField("Должность", validators=[optional(), max_length(200)])
    email = StringField("Эл. почта", validators=[optional(), EmailAddress(), max_length(200)])
    password = PasswordField("Пароль", validators=[required(), length_between(10, 200)])
    role = SelectField("Роль", choices=ROLE_CHOICES, validators=[required()])
    organisation_id = SelectField("Организация", coerce=int, validators=[required()])
    submit = SubmitField("Создать пользователя")


class RoleForm(Form):
    role = SelectField("Роль", choices=ROLE_CHOICES, validators=[required()])
    organisation_id = SelectField("Организация", coerce=int, validators=[required()])
    submit = SubmitField("Назначить роль")


class ConfirmForm(Form):
    """An empty form whose only job is to carry the CSRF token of a POST button."""
