"""User-typed text on charts is drawn as typed: matplotlib reads the text between two «$» as a formula, so a
measure titled «Бюджет $^$» made the roadmap page a 500 (and every chart or document carrying the label fail),
and «5$ и 10$» lost its dollars (attack 4)."""

from datetime import date
from types import SimpleNamespace

import pytest

from app.core import charts
from app.followup.timeline import roadmap_svg

pytestmark = pytest.mark.db_independent

FORMULA_LIKE = ["Бюджет $^$ на ремонт", "Итог $\\x$", "a $_$ b", "Скидка 5$ и 10$", "$\\frac{1}{$"]


@pytest.mark.parametrize("label", FORMULA_LIKE)
@pytest.mark.parametrize("fmt", charts.FORMATS)
def test_a_dollar_pair_in_a_label_renders(label, fmt):
    fig = charts.figure(10, 6)
    ax = fig.add_subplot()
    ax.barh([0], [1.0])
    ax.set_yticks([0], [label])
    ax.set_title(label)
    ax.annotate(label, (0.5, 0.5))
    assert charts.render(fig, fmt)


def test_the_roadmap_shows_a_title_with_dollars_literally():
    measure = SimpleNamespace(id=1, title="Скидка 5$ и 10$", state="planned", start_date=date(2026, 12, 10),
                              end_date=date(2027, 1, 20))
    broken = SimpleNamespace(id=2, title="Бюджет $^$", state="planned", start_date=date(2026, 12, 1),
                             end_date=date(2026, 12, 20))
    svg = roadmap_svg([measure, broken], date(2026, 12, 5))
    assert "1. Скидка 5$ и 10$" in svg and "2. Бюджет $^$" in svg
