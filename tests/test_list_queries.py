"""List pages issue a fixed number of SQL statements whatever the number of rows (no N+1)."""

from datetime import date, timedelta

import pytest

from tests.conftest import counted_statements

MECHANISMS = ["M1.1", "M1.2", "M1.3", "M1.4", "M2.1", "M2.2", "M2.3", "MX.1"]  # each has a "main" track


def _add_cycles(actor, owners, make_cycle, start, n):
    """n more cycles (each with nine stages and a task for `actor`), spread over the owners."""
    pairs = [(owner, code) for owner in owners for code in MECHANISMS][start:start + n]
    for i, (owner, code) in enumerate(pairs):
        make_cycle(owner, actor, mechanism=code, responsible=actor,
                   deadlines={"GOAL": date.today() + timedelta(days=i + 1)})


@pytest.mark.parametrize("url", ["/", "/cycles", "/tasks/", "/orgs/"])
def test_list_pages_do_not_query_per_row(world, make_cycle, make_org, make_user, db_session, client, login, url):
    regional = make_user("official", world["region"], login="regional_official")
    owners = [world["mun"]] + [make_org("municipality", parent=world["region"]) for _ in range(2)]
    db_session.commit()

    def statements_for(start, n):
        _add_cycles(regional, owners, make_cycle, start, n)
        db_session.commit()
        login(regional)
        with counted_statements() as statements:
            assert client.get(url).status_code == 200
        client.post("/logout")
        return len(statements)

    few = statements_for(0, 2)
    many = statements_for(2, 16)  # 18 cycles now, with their stages, tasks and owners
    assert many == few, f"{url}: {few} statements with few rows, {many} with many"
