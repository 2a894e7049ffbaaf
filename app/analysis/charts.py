"""Charts of the analysis pages and the analytic report. Drawing only: every figure comes from and is
rendered by app/core/charts.py (SVG inline on pages, PNG in documents). Inputs are plain lists.

Readable at print size (the PNG is placed ~16 cm wide, so 1 cm of figure is 1 cm of paper): titles and names are
wrapped, never cut; legends stand below the plot, never over the bars; axes are labelled in Russian with units;
numbers in labels use the decimal comma."""

import textwrap

from app.core import charts
from app.core import russian as ru

BAR = "#3b6ea5"
HIGHLIGHT = "#c0504d"
MUTED = "#9aa5b1"


def _wrap(text: str, width: int = 30) -> str:
    """Whole words on lines of at most `width` characters (a long name takes two or three lines). Titles are
    the figure's (suptitle), centred over the whole width, so the layout keeps them inside the picture."""
    return "\n".join(textwrap.wrap(text or "", width)) or ""


def _names(names: list[str], width: int = 30) -> list[str]:
    """Organisations' names as an axis shows them: the short form of a full name (ru.short_org_names — a school
    entered without a short name, «Муниципальное бюджетное общеобразовательное учреждение «Средняя
    общеобразовательная школа № 5 …»», took four lines and half the width of a 16 cm chart), wrapped."""
    return [_wrap(n, width) for n in ru.short_org_names(names)]


def _lines(texts: list[str]) -> int:
    return sum(t.count("\n") + 1 for t in texts)


def indicator_chart(title: str, bars: list[tuple[str, float]], *, target: float | None = None,
                    baseline: float | None = None, total: float | None = None, unit: str | None = None,
                    summed: bool = False, digits: int | None = None, fmt: str = "svg") -> bytes:
    """Horizontal bars: one indicator's value per organisation, with target, baseline and total lines.

    `digits`: the decimals the table beside the chart prints the values with (the dashboard's
    chart_cache.value_digits, the analytic report's «Итоговое» column): the total is printed as there, in its unit's
    precision («73,0» beside the table's «73,0», a head count whole); without it with at most one decimal.

    `summed`: the owner's figures are a sum of the organisations' (a head count: monitoring.values.owner_value), so
    its baseline, target and total are on another scale than any one organisation's bar — said under the plot in
    words, not drawn as lines across the bars (a target of 25 pupils for the municipality is no line for a school
    of 12)."""
    bars = [(name, value) for name, value in bars if value is not None]
    names = _names([n for n, _v in bars])[::-1]
    title = _wrap(title, 70)
    height = max(6.0, 2.5 + 0.6 * _lines(names) + 0.5 * title.count("\n"))
    fig = charts.figure(16, min(height, 24))
    ax = fig.add_subplot()
    values = [v for _n, v in bars][::-1]
    ax.barh(range(len(values)), values, color=BAR)
    ax.set_yticks(range(len(values)), names)
    if ru.is_count_unit(unit):
        ax.xaxis.get_major_locator().set_params(integer=True)  # people are whole: no «0,5» … «3,5» on the axis
    note = ""
    total_text = ru.number(total, 1) if digits is None else ru.amount(total, unit, digits, fixed=True)
    if summed:
        note = "; ".join(f"{label} {text}" for label, v, text in (
            ("в целом (сумма)", total, total_text if digits is not None else ru.number(total)),
            ("базовое", baseline, ru.number(baseline)), ("целевое", target, ru.number(target))) if v is not None)
    else:
        if target is not None:
            ax.axvline(target, color=HIGHLIGHT, linestyle="--", label=f"целевое {ru.number(target)}")
        if baseline is not None:
            ax.axvline(baseline, color=MUTED, linestyle=":", label=f"базовое {ru.number(baseline)}")
        if total is not None:
            ax.axvline(total, color="#333333", linewidth=1, label=f"в целом {total_text}")
    if not summed and (target is not None or baseline is not None or total is not None):
        # Below the plot, never over the bars.
        fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    # the owner's summed figures go on a line of the axis label: the layout keeps it inside the picture
    ax.set_xlabel((f"значение показателя, {unit}" if unit else "значение показателя")
                  + (f"\n{note}" if note else ""))
    fig.suptitle(title, fontsize=10)
    if not values:
        ax.text(0.5, 0.5, "нет данных", ha="center", va="center", transform=ax.transAxes)
    return charts.render(fig, fmt)


