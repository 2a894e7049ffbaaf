"""app/core/db.in_ids: `column IN ids` with the ids as one bound parameter, on SQLite and PostgreSQL alike."""

from sqlalchemy import select


def test_in_ids_finds_exactly_the_listed_rows_with_one_parameter(world, db_session):
    from app.core.db import in_ids
    from app.extensions import db
    from app.orgs.models import Organisation

    all_ids = sorted(db_session.scalars(select(Organisation.id)))
    wanted = [all_ids[0], all_ids[-1], 10**9]  # one id that no row has
    query = select(Organisation.id).where(in_ids(Organisation.id, wanted)).order_by(Organisation.id)
    assert db_session.scalars(query).all() == [all_ids[0], all_ids[-1]]
    assert db_session.scalars(select(Organisation.id).where(in_ids(Organisation.id, []))).all() == []
    many = list(range(1, 2001)) + all_ids
    assert db_session.scalars(select(Organisation.id).where(in_ids(Organisation.id, many))
                              .order_by(Organisation.id)).all() == all_ids
    # One bound parameter whatever the number of ids: the statement's text does not grow with them.
    compiled = select(Organisation.id).where(in_ids(Organisation.id, many)).compile(db.engine)
    assert len(compiled.params) == 1


def test_in_ids_with_a_key_is_built_once_and_bound_at_each_execution(world, db_session):
    from app.core.db import in_ids
    from app.orgs.models import Organisation

    all_ids = sorted(db_session.scalars(select(Organisation.id)))
    query = select(Organisation.id).where(in_ids(Organisation.id, key="wanted")).order_by(Organisation.id)
    assert db_session.scalars(query, {"wanted": all_ids[:1]}).all() == all_ids[:1]
    assert db_session.scalars(query, {"wanted": all_ids[1:] + [10**9]}).all() == all_ids[1:]
    assert db_session.scalars(query, {"wanted": []}).all() == []
