"""Charts of the region picture: the heat map, the levels per mechanism and the region's profile across the
blocks. Drawn by app/core/charts.py from plain lists, and stored once per data change through the analysis
feature's chart store (`app.analysis.chart_cache`: the SHA-256 of the data is the key, so a stored chart is never
stale). The page shows them as SVG; the PNG export (and the analytical report) takes the PNG, stored the same way
under its own kind, base64 in the store's text column.
"""

from __future__ import annotations

import base64
import textwrap

from matplotlib.patches import Patch, Rectangle

from app.analysis import chart_cache
from app.assessment import evidence
from app.core import charts
from app.core import russian as ru

# The colours of the page's level badges and cells (Bootstrap's success / info / warning / danger), so the chart
# and the table read alike.
LEVEL_COLOURS = {"high": "#198754", "medium": "#0dcaf0", "low": "#ffc107", "none": "#dc3545", None: "#e9ecef"}
LEVEL_NAMES = {"high": "высокий", "medium": "средний", "low": "низкий", "none": "не сформирован", None: "нет оценки"}
CHARTS = {"heatmap": "Тепловая карта", "levels": "Уровни по механизмам", "blocks": "Профиль по блокам",
          "linkage": "Региональная система и муниципалитеты"}


def _pct(value, fixed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if float(value).is_integer() and not fixed else f"{value:.1f}".replace(".", ",")


def heatmap_chart(names: list[str], mechanisms: list[str], cells: list[list], fmt: str = "svg",
                  fixed: bool = False) -> bytes:
    """cells[i][j] = [percent, level] of municipality i and mechanism j; `fixed`: every percent with its tenth
    («45,0»), as a document's tables print them (the page's chart, whose key has no such flag, prints «45»)."""
    # Short, wrapped names: «Управление образования администрации городского округа Северный» on one line took
    # two thirds of the width and pushed the title off the picture.
    names = ["\n".join(textwrap.wrap(n, 24)) for n in ru.short_org_names(names)]
    lines = sum(n.count("\n") + 1 for n in names)
    fig = charts.figure(17, max(5.0, 2.5 + 0.7 * len(names) + 0.35 * (lines - len(names))))
    ax = fig.add_subplot()
    for i, row in enumerate(cells):
        for j, (percent, level) in enumerate(row):
            ax.add_patch(_rect(j, i, LEVEL_COLOURS.get(level, LEVEL_COLOURS[None])))
            ax.text(j + 0.5, i + 0.5, _pct(percent, fixed), ha="center", va="center", fontsize=8,
                    color="white" if level in ("high", "none") else "black")
    ax.set_xlim(0, len(mechanisms))
    ax.set_ylim(len(names), 0)
    ax.set_xticks([j + 0.5 for j in range(len(mechanisms))], mechanisms)
    ax.set_yticks([i + 0.5 for i in range(len(names))], names)
    ax.tick_params(length=0)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("Процент от максимума по механизмам", fontsize=10)
    _legend(fig, ax)
    return charts.render(fig, fmt)


def _rect(x, y, colour):
    return Rectangle((x, y), 1, 1, facecolor=colour, edgecolor="white", linewidth=1.5)


def _legend(fig, ax):
    handles = [Patch(facecolor=LEVEL_COLOURS[k], label=LEVEL_NAMES[k]) for k in LEVEL_COLOURS]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=8)


def levels_chart(mechanisms: list[str], counts: list[dict], fmt: str = "svg") -> bytes:
    """Stacked horizontal bars: per mechanism the number of municipalities at each level."""
    fig = charts.figure(17, max(6.0, 2.5 + 0.6 * len(mechanisms)))
    ax = fig.add_subplot()
    left = [0] * len(mechanisms)
    for level in ("high", "medium", "low", "none", None):
        key = level or "unscored"
        values = [c.get(key, 0) for c in counts]
        ax.barh(range(len(mechanisms)), values, left=left, color=LEVEL_COLOURS[level], label=LEVEL_NAMES[level])
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(range(len(mechanisms)), mechanisms)
    ax.invert_yaxis()
    ax.set_xlabel("Число муниципалитетов")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Уровни сформированности по механизмам", fontsize=10)
    fig.legend(loc="outside lower center", ncols=5, frameon=False, fontsize=8)
    return charts.render(fig, fmt)


