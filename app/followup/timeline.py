"""The roadmap drawn on the server: one bar per measure from its start to its end date (app/core/charts.py)."""

from datetime import date, timedelta

from app.core import charts

COLOURS = {"planned": "#9ec5fe", "in_progress": "#0d6efd", "done": "#198754", "verified": "#146c43",
           "cancelled": "#adb5bd"}
OVERDUE = "#dc3545"


def _label(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def roadmap_figure(measures, today: date, *, overdue_ids=frozenset(), width_cm: float = 17):
    """A Gantt-like figure: the measures top-down in date order, overdue ones red, today as a dashed line."""
    # Local: heavy: matplotlib loads only when a chart is drawn.
    from matplotlib.dates import DateFormatter, date2num

    height = max(4.5, 2.0 + 0.7 * len(measures))
    fig = charts.figure(width_cm, height)
    ax = fig.add_subplot()
    if not measures:
        ax.text(0.5, 0.5, "Мероприятия не запланированы", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    labels = []
    for row, m in enumerate(measures):
        start, end = date2num(m.start_date), date2num(m.end_date + timedelta(days=1))
        colour = OVERDUE if m.id in overdue_ids else COLOURS.get(m.state, "#6c757d")
        ax.barh(row, end - start, left=start, height=0.6, color=colour, edgecolor="#343a40", linewidth=0.4)
        labels.append(f"{row + 1}. {_label(m.title)}" + (" (просрочено)" if m.id in overdue_ids else ""))
    ax.set_yticks(range(len(measures)), labels)
    for tick, m in zip(ax.get_yticklabels(), measures):
        if m.id in overdue_ids:
            tick.set_color(OVERDUE)
    ax.invert_yaxis()
    ax.axvline(date2num(today), color=OVERDUE, linestyle="--", linewidth=0.8)
    # ДД.ММ.ГГГГ like every date of the page beside it and of the roadmap document (the axis said «03.11.26»)
    ax.xaxis.set_major_formatter(DateFormatter("%d.%m.%Y"))
    ax.tick_params(axis="x", labelrotation=30)
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    fig.suptitle("Сроки мероприятий (пунктир — сегодня)", x=0.01, ha="left", fontsize=9)
    return fig


def roadmap_svg(measures, today: date, *, overdue_ids=frozenset()) -> str:
    """Inline SVG markup of the roadmap (no scripts, no external references)."""
    svg = charts.render(roadmap_figure(measures, today, overdue_ids=overdue_ids), "svg").decode("utf-8")
    # Drop the XML prologue and DOCTYPE so the markup can sit inside an HTML page.
    return svg[svg.index("<svg"):]
