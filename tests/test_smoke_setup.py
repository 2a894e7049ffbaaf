from sqlalchemy import func, select


def test_catalogue_is_loaded_into_the_migrated_database(db_session):
    from app.catalogue.models import Mechanism, StageDefinition

    assert db_session.scalar(select(func.count()).select_from(StageDefinition)) == 9
    codes = set(db_session.scalars(select(Mechanism.code)))
    assert {"M1.1", "M2.4", "MX.1", "R1.1", "R2.5", "I1.1"} <= codes


def test_each_test_starts_from_a_clean_database(world, db_session):
    from app.orgs.models import Organisation

    assert db_session.scalar(select(func.count()).select_from(Organisation)) == 4
