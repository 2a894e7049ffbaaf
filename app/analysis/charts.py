"""Charts of the analysis pages and the analytic report. Drawing only: every figure comes from and is
rendered by app/core/charts.py (SVG inline on pages, PNG in documents). Inputs are plain lists."""

from app.core import charts

BAR = "#3b6ea5"
HIGHLIGHT = "#c0504d"
MUTED = "#9aa5b1"


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def indicator_chart(title: str, bars: list[tuple[str, float]], *, target: float | None = None,
                    baseline: float | None = None, total: float | None = None, fmt: str = "svg") -> bytes:
    """Horizontal bars: one indicator's value per organisation, with target, baseline and total lines."""
    bars = [(name, value) for name, value in bars if value is not None]
    height = max(5.0, 1.0 + 0.55 * len(bars))
    fig = charts.figure(16, min(height, 24))
    ax = fig.add_subplot()
    names = [_short(n) for n, _v in bars][::-1]
    values = [v for _n, v in bars][::-1]
    ax.barh(range(len(values)), values, color=BAR)
    ax.set_yticks(range(len(values)), names)
    if target is not None:
        ax.axvline(target, color=HIGHLIGHT, linestyle="--", label=f"цель {target:g}")
    if baseline is not None:
        ax.axvline(baseline, color=MUTED, linestyle=":", label=f"базовое {baseline:g}")
    if total is not None:
        ax.axvline(total, color="#333333", linewidth=1, label=f"итого {total:.1f}")
    if target is not None or baseline is not None or total is not None:
        # Below the plot, never over the bars.
        fig.legend(loc="outside lower center", ncols=3, fontsize=7, frameon=False)
    ax.set_title(_short(title, 90), fontsize=9)
    if not values:
        ax.text(0.5, 0.5, "нет данных", ha="center", va="center", transform=ax.transAxes)
    return charts.render(fig, fmt)


def shares_chart(rows: list[tuple[str, float]], *, title: str, fmt: str = "svg") -> bytes:
    """Bars of a share (0–100 %) per named unit, e.g. the share of schools with signs per municipality."""
    fig = charts.figure(16, max(5.0, 1.0 + 0.55 * len(rows)))
    ax = fig.add_subplot()
    names = [_short(n) for n, _v in rows][::-1]
    values = [v or 0 for _n, v in rows][::-1]
    ax.barh(range(len(values)), values, color=HIGHLIGHT)
    ax.set_yticks(range(len(values)), names)
    ax.set_xlim(0, max([100.0] + values))
    ax.set_xlabel("%")
    ax.set_title(title, fontsize=9)
    if not values:
        ax.text(0.5, 0.5, "нет данных", ha="center", va="center", transform=ax.transAxes)
    return charts.render(fig, fmt)


def sign_counts_chart(counts: dict[str, int], *, fmt: str = "svg") -> bytes:
    """Number of markers per sign K1–K5."""
    fig = charts.figure(12, 6)
    ax = fig.add_subplot()
    signs = ["K1", "K2", "K3", "K4", "K5"]
    ax.bar(signs, [counts.get(s, 0) for s in signs], color=HIGHLIGHT)
    ax.set_title("Признаки необъективности результатов: число случаев", fontsize=9)
    return charts.render(fig, fmt)


def cluster_chart(points: list[tuple[int, float, str]], *, fmt: str = "svg") -> bytes:
    """Each school's deviation (z) from its cluster's mean, by cluster: above / below what similar schools
    achieve."""
    fig = charts.figure(16, 7)
    ax = fig.add_subplot()
    for cluster, z, position in points:
        text = str(position or "")
        colour = BAR if text.startswith(("выше", "above")) else HIGHLIGHT if text.startswith(("ниже", "below")) \
            else MUTED
        ax.scatter([cluster], [z], color=colour, s=18)
    ax.axhline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel("кластер школ со схожими условиями")
    ax.set_ylabel("отклонение от среднего по кластеру, z")
    clusters = sorted({c for c, _z, _p in points})
    if clusters:
        ax.set_xticks(clusters, [str(c) for c in clusters])
    ax.set_title("Результаты школ относительно школ со схожими условиями", fontsize=9)
    return charts.render(fig, fmt)
