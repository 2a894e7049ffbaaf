"""What the situational centre's pages and exports show: formatted numbers, sort orders, sparklines."""

from markupsafe import Markup, escape

from app.core.russian import sort_key


def num(value, digits: int = 1) -> str:
    """72,5 — comma decimals, a non-breaking minus; «—» when there is no value."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}".replace(".", ",")
    return text.replace("-", "−")


def signed(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + num(value, digits)


def sparkline(series, *, width: int = 96, height: int = 24) -> Markup:
    """A small line of the mean percent over the years (a small multiple per row), inline SVG with its values
    in the title so a screen reader and a tooltip both say them."""
    points = [(y, v) for y, v in series if v is not None]
    if len(points) < 2:
        return Markup("")
    lo, hi = min(v for _y, v in points), max(v for _y, v in points)
    span = (hi - lo) or 1.0
    step = (width - 6) / (len(points) - 1)
    coords = " ".join(f"{3 + i * step:.1f},{height - 3 - (v - lo) / span * (height - 6):.1f}"
                      for i, (_y, v) in enumerate(points))
    said = "; ".join(f"{y}: {num(v)} %" for y, v in points)
    last_x, last_y = coords.split(" ")[-1].split(",")
    return Markup(f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="Динамика: {escape(said)}"><title>{escape(said)}</title>'
                  f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{coords}"/>'
                  f'<circle cx="{last_x}" cy="{last_y}" r="2" fill="currentColor"/></svg>')


RESULT_SORTS = {
    "name": lambda line: sort_key(line.organisation.display_name),  # the name the row shows
    # a row without results has 0 participants, not a count: it goes last with the others ascending too
    "participants": lambda line: line.current.participants or None,
    "mean": lambda line: line.current.mean,
    "share2": lambda line: line.current.share(2),
    "share45": lambda line: line.current.share(4, 5),
    "delta": lambda line: line.delta,
}


def sorted_lines(lines, key: str, descending: bool):
    """Sort by a column; rows without a value go last whichever the direction."""
    get = RESULT_SORTS.get(key, RESULT_SORTS["name"])
    present = [line for line in lines if get(line) is not None]
    missing = [line for line in lines if get(line) is None]
    return sorted(present, key=get, reverse=descending) + missing
