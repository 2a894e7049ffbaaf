"""Access-walk knowledge of this feature's routes (merged by tests/test_access.py).

ROUTE_ARGUMENTS: URL argument → (scope, fn(objs, values, rule) → list of school-B values); use objs.extra.
ENDPOINT_SCOPES: endpoint → scope, where the argument's scope is not the endpoint's.
FORM_ROUTES: endpoint → fn(objs, world, session) → (actor key, URL values, form data of a successful POST).
school_b_objects(world, make_cycle, db_session, objs) → dict of extra school-B ids, put in objs.extra.

The evaluation and integrity pages take the cycle (`cycle_id`, already known); only a proposal has its own id.
"""

ORG_SCOPED = "organisation"

ROUTE_ARGUMENTS: dict = {
    "proposal_id": (ORG_SCOPED, lambda o, v, r: [o.extra["proposal_id"]]),
}
ENDPOINT_SCOPES: dict = {}
FORM_ROUTES: dict = {}


def school_b_objects(world, make_cycle, db_session, objs) -> dict:
    """An evaluation with one proposal on school B's cycle (rows only: its EFF stage is not open yet)."""
    from app.cycles.models import Cycle
    from app.effectiveness.models import EffectivenessEvaluation, EffectivenessProposal

    cycle = db_session.get(Cycle, objs.cycle_id)
    evaluation = EffectivenessEvaluation(cycle=cycle, stage=cycle.stage("EFF"), conclusions="Выводы школы Б",
                                         created_by_id=world["director_b"].id)
    proposal = EffectivenessProposal(kind="goal", text="Цель школы Б на следующий год",
                                     created_by_id=world["director_b"].id)
    evaluation.proposals.append(proposal)
    db_session.add(evaluation)
    db_session.flush()
    return {"proposal_id": proposal.id}