def shares_chart(rows: list[tuple[str, float]], *, title: str, fmt: str = "svg") -> bytes:
    """Bars of a share (0–100 %) per named unit, e.g. the share of schools with signs per municipality."""
    names = _names([n for n, _v in rows])[::-1]
    fig = charts.figure(16, max(5.0, 2.0 + 0.6 * _lines(names)))
    ax = fig.add_subplot()
    values = [v or 0 for _n, v in rows][::-1]
    ax.barh(range(len(values)), values, color=HIGHLIGHT)
    ax.set_yticks(range(len(values)), names)
    ax.set_xlim(0, max([100.0] + values))
    ax.set_xlabel("доля школ, %")
    fig.suptitle(_wrap(title, 70), fontsize=10)
    if not values:
        ax.text(0.5, 0.5, "нет данных", ha="center", va="center", transform=ax.transAxes)
    return charts.render(fig, fmt)


def sign_counts_chart(counts: dict[str, int], *, labels: dict[str, str] | None = None, fmt: str = "svg") -> bytes:
    """Number of markers per sign K1–K5; with `labels` each sign is named in words (documents print no codes)."""
    signs = ["K1", "K2", "K3", "K4", "K5"]
    names = [_wrap((labels or {}).get(s, s), 34) for s in signs][::-1]
    fig = charts.figure(16, max(6.0, 2.0 + 0.6 * _lines(names)))
    ax = fig.add_subplot()
    ax.barh(range(len(signs)), [counts.get(s, 0) for s in signs][::-1], color=HIGHLIGHT)
    ax.set_yticks(range(len(signs)), names)
    ax.set_xlabel("число случаев (школа, предмет, класс, год)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle("Признаки необъективности результатов: число случаев", fontsize=10)
    return charts.render(fig, fmt)


def cluster_chart(points: list[tuple[int, float, str]], *, fmt: str = "svg") -> bytes:
    """Each school's deviation (z) from its cluster's mean, by cluster: above / below what similar schools
    achieve."""
    fig = charts.figure(16, 8)
    ax = fig.add_subplot()
    groups = {"выше ожидаемого": (BAR, []), "на уровне ожидаемого": (MUTED, []), "ниже ожидаемого": (HIGHLIGHT, [])}
    for cluster, z, position in points:
        text = str(position or "")
        key = "выше ожидаемого" if text.startswith(("выше", "above")) else \
            "ниже ожидаемого" if text.startswith(("ниже", "below")) else "на уровне ожидаемого"
        groups[key][1].append((cluster, z))
    for label, (colour, xy) in groups.items():
        if xy:
            ax.scatter([c for c, _z in xy], [z for _c, z in xy], color=colour, s=18, label=label)
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel("кластер школ со схожими условиями")
    # Short lines: a longer label is cut at both ends on a 7 cm high chart (PDF review of the справка).
    ax.set_ylabel("отклонение от среднего\nпо кластеру, ст. откл.")
    # The colours mean something only with a key; below the plot, as for the other charts.
    if points:
        fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    clusters = sorted({c for c, _z, _p in points})
    if clusters:
        ax.set_xticks(clusters, [str(c) for c in clusters])
        ax.set_xlim(clusters[0] - 0.5, clusters[-1] + 0.5)  # the outer clusters' points off the frame
    fig.suptitle("Результаты школ относительно школ со схожими условиями", fontsize=10)
    return charts.render(fig, fmt)