def blocks_chart(blocks: list[str], municipalities: list, line: float, title: str, regional: list | None = None,
                 fmt: str = "svg") -> bytes:
    """Per block: the municipalities' percent and, for the linkage, the regional system's own beside it."""
    fig = charts.figure(17, 7)
    ax = fig.add_subplot()
    xs = range(len(blocks))
    has_own = regional is not None
    width = 0.4 if has_own else 0.7
    ax.bar([x - (width / 2 if has_own else 0) for x in xs], [v or 0 for v in municipalities], width,
           color="#3b6ea5", label="муниципалитеты" + (" (среднее, те же механизмы)" if has_own else ""))
    if has_own:
        ax.bar([x + width / 2 for x in xs], [v or 0 for v in regional], width, color="#9aa5b1",
               label="региональная система")
    else:
        ax.axhline(line, color="#c0504d", linewidth=1, linestyle="--",
                   label=f"граница проблемной зоны, {line:.0f} %")
    ax.set_xticks(list(xs), blocks)
    ax.set_xlabel("блок цикла (номер)")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% от максимума")
    ax.set_title(title, fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    return charts.render(fig, fmt)


DRAWERS = {"heatmap": heatmap_chart, "levels": levels_chart, "blocks": blocks_chart, "linkage": blocks_chart}


def _png(draw):
    return lambda **data: base64.b64encode(draw(**data, fmt="png"))


# Registered in the analysis chart store: one store, one «drawn once per data change» path for every chart.
for _name, _draw in DRAWERS.items():
    chart_cache.DRAW.setdefault(f"assessment_{_name}", _draw)
    chart_cache.DRAW.setdefault(f"assessment_{_name}_png", _png(_draw))


def chart_data(picture) -> dict[str, dict]:
    """What each chart is drawn from (plain values: the store's key is their hash)."""
    rows = picture.rows
    counts = []
    for d in picture.distribution:
        counts.append({**{k: v for k, v in d["counts"].items() if k is not None}, "unscored": d["counts"][None]})
    blocks = list(picture.region_profile)
    # The axis names a block by its number in the cycle (1 … 9), as the page's tables do: never by its code (GOAL).
    numbers = evidence.block_positions()
    data = {
        "heatmap": {"names": [r.name for r in rows], "mechanisms": picture.mechanisms,
                    "cells": [[[r.cells[c].percent, r.cells[c].level] for c in picture.mechanisms] for r in rows]},
        "levels": {"mechanisms": picture.mechanisms, "counts": counts},
        "blocks": {"blocks": [str(numbers.get(b, b)) for b in blocks],
                   "municipalities": [picture.region_profile[b]["percent"] for b in blocks],
                   "line": float(picture.problem_below), "title": "Профиль муниципалитетов по блокам цикла"},
    }
    linkage = picture.linkage
    if linkage is not None:
        data["linkage"] = {"blocks": [str(numbers.get(b["block"], b["block"])) for b in linkage.blocks],
                           "municipalities": [b["municipal_mean"] for b in linkage.blocks],
                           "regional": [b["region_percent"] for b in linkage.blocks],
                           "line": float(picture.problem_below),
                           "title": "Региональная система и муниципалитеты по блокам"
                                    + (f" ({', '.join(linkage.compared)})" if linkage.compared else "")}
    return data


def svg_inline(name: str, data: dict):
    return chart_cache.inline(f"assessment_{name}", data)


def png(name: str, data: dict) -> tuple[str, bytes]:
    """(key, PNG bytes) of a chart, drawn once per data change."""
    key, body = chart_cache.svg(f"assessment_{name}_png", data)
    return key, base64.b64decode(body)


def pngs(picture) -> dict[str, bytes]:
    """Every chart of the picture as PNG (for the analytical report)."""
    return {name: png(name, data)[1] for name, data in chart_data(picture).items()}
