from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.auth import bp, services, sessions
from app.auth.forms import ChangePasswordForm, ConfirmForm, LoginForm, RoleForm, UserForm
from app.auth.models import RoleAssignment, User
from app.auth.submissions import form_token_input, submit_once
from app.core.access import public, roles_required, scope_condition, signed_in
from app.core.boundary import on_refusal
from app.core.errors import DomainError, ValidationFailed
from app.core.forms import as_choices
from app.core.redirects import local_path
from app.extensions import db
from app.orgs.models import Organisation


@bp.app_context_processor
def _form_token_helper():
    # Hand-written create forms put {{ form_token_input() }} beside their CSRF input (app.auth.submissions).
    return {"form_token_input": form_token_input}


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never send a user on to another host after log-in."""
    return local_path(target) or url_for("cycles.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cycles.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.login.data, form.password.data, address=request.remote_addr or "-")
        except DomainError as exc:
            db.session.commit()  # kept although refused: throttling counts the failed attempt
            flash(exc.message, "danger")
            status = 429 if isinstance(exc, services.LoginThrottled) else 401
        else:
            login_user(user)
            sessions.start()
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    user = db.session.get(User, current_user.id)
    services.end_sessions(user)
    logout_user()
    flash("Вы вышли из системы.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        on_refusal(lambda exc: (render_template("auth/password.html", form=form), 422), field=form.current)
        try:
            feed_revoked = services.change_password(current_user, current=form.current.data, new=form.new.data,
                                                    actor=current_user)
        except services.ReauthRefused as exc:
            db.session.commit()  # kept although refused: throttling counts the failed re-entry, the audit shows it
            form.current.errors.append(exc.message)
            return render_template("auth/password.html", form=form), exc.status_code
        except services.WeakPassword as exc:
            db.session.commit()  # kept although refused: the current password was right, its success resets the count
            form.new.errors.append(exc.message)
            return render_template("auth/password.html", form=form), 422
        # The password change ended every session; keep this one alive on its new version.
        login_user(current_user)
        flash("Пароль изменён. Все остальные сеансы завершены."
              + (" Ссылка подписки iCalendar отозвана: новую можно получить на странице «Календарь»."
                 if feed_revoked else ""), "success")
        return redirect(url_for("cycles.dashboard"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


def _organisation_choices():
    orgs = db.session.scalars(
        select(Organisation).where(scope_condition(Organisation.path, roles={"admin"})).order_by(Organisation.path)
    )
    return [(o.id, f"{o.code} — {o.display_name}") for o in orgs]


@bp.route("/admin/users")
@roles_required("admin")
def users():
    scoped = (select(User).join(RoleAssignment).join(RoleAssignment.organisation)
              .where(scope_condition(Organisation.path, roles={"admin"})).distinct())
    query = select(User).where(User.id.in_(scoped.with_only_columns(User.id)))
    # Two hundred directors in one list: the administrator finds one by a part of the name or the login.
    q = " ".join(request.args.get("q", "").split())[:100]
    if q:
        query = query.where(or_(User.full_name.icontains(q, autoescape=True), User.login.icontains(q, autoescape=True)))
    users = db.session.scalars(query.options(selectinload(User.roles)).order_by(User.full_name)).all()
    return render_template("auth/users.html", users=users, confirm=ConfirmForm(), q=q)


def _admin_org(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None or "admin" not in current_user.roles_over(org):
        raise ValidationFailed("Организация вне вашей зоны администрирования.")
    return org


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
@submit_once
def new_user():
    form = UserForm()
    form.organisation_id.choices = as_choices(_organisation_choices())
    if form.validate_on_submit():
        on_refusal(lambda exc: (render_template("auth/user_form.html", form=form), 422),
                   field=lambda exc: form.password if isinstance(exc, services.WeakPassword) else form.login)
        org = _admin_org(form.organisation_id.data)
        services.create_user(login=form.login.data, full_name=form.full_name.data, password=form.password.data,
                             position=form.position.data or None, email=form.email.data or None,
                             roles=[(form.role.data, org)], actor=current_user)
        flash("Пользователь создан.", "success")
        return redirect(url_for("auth.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/user_form.html", form=form), status


def _user_in_admin_scope(user_id: int) -> User:
    return services.user_in_admin_scope(current_user, user_id)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user_detail(user_id: int):
    user = _user_in_admin_scope(user_id)
    form = RoleForm()
    form.organisation_id.choices = as_choices(_organisation_choices())
    if form.validate_on_submit():
        services.grant_role(user, form.role.data, _admin_org(form.organisation_id.data), actor=current_user)
        flash("Роль назначена.", "success")
        return redirect(url_for("auth.user_detail", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/user_detail.html", user=user, form=form, confirm=ConfirmForm()), status


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@roles_required("admin")
def set_user_active(user_id: int):
    user = _user_in_admin_scope(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        raise ValidationFailed("Нельзя отключить собственную учётную запись.")
    services.set_active(user, not user.active, actor=current_user)
    flash("Пользователь включён." if user.active else "Пользователь отключён, его сеансы завершены.", "success")
    return redirect(url_for("auth.user_detail", user_id=user.id))
