"""Start-up wiring of the hooks the lower layers ask (app/core/hooks.py, workflows/hooks.py, task kinds).

Called once from create_app. Each registration says which feature answers which question, so the
core, the tasks and the workflows never import a feature package.
"""

from __future__ import annotations


def register(app=None) -> None:
    """Fill every hook; idempotent (the factory may build several applications in one process)."""
    # Local: the factory calls this once the features are loaded; at module level these imports would load them all.
    from app.analysis.guards import analysis_content
    from app.api.services import user_for_bearer
    from app.assessment.services import assigned_municipalities
    from app.core import hooks as core_hooks
    from app.cycles.services import invariant_problems
    from app.deadlines.cover import absent_people_covered_by, deputies_on
    from app.deadlines.ical import revoke_feed
    from app.documents.attachments import attachments_of
    from app.documents.guards import mandatory_documents, registered_document, unsigned_documents
    from app.documents.owners import outdated as document_outdated
    from app.effectiveness.guards import stage_content as follow_up_content
    from app.followup.letters import letter_problems
    from app.tasks.models import TASK_KINDS, TASK_LINKS
    from workflows import engine
    from workflows import hooks as workflow_hooks
    from workflows.data_request import monitoring_stage_problems

    core_hooks.covered_people.register(absent_people_covered_by)
    core_hooks.deputies_on.register(deputies_on)
    core_hooks.bearer_user.register(user_for_bearer)
    core_hooks.assigned_organisations.register(assigned_municipalities)
    core_hooks.state_label.register(engine.state_label_for)
    core_hooks.password_changed.register(revoke_feed)

    workflow_hooks.mandatory_documents.register(mandatory_documents)
    workflow_hooks.attachments_of.register(attachments_of)
    workflow_hooks.addressee_letter.register(letter_problems)
    workflow_hooks.registered_document.register(registered_document)
    workflow_hooks.unsigned_documents.register(unsigned_documents)
    workflow_hooks.invariant_problems.register(invariant_problems)
    workflow_hooks.document_outdated.register(document_outdated)
    workflow_hooks.stage_content.update({
        "MON": monitoring_stage_problems,
        "ANL": analysis_content,
        # REC, MEAS, DEC, EFF: the same integrity checks the cycle integrity panel lists.
        **{code: follow_up_content for code in ("REC", "MEAS", "DEC", "EFF")},
    })

    TASK_KINDS.update(engine.task_kinds())
    TASK_LINKS.update(engine.task_links())

    if app is not None:
        # templates/_workflow.html state_badge: every page names and colours a state from its workflow.
        app.jinja_env.globals["workflow_vocabulary"] = engine.vocabulary
