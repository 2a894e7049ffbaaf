"""The scoped getter and the rule descriptors of app/core/access.py, tested directly (mutants of
`make mutation` that the route walks did not kill: a role filter turned into a union, 404 into 403)."""

from flask_login import login_user, logout_user
from werkzeug.exceptions import Forbidden, NotFound

from app.core import access
from app.orgs.models import Organisation


def _get(app, user, model, object_id, **kwargs):
    with app.test_request_context():
        login_user(user)
        try:
            return access.get_in_scope(model, object_id, **kwargs)
        finally:
            logout_user()


def _refusal(app, user, model, object_id, **kwargs):
    try:
        _get(app, user, model, object_id, **kwargs)
    except (NotFound, Forbidden) as refusal:
        return refusal.code
    return None


def test_an_organisation_in_the_subtree_is_returned(app, world):
    assert _get(app, world["official"], Organisation, world["school_a"].id) == world["school_a"]
    assert _get(app, world["official"], Organisation, world["school_a"].id,
                roles={"official"}) == world["school_a"]


def test_a_role_the_user_does_not_hold_there_is_404_even_inside_the_subtree(app, world):
    """The official holds a role over school A, but not the one the view asks for: refused, as if absent."""
    assert _refusal(app, world["official"], Organisation, world["school_a"].id, roles={"admin"}) == 404
    assert _refusal(app, world["director_a"], Organisation, world["school_a"].id,
                    roles={"official", "head"}) == 404


def test_an_object_outside_the_subtree_and_a_missing_one_answer_the_same_404(app, world, db_session):
    missing = (db_session.query(Organisation.id).order_by(Organisation.id.desc()).limit(1).scalar() or 0) + 1000
    assert _refusal(app, world["director_a"], Organisation, world["school_b"].id) == 404
    assert _refusal(app, world["director_a"], Organisation, missing) == 404


def test_rule_descriptions_name_the_authentication():
    assert repr(access.Rule(public=True)) == "public"
    assert repr(access.Rule(roles=frozenset({"head", "official"}))) == "roles=['head', 'official']"
    assert repr(access.Rule()) == "roles=any"
    assert repr(access.Rule(roles=frozenset({"official"}), token=True)) == "api token, roles=['official']"


def test_a_rule_applied_to_a_foreign_view_keeps_its_name_and_works():
    def extension_view(value):
        """The extension's own view."""
        return value * 2

    wrapped = access.with_rule(access.public)(extension_view)
    assert wrapped.__name__ == "extension_view" and wrapped.__doc__ == "The extension's own view."
    assert wrapped(21) == 42
    assert repr(getattr(wrapped, access.RULE_ATTR)) == "public"



def test_a_deputy_gets_the_absent_persons_scope_for_their_role_during_the_leave_only(app, world, deputy_of_head,
                                                                                    db_session):
    """Scope conditions (lists, counts) by the head's role admit the deputy while the stand-in lasts."""
    from datetime import date, timedelta

    from app.deadlines.standins import create_stand_in

    assert access.acting_scope_paths(deputy_of_head, {"head"}) == []
    assert _refusal(app, deputy_of_head, Organisation, world["mun"].id, roles={"head"}) == 404
    today = date.today()
    create_stand_in(absent=world["head"], deputy=deputy_of_head, start=today, end=today + timedelta(days=3),
                    reason="командировка", actor=world["head"], today=today)
    db_session.commit()
    assert access.acting_scope_paths(deputy_of_head, {"head"}) == [world["mun"].path]
    assert _get(app, deputy_of_head, Organisation, world["mun"].id, roles={"head"}) == world["mun"]
    assert deputy_of_head.scope_paths({"head"}) == []
