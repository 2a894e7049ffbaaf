"""The chart code path renders Cyrillic text to SVG (as text) and to a real PNG."""

from app.core import charts


def _bar_chart():
    fig = charts.figure(10, 6)
    ax = fig.add_subplot()
    ax.bar(["Школа № 1", "Школа № 2"], [61.5, 48.0])
    ax.set_title("Средний процент выполнения")
    return fig


def test_svg_keeps_russian_text_as_text():
    svg = charts.render(_bar_chart(), "svg").decode("utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "Средний процент выполнения" in svg and "Школа № 1" in svg


def test_png_is_a_png_of_the_requested_size():
    png = charts.render(_bar_chart(), "png", dpi=100)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert abs(width - round(10 / 2.54 * 100)) <= 2


def test_svg_of_the_same_chart_is_reproducible():
    assert charts.render(_bar_chart(), "svg") == charts.render(_bar_chart(), "svg")
