"""Hooks the workflows ask and the features fill at start-up (see app/workflow_hooks.py).

The workflows sit below the feature packages: a guard that needs a feature's answer (is the monitoring
stage's content complete? are the mandatory documents there? is proof attached?) asks a hook here
instead of importing the feature. Unfilled hooks answer with their defaults (nothing is missing), which
only happens in code that runs without an application.
"""

from __future__ import annotations

from typing import Callable

from app.core.hooks import Hook, covered_people

__all__ = ["Hook", "addressee_letter", "attachments_of", "covered_people", "invariant_problems", "mandatory_documents",
           "registered_document", "stage_content",
           "unsigned_documents"]

# Stage code → function(stage) → problems (in Russian): the content a stage must have before review.
stage_content: dict[str, Callable] = {}
# function(stage) → problems: the stage's mandatory documents exist, at least as drafts.
mandatory_documents = Hook("mandatory_documents", lambda stage: [])
# function(stage) → one Russian line per document of the stage's mandatory types not yet signed: what the approver
# is told beside «Утвердить».
unsigned_documents = Hook("unsigned_documents", lambda stage: [])
# function(obj, kind=None) → the files attached to `obj` (proof of execution, evidence).
attachments_of = Hook("attachments_of", lambda obj, kind=None: [])
# function(cycle) → problems: the upper level's invariant indicators the cycle lacks (README, «The vertical»).
invariant_problems = Hook("invariant_problems", lambda cycle: [])
# function(owner, type_key) → problems: `owner` (an object of a higher feature owning documents, e.g. an assessment
# campaign) has a registered document of `type_key` (app/documents/owners.py).
registered_document = Hook("registered_document", lambda owner, type_key: [])
# function(item) → problems: the addressee's letter (per-addressee document «Адресные рекомендации») is registered —
# its outgoing number and date are the proof of sending — and carries the item's recommendation
# (app/followup/letters.py).
addressee_letter = Hook("addressee_letter", lambda item: [])
# function(doc) → problems: the document's current edition no longer reports its owner's data (an expert conclusion
# made before another mechanism's evaluation was approved; app/documents/owners.py `outdated`).
document_outdated = Hook("document_outdated", lambda doc: [])
