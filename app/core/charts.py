"""The one code path for charts: a matplotlib figure rendered as SVG for web pages or PNG for documents.

matplotlib runs headless (Agg) and with a font that has Cyrillic (DejaVu Sans ships with matplotlib), so a
chart looks the same on a server without a display or system fonts. Callers draw on the figure they get from
`figure()` and pass it to `render()`, which always closes it (pyplot keeps figures alive otherwise).
"""

import io
import threading

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import ScalarFormatter  # noqa: E402

FORMATS = ("svg", "png", "pdf")  # pdf: a page of text with Cyrillic (the demo's attached files)
# Figure objects (not pyplot) are thread-safe to create, but font caches are not: one renderer at a time.
_LOCK = threading.Lock()
# A fixed hash salt makes SVG element ids, and so the whole SVG, reproducible from the same data.
# No mathtext: every label is what a user typed or imported (a measure's title, an organisation's name), and
# matplotlib reads text between two «$» as a formula — «Бюджет $^$» fails to parse (a 500 on the page, a
# failed document job) and «5$ и 10$» is drawn in italics without its dollars.
_STYLE = {"font.family": "DejaVu Sans", "font.size": 9, "svg.fonttype": "none", "svg.hashsalt": "uko-cycle",
          "axes.spines.top": False, "axes.spines.right": False, "text.parse_math": False}


# No creation date in the file: the same figure gives the same bytes.
_NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def figure(width_cm: float = 16, height_cm: float = 8) -> Figure:
    """A new figure of the given size (a document page is ~17 cm wide between ГОСТ margins)."""
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width_cm / 2.54, height_cm / 2.54), layout="constrained")


class _DecimalComma(ScalarFormatter):
    """matplotlib's tick labels with the Russian decimal comma: a chart in a document printed «0.5», «-1.5»."""

    def __call__(self, x, pos=None):
        return super().__call__(x, pos).replace(".", ",")


def _decimal_comma(fig: Figure) -> None:
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            # only the default numeric labels: names set as ticks (organisations, clusters) stay as they are
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(_DecimalComma())


def render(fig: Figure, fmt: str = "svg", *, dpi: int = 150) -> bytes:
    """The figure as SVG (text kept as text, so pages stay small and searchable), PNG or PDF bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt}")
    buffer = io.BytesIO()
    with _LOCK, matplotlib.rc_context(_STYLE):
        # Texts the caller added (titles, tick labels, annotations) took `text.parse_math` from the global
        # rcParams when they were made, outside this context; those made while drawing take it from _STYLE.
        for text in fig.findobj(Text):
            text.set_parse_math(False)
        _decimal_comma(fig)
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_NO_DATE.get(fmt))
    return buffer.getvalue()
