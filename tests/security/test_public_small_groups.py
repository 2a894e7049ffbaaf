"""The public pages suppress a group of fewer than PUBLIC_MIN_GROUP participants, and must not publish it by
difference: a municipality's total minus its schools' published figures was the small school's group — in the demo
ГО Северный showed 234 participants of ВПР «Русский язык», 4 класс, its ten schools 231, and the eleventh school's
three pupils' mean and marks followed to the page's rounding (attack 4). Now the figures of a page are summed over
the published groups below it, and the groups left out are added back only together, once they reach the
threshold."""

import random

import pytest

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from tests.test_imports import import_results, result_row, results_csv, run_file, uploads  # noqa: F401


def _rows(school, first, count, score, mark):
    return [result_row(n, school_code=school, primary_score=str(score), task_1=str(score - 4) if score > 4 else "0",
                       task_2=str(min(score, 4)), mark=str(mark), term_mark=str(mark))
            for n in range(first, first + count)]


def _page(client, org) -> str:
    return client.get(f"/public/orgs/{org.code}").get_data(as_text=True)


def test_a_small_school_is_not_published_by_difference(world, import_results, client):  # noqa: F811
    from app.public import services

    rows = _rows("SCH-A", 1, 12, 7, 4) + _rows("SCH-B", 100, 3, 3, 2)
    assert import_results(results_csv(rows)).status == "done"
    _year, (mun,) = services.results(world["mun"])
    _year, (a,) = services.results(world["school_a"])
    _year, (b,) = services.results(world["school_b"])
    assert b.suppressed and b.participants == 3
    # What the municipality shows is exactly what its schools show: nothing is left to subtract.
    assert (mun.participants, mun.mean, mun.share_2) == (a.participants, a.mean, a.share_2) == (12, 70.0, 0.0)
    assert mun.partial and not a.partial
    page = _page(client, world["mun"])
    assert "70,0" in page and "62,0" not in page and "20,0" not in page  # 62,0 and 20,0: with the three
    assert "в итог не входят" in page
    assert "менее 10 участников — результаты не публикуются" in _page(client, world["school_b"])


def test_small_groups_reaching_the_threshold_together_are_published_together(world, import_results, client):  # noqa: F811
    from app.public import services

    rows = _rows("SCH-A", 1, 5, 7, 4) + _rows("SCH-B", 100, 5, 3, 2)
    assert import_results(results_csv(rows)).status == "done"
    _year, (mun,) = services.results(world["mun"])
    assert (mun.participants, mun.mean, mun.partial) == (10, 50.0, False)
    for school in ("school_a", "school_b"):
        _year, (group,) = services.results(world[school])
        assert group.suppressed
    assert "50,0" in _page(client, world["mun"])


@pytest.mark.parametrize("seed", range(30))
def test_no_page_differs_from_its_childrens_pages_by_a_small_group(app, seed):
    """A random region (municipalities, schools, a school's subtree): for every organisation, its published count
    minus its children's published counts is 0 or at least the threshold."""
    from app.public.services import _publishable

    rng, minimum = random.Random(seed), 10
    rows, nodes = [], {"/1/": []}
    for m in range(2, 2 + rng.randint(1, 4)):
        mun = f"/1/{m}/"
        nodes["/1/"].append(mun)
        nodes[mun] = []
        for k in range(rng.randint(1, 6)):
            school = f"{mun}{m * 100 + k}/"
            nodes[mun].append(school)
            nodes[school] = []
            n = rng.choice([1, 2, 3, 5, 8, 9, 10, 12, 30])
            rows.append((school, (n, 50.0 * n, n, 0, n, 0, 0)))

    def shown(path):
        return _publishable([r for r in rows if r[0].startswith(path)], path, minimum)[0]

    for path, children in nodes.items():
        if children:
            left = shown(path) - sum(shown(child) for child in children)
            assert left == 0 or left >= minimum, (seed, path, left)
