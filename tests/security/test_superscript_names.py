"""A name with a superscript after a number («МОУ «Лицей» № 1²»: ² is a «digit» to `str.isdigit`, not to `\\d`). The
natural sort of names split them on runs of digits and told those runs by `str.isdigit`, so «²» was taken for a
number and int() raised: once an administrator saved such a name, every page sorting the municipality's
organisations — the list of organisations, the cycles' filter, the public pages — was a 500 for everyone (attack 8)."""

import pytest

NAMES = ["МОУ «Лицей» № 1²", "²", "Школа 10³"]


@pytest.mark.parametrize("name", NAMES)
def test_the_sort_key_orders_names_with_superscripts(name):
    from app.core.russian import sort_key

    ordered = sorted(["Школа 10", name, "Школа 2"], key=sort_key)
    assert ordered.index("Школа 2") < ordered.index("Школа 10")


def test_pages_listing_an_organisation_named_with_a_superscript_open(client, login, world, db_session):
    school = world["school_b"]
    school.name = school.short_name = NAMES[0]
    db_session.commit()
    login(world["admin"])
    for path in ["/orgs/", "/cycles", "/audit/", f"/public/orgs/{world['mun'].code}"]:
        response = client.get(path)
        assert response.status_code == 200, path
