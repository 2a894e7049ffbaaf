from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.submissions import submit_once
from app.catalogue import bp, services
from app.catalogue.forms import MechanismForm, TrackForm
from app.catalogue.models import Mechanism, MechanismSet, StageDefinition
from app.core.access import roles_required, signed_in
from app.core.boundary import on_refusal
from app.core.errors import NotFound, PermissionDenied
from app.core.forms import as_choices
from app.extensions import db


def _sets():
    return db.session.scalars(
        select(MechanismSet).options(selectinload(MechanismSet.mechanisms).selectinload(Mechanism.tracks),
                                     selectinload(MechanismSet.mechanisms).selectinload(Mechanism.indicator_groups))
        .order_by(MechanismSet.level, MechanismSet.loaded_at.desc())
    ).all()


def _stage_choices():
    return [(d.code, d.title) for d in db.session.scalars(select(StageDefinition).order_by(StageDefinition.position))]


def _page(status=200, mechanism_form=None, track_form=None, set_id=None, mechanism_id=None):
    """The catalogue; after a refused submission, `set_id` / `mechanism_id` name the set or mechanism whose form was
    sent: that one form comes back with the data and errors, every other copy on the page stays blank."""
    choices = as_choices(_stage_choices())
    # formdata=None: a form built during a POST would otherwise bind the refused request's fields
    blank_track = TrackForm(formdata=None)
    blank_track.blocks.choices = choices
    if track_form is not None:
        track_form.blocks.choices = choices
    is_catalogue_admin = any(r.role == "admin" and r.organisation.parent_id is None for r in current_user.roles)
    stages = _stage_choices()
    return render_template("catalogue/index.html", sets=_sets(), stages=stages, editions=services.edition_numbers(),
                           # a partial track's blocks by the numbers of the stage list above the table, not codes
                           stage_numbers={code: n for n, (code, _title) in enumerate(stages, 1)},
                           mechanism_form=MechanismForm(formdata=None), track_form=blank_track,
                           refused_mechanism_form=mechanism_form, refused_set_id=set_id,
                           refused_track_form=track_form, refused_mechanism_id=mechanism_id,
                           is_catalogue_admin=is_catalogue_admin), status


@bp.route("/")
@signed_in
def index():
    return _page()


def _require_catalogue_admin():
    # The catalogue is shared by the whole region: only a regional administrator edits it.
    if not current_user.is_regional_admin:
        raise PermissionDenied("Перечень механизмов изменяет только администратор регионального уровня.")


@bp.route("/sets/<int:set_id>/mechanisms", methods=["POST"])
@roles_required("admin")
@submit_once
def add_mechanism(set_id: int):
    _require_catalogue_admin()
    mset = db.session.get(MechanismSet, set_id)
    if mset is None:
        raise NotFound()
    form = MechanismForm()
    if not form.validate_on_submit():
        return _page(422, mechanism_form=form, set_id=mset.id)
    groups = [line.strip() for line in (form.groups.data or "").splitlines() if line.strip()]
    on_refusal(lambda exc: _page(exc.status_code, mechanism_form=form, set_id=mset.id), field=form.code)
    services.add_mechanism(mset, code=form.code.data, title=form.title.data, group=form.group.data or None,
                           groups=groups, actor=current_user)
    flash("Механизм добавлен.", "success")
    return redirect(url_for("catalogue.index"))


@bp.route("/mechanisms/<int:mechanism_id>/tracks", methods=["POST"])
@roles_required("admin")
@submit_once
def add_track(mechanism_id: int):
    _require_catalogue_admin()
    mechanism = db.session.get(Mechanism, mechanism_id)
    if mechanism is None:
        raise NotFound()
    form = TrackForm()
    form.blocks.choices = as_choices(_stage_choices())
    if not form.validate_on_submit():
        return _page(422, track_form=form, mechanism_id=mechanism.id)
    on_refusal(lambda exc: _page(exc.status_code, track_form=form, mechanism_id=mechanism.id))
    services.add_track(mechanism, code=form.code.data, title=form.title.data, blocks=form.blocks.data or None,
                       actor=current_user)
    flash("Трек добавлен.", "success")
    return redirect(url_for("catalogue.index") + f"#m{mechanism.id}")


