from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.core.access import signed_in
from app.core.hardening import query_id
from app.core.web import user_today
from app.extensions import db
from app.tasks import bp
from app.tasks.models import TASK_LINKS, Task
from app.tasks.services import inbox_query, urgency


PAGE_SIZE = 50


@bp.route("/")
@signed_in
def inbox():
    today = user_today()
    mechanism = request.args.get("mechanism") or None
    org_id = request.args.get("organisation", type=query_id)
    include_closed = request.args.get("closed") == "1"
    query = inbox_query(current_user, today=today, mechanism_code=mechanism, organisation_id=org_id,
                        include_closed=include_closed)
    # Pages of PAGE_SIZE: three hundred tasks in one table were a wall of a hundred screens without a way through.
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(request.args.get("page", 1, type=query_id) or 1, pages)
    tasks = db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    # Filter choices come from the user's own tasks, so they never list anything out of scope.
    facets = db.session.execute(
        select(Task.mechanism_code, Task.organisation_id).where(Task.assignee_id == current_user.id).distinct()
    ).all()
    from app.orgs.models import Organisation

    org_ids = sorted({f.organisation_id for f in facets})
    orgs = db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids))).all() if org_ids else []
    return render_template("tasks/inbox.html", tasks=tasks, today=today, urgency=urgency,
                           mechanisms=sorted({f.mechanism_code for f in facets if f.mechanism_code}), orgs=orgs,
                           selected={"mechanism": mechanism, "organisation": org_id, "closed": include_closed},
                           total=total, page=page, pages=pages, page_size=PAGE_SIZE)


@bp.route("/<int:task_id>")
@signed_in
def open_task(task_id: int):
    task = db.session.get(Task, task_id)
    # A task is visible to its assignee and to people with a role over its organisation.
    if task is None or (task.assignee_id != current_user.id and not current_user.can_see(task.organisation)):
        abort(404)
    link = TASK_LINKS.get(task.object_type)
    if link is None:
        abort(404)
    endpoint, argument = link
    return redirect(url_for(endpoint, **{argument: task.object_id}))
