"""Pages of the deadlines feature: calendar (month/week), iCalendar link, notifications, stand-ins."""

from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.submissions import submit_once
from app.core.access import public, signed_in
from app.core.boundary import on_refusal
from app.core.timeutil import utcnow
from app.core.web import absolute_url, user_today
from app.core.forms import as_choices, parse_day
from app.deadlines import bp, calendar, ical, services, standins
from app.deadlines.forms import ButtonForm, StandInForm
from app.extensions import db
from app.auth.models import User


# --- calendar ------------------------------------------------------------------------------------

def _day_arg(today: date) -> date:
    """The day shown: ISO as the page's own links send it, or ДД.ММ.ГГГГ as a person types it into the address."""
    raw = (request.args.get("date") or "").strip()
    if not raw:
        return today
    day = parse_day(raw)
    if day is None or not 1900 <= day.year <= 2999:
        flash(f"«{raw[:20]}» не является датой (ожидается дата в виде ДД.ММ.ГГГГ): показан текущий месяц.",
              "warning")
        return today
    return day


@bp.route("/")
@signed_in
def calendar_page():
    today = user_today()
    day = _day_arg(today)
    view = "week" if request.args.get("view") == "week" else "month"
    if view == "week":
        start = calendar.week_start(day)
        end = start + timedelta(days=6)
        weeks = [[start + timedelta(days=n) for n in range(7)]]
        prev_day, next_day = start - timedelta(days=7), start + timedelta(days=7)
        title = f"Неделя {start:%d.%m} — {end:%d.%m.%Y}"
    else:
        weeks = calendar.month_grid(day.year, day.month)
        start, end = weeks[0][0], weeks[-1][-1]
        prev_day = (date(day.year, day.month, 1) - timedelta(days=1)).replace(day=1)
        next_day = (date(day.year, day.month, 28) + timedelta(days=4)).replace(day=1)
        title = calendar.month_title(day.year, day.month)
    items = calendar.calendar_items(current_user, start, end, today=today)
    return render_template("deadlines/calendar.html", view=view, day=day, today=today, weeks=weeks,
                           items=calendar.by_day(items), count=len(items),
                           overdue=sum(1 for i in items if i.overdue), title=title, prev_day=prev_day,
                           next_day=next_day, weekdays=calendar.WEEKDAYS, month_cell=calendar.month_cell)


# --- iCalendar feed ------------------------------------------------------------------------------

def _feed_page(status: int = 200, secret: str | None = None):
    feed_url = absolute_url("deadlines.ical_feed", feed_token=secret) if secret else None
    return render_template("deadlines/ical.html", feed=ical.active_feed(current_user), feed_url=feed_url,
                           form=ButtonForm()), status


@bp.route("/ical")
@signed_in
def ical_settings():
    return _feed_page()


@bp.route("/ical/new", methods=["POST"])
@signed_in
def ical_issue():
    _feed, secret = ical.issue_feed(current_user, actor=current_user)
    # 201 with the page, not a redirect: the secret link exists only in this response.
    response, _ = _feed_page(201, secret)
    return response, 201, {"Cache-Control": "no-store"}


@bp.route("/ical/revoke", methods=["POST"])
@signed_in
def ical_revoke():
    revoked = ical.revoke_feed(current_user, actor=current_user)
    flash("Ссылка на календарь отозвана: программы, подписанные на неё, больше не получат сроки." if revoked
          else "Действующей ссылки нет.", "success" if revoked else "info")
    return redirect(url_for("deadlines.ical_settings"))


@bp.route("/ical/<feed_token>.ics")
@public
def ical_feed(feed_token: str):
    """The feed itself, for calendar programs (they cannot sign in): the secret in the link is the key."""
    user = ical.user_for_secret(feed_token)
    if user is None:
        abort(404)
    body = ical.feed_for(user, now=utcnow(), base_url=current_app.config["APP_BASE_URL"])
    # no-referrer: the address of this answer is the key, so nothing opened from it may be told where it came from.
    return current_app.response_class(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="uko-deadlines.ics"', "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"})


# --- notifications -------------------------------------------------------------------------------

@bp.route("/notifications")
@signed_in
def notifications():
    return render_template("deadlines/notifications.html", notifications=services.notifications_of(current_user),
                           unread=services.unread_count(current_user), form=ButtonForm())


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@signed_in
def notification_read(notification_id: int):
    notification = services.own_notification(current_user, notification_id)
    if notification is None:
        abort(404)
    services.mark_read(notification)
    target = request.form.get("next")
    if target == "link" and notification.link:
        return redirect(notification.link)
    return redirect(url_for("deadlines.notifications"))


@bp.route("/notifications/read-all", methods=["POST"])
@signed_in
def notifications_read_all():
    marked = services.mark_all_read(current_user)
    flash(f"Отмечено прочитанными: {marked}." if marked else "Непрочитанных уведомлений нет.", "info")
    return redirect(url_for("deadlines.notifications"))


# --- stand-ins -----------------------------------------------------------------------------------

def _standin_form(form: StandInForm | None = None) -> StandInForm:
    form = form or StandInForm(formdata=None)
    form.deputy_id.choices = as_choices([(0, "— выберите —")] + [
        (u.id, f"{u.full_name}{', ' + u.position if u.position else ''}")
        for u in standins.deputy_candidates(current_user)])
    return form


def _standins_page(form: StandInForm, status: int = 200):
    return render_template("deadlines/standins.html", form=form, rows=standins.stand_ins_involving(current_user),
                           today=user_today(), button=ButtonForm(),
                           covering=standins.absent_people_covered_by(current_user, user_today())), status


@bp.route("/standins")
@signed_in
def standin_list():
    return _standins_page(_standin_form())


@bp.route("/standins/new", methods=["POST"])
@signed_in
@submit_once
def standin_create():
    form = _standin_form(StandInForm())
    if not form.validate_on_submit():
        return _standins_page(form, 422)

    deputy = db.session.get(User, form.deputy_id.data) if form.deputy_id.data else None
    on_refusal(lambda exc: _standins_page(_standin_form(form), 422),
               field=lambda exc: form.end if isinstance(exc, standins.PeriodRefused) else form.deputy_id)
    stand_in = standins.create_stand_in(absent=current_user, deputy=deputy, start=form.start.data,
                                        end=form.end.data, reason=form.reason.data or "", actor=current_user,
                                        today=user_today())
    flash(f"Заместитель назначен: {stand_in.deputy.full_name}, с {stand_in.start_date:%d.%m.%Y} "
          f"по {stand_in.end_date:%d.%m.%Y}.", "success")
    return redirect(url_for("deadlines.standin_list"))


@bp.route("/standins/<int:standin_id>/revoke", methods=["POST"])
@signed_in
def standin_revoke(standin_id: int):
    stand_in = standins.own_stand_in(current_user, standin_id)
    if stand_in is None:
        abort(404)
    on_refusal(lambda exc: redirect(url_for("deadlines.standin_list")))
    revoked = standins.revoke_stand_in(stand_in, actor=current_user)
    flash("Заместительство отменено." if revoked else "Заместительство уже было отменено.", "info")
    return redirect(url_for("deadlines.standin_list"))
