"""Документы (документы цикла): document types, Word templates, generation, approval, signing, registration."""

from flask import Blueprint

bp = Blueprint("documents", __name__, template_folder="templates")

# Below the blueprint: the view modules register their routes on it.
from flask import g  # noqa: E402
from flask_login import current_user  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.core.features import AuditVocabulary, Feature, Mount, NavEntry  # noqa: E402
from app.core.russian import sort_key  # noqa: E402
from app.documents import (  # noqa: E402,F401
    demo,
    invited,
    labels,
    lint,
    models,
    pdf,
    pdf_views,
    rendering,
    services,
    template_admin,
    template_views,
    views,
)
from app.extensions import db  # noqa: E402
from app.monitoring.models import DataRequest  # noqa: E402
from workflows import document  # noqa: E402
from workflows.stage import documents_frozen  # noqa: E402


@bp.app_template_global()
def stage_documents(stage) -> dict:
    """The stage's documents with their states, and what the current user may generate, for the stage page."""
    overview = services.stage_overview(stage)
    frozen = documents_frozen(stage)
    can_generate = (stage.state != "waiting" and not frozen and stage.cycle.state == "open"
                    and services.can_edit(current_user, stage))
    # a type whose document belongs to another stage on review (the перечень of IND and METH): no button, the reason
    frozen_types = {t.key: reason[0] for t in overview["types"] for d in overview["by_type"].get(t.key, [])
                    if d.stage is not None and d.stage.id != stage.id and (reason := documents_frozen(d.stage))} \
        if can_generate else {}
    needs_addressee = any(t.per_addressee for t in overview["types"])
    needs_request = any(t.subject == "data_request" for t in overview["types"])
    addressees = sorted(services.recommendation_addressees(stage), key=lambda o: (sort_key(o.display_name), o.id)) \
        if can_generate and needs_addressee else []
    return {
        **overview,
        "invited": _invited_boxes(stage, overview) if can_generate else {},
        "states": document.STATES,
        "statuses": services.GENERATION_STATUSES,
        "can_generate": can_generate,
        # why an editor of the stage finds no «Сформировать»: the stage, or a document's own stage, is on review
        "frozen": frozen[0] if frozen and services.can_edit(current_user, stage) else None,
        "frozen_types": frozen_types,
        # A per-addressee document is the recommendations to one addressee: any other organisation is refused («в
        # цикле нет адресных рекомендаций»), and the list of every institution preselected the first by name, so a
        # new cycle's first «Сформировать» was refused (walk 17). Only the recommendations' addressees are offered.
        "addressees": addressees,
        "recommendation_addressees": addressees,
        "data_requests": list(db.session.scalars(select(DataRequest).where(DataRequest.cycle_id == stage.cycle_id)
                                                 .order_by(DataRequest.id))) if needs_request else [],
    }


def _invited_boxes(stage, overview: dict) -> dict[str, str]:
    """type key → the text of the «Приглашённые» box for each type of the stage that prints those invited: what a
    refused «Сформировать» typed (views.generate renders the stage page with it, set on `g`), else the current
    edition's lines, so generating again keeps them."""
    typed = g.get("typed_invited")
    typed = typed if isinstance(typed, dict) and typed.get("stage") == stage.id else {}
    boxes = {}
    for t in overview["types"]:
        if invited.asks_invited(t.key):
            docs = overview["by_type"].get(t.key) or []
            boxes[t.key] = typed["text"] if typed.get("type") == t.key else invited.invited_text(
                docs[0].current.params if docs and docs[0].current else None)
    return boxes


# The renderer asks the template store which template is active (see rendering.use_template_store). Set here, at
# import, not in a setup hook: importing app.documents.rendering runs this file first, so the renderer is never
# without its store, even in a test or script that builds no app.
rendering.use_template_store(template_admin)


FEATURE = Feature(
    name="documents", order=10, blueprints=(Mount(bp, "/documents"),),
    audit=AuditVocabulary.of(labels), task_kinds=document.TASK_KINDS,
    stage_partials=("documents/_stage.html",), demo=demo.STAGE_FILLERS, demo_order=90,
    access_cases="tests.access_cases.documents", cli=(lint.documents_cli,),
    navigation=(NavEntry(30, "Шаблоны документов", "documents.templates_list", roles=frozenset({"admin"}),
                         group="Администрирование",
                         args=lambda user: {} if user.is_regional_admin else None),),
)
