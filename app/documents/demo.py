"""Demo data of this feature, called from app.demo for each stage it fills (before the stage is submitted).

Every stage with mandatory document types gets them (rendered right away, in the demo's transaction), so the
stage guard passes; the closed demo cycle M2.3 also carries its documents through approval, signature and
registration, and publishes those an authority puts on its site, so the demo shows the whole lifecycle and the
public pages have documents to show.
"""

from app.auth.models import User
from app.auth.services import users_with_role_at
from app.documents import services
from app.documents.catalogue import mandatory_types
from app.documents.guards import list_without_methods
from app.documents.jobs import produce_registered_inline
from app.extensions import db
from app.orgs.models import Organisation
from workflows import engine
from workflows.document import awaits_cosignature, cosigner_id, pending_step

FULL_LIFECYCLE_MECHANISMS = ("M2.3",)
# What the authority puts on its site once registered (the public pages read them): the положение, the analytic
# report, the roadmap and the effectiveness report — not its internal orders and letters.
PUBLISHED_TYPES = ("regulation", "analytic_report", "roadmap", "effectiveness_report")


def _addressee_for(stage):
    """The first addressee of the cycle's recommendations if there are any, else the first institution."""
    ids = services.recommendation_addressee_ids(stage)
    if ids:
        return db.session.get(Organisation, ids[0])
    choices = services.addressee_choices(stage.organisation)
    return choices[0] if choices else stage.organisation


def _complete(doc, *, official, head, sender=None) -> None:
    """Route, sign and register a generated document as the demo's people would: `sender` (default `official`)
    sends it on, `official` registers it."""
    if doc.current is None or doc.current.status != "done":
        return
    if doc.doc_type.approval_route:
        services.transition(doc, "to_approval", actor=sender or official)
        while doc.state == "on_approval":
            step = pending_step(doc.current)
            # whoever holds the step's role and may agree it: not who prepared the edition (separation of duties)
            approver = next(u for u in users_with_role_at(doc.organisation, {step.role})
                            if engine.can(doc, "agree", u))
            services.decide_step(doc, "approved", actor=approver, comment=None)
    else:
        services.transition(doc, "to_signature", actor=sender or official)
    # The demo signs as the head would; the password re-entry is the page's check, not the data's. A protocol is
    # first signed by the secretary it names.
    if awaits_cosignature(doc):
        engine.fire(doc, "cosign", actor=db.session.get(User, cosigner_id(doc)))
    engine.fire(doc, "sign", actor=head)
    if doc.doc_type.registered:
        services.transition(doc, "register", actor=official)
        produce_registered_inline(doc.current)  # the queued job then finds it done and leaves it alone


# The assessment's demo (app/assessment/demo.py) routes, signs and registers its campaign's documents the same way.
complete_document = _complete


def fill_documents(stage, *, official, head, rng=None, today=None) -> None:
    """Create the stage's mandatory documents (at least drafts); in M2.3 also route, sign and register them."""
    made = []
    for doc_type in mandatory_types(stage.code):
        addressee = _addressee_for(stage) if doc_type.per_addressee else None
        # the перечень made at «Показатели» is made anew at «Методы», with the methods (guards.list_without_methods)
        if services.find_document(stage, doc_type.key, addressee=addressee) is not None \
                and not list_without_methods(stage):
            continue
        made.append(services.generate_document(stage, doc_type.key, actor=official, addressee=addressee,
                                               validate=False, inline=True))
    if stage.cycle.track.mechanism.code in FULL_LIFECYCLE_MECHANISMS and head is not None:
        for doc in made:
            _complete(doc, official=official, head=head)
            # the cycle the demo carries to its end (the mechanism's first track), not its other tracks' drafts
            if doc.type_key in PUBLISHED_TYPES and doc.state == "registered" and stage.cycle.track.position == 1:
                services.transition(doc, "publish", actor=official)


STAGE_FILLERS: dict = {code: fill_documents for code in ("GOAL", "IND", "METH", "MON", "ANL", "REC", "MEAS", "DEC",
                                                          "EFF")}
