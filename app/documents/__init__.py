"""Документы (документы цикла): document types, Word templates, generation, approval, signing, registration."""

from flask import Blueprint

bp = Blueprint("documents", __name__, template_folder="templates")


@bp.app_template_global()
def stage_documents(stage) -> dict:
    """The stage's documents with their states, and what the current user may generate, for the stage page."""
    from flask_login import current_user
    from sqlalchemy import select

    from app.documents import services
    from app.extensions import db
    from app.monitoring.models import DataRequest
    from workflows.document import STATES

    overview = services.stage_overview(stage)
    can_generate = stage.state != "waiting" and services.can_edit(current_user, stage)
    needs_addressee = any(t.per_addressee for t in overview["types"])
    needs_request = any(t.subject == "data_request" for t in overview["types"])
    return {
        **overview,
        "states": STATES,
        "statuses": services.GENERATION_STATUSES,
        "can_generate": can_generate,
        "addressees": services.addressee_choices(stage.organisation) if can_generate and needs_addressee else [],
        "recommendation_addressees": services.recommendation_addressees(stage)
        if can_generate and needs_addressee else [],
        "data_requests": list(db.session.scalars(select(DataRequest).where(DataRequest.cycle_id == stage.cycle_id)
                                                 .order_by(DataRequest.id))) if needs_request else [],
    }


from app.documents import models, pdf, pdf_views, template_admin, template_views, views  # noqa: E402,F401
