"""What the signs need from the result rows themselves, as per-unit sufficient statistics (issue 15 §4).

K2–K4 compare a school with references over the whole region (a task's success rate in the region, the
region's share of works on a mark boundary, of lowered term marks…). Every such reference is a sum over units
of per-unit counts and sums, so the methods read the rows only through the statistics here, in two rounds:

    round 1  summarise(p, near_level)   per unit (p.units' order): rows, near-maximal rows, the highest
                                        maximum, the score histogram, the lowest score with each mark, per task
                                        the sum, count and highest score, per assessment mark the rows with a
                                        term mark and how many were lowered / raised / lowered by two marks or
                                        more — a few hundred numbers a unit, however many rows it has
    round 2  k2_sums(...)               per participant K2's g (success on the region's hard tasks minus on its
                                        easy ones, which round 1 decides) summed per unit and per (unit, total
                                        score): what the region's expected g at each score and each school's
                                        residual are made of

A single job computes both rounds from its frame (`of`, `k2_units`); a fanned-out run (app/analysis/fanout.py)
computes them per municipality and merges them in the units' region order (`merge`, `Round2`): the same numbers
in the same order, so the same sums to the last bit. Integer counts and integer task scores add up exactly in any
order; the only floating sums (g) are added per unit in row order and then over units in unit order, both ways.
"""

from dataclasses import dataclass, fields

import numpy as np

from app.analysis.methods.tasks import task_block

MARKS = 10  # assessment marks 0..9 (clipped) for the K4 cells
TERM_COLUMNS = 4  # per assessment mark: rows with both marks, lowered, raised, lowered by two marks or more
CELLS = ("cell_unit", "cell_score", "cell_term", "cell_count")  # K4 per pupil's cells (term_cells), not per unit


@dataclass
class UnitRows:
    rows: np.ndarray        # (nu,) rows of the unit
    near: np.ndarray        # (nu,) rows with percent of maximum ≥ near_level
    max_score: np.ndarray   # (nu,) highest maximum score of the unit's rows
    hist: np.ndarray        # (nu, S) rows per primary score (negative scores as 0)
    mark_min: np.ndarray    # (nu, 3) lowest score (≥ 0) given «3», «4», «5»; NaN when none
    task_sum: np.ndarray    # (nu, T) sum of the task's scores
    task_cnt: np.ndarray    # (nu, T) rows with a score for the task
    task_max: np.ndarray    # (nu, T) highest score for the task, −1 when none
    n_tasks: np.ndarray     # (nu,) rows with at least one task score
    term: np.ndarray        # (nu, 4, MARKS) per assessment mark: rows with both marks, lowered, raised, and
                            # lowered by two marks or more (among the lowered)
    # K4 per pupil (term_shape.py): the rows with both marks per (unit, primary score, term mark 2..5), only the
    # non-empty cells, work by work (`term_cells`); one array each, not a dense units × scores × 4 one — at 16× a
    # region that was the combining job's largest statistic (10 MB, seven cells in eight empty)
    cell_unit: np.ndarray   # (cells,) the unit
    cell_score: np.ndarray  # (cells,) the primary score (negative as 0)
    cell_term: np.ndarray   # (cells,) the term mark − 2 (clipped to 2..5)
    cell_count: np.ndarray  # (cells,) rows
    near_level: float | None = None

    @property
    def tasks(self) -> int:
        return self.task_sum.shape[1]


ARRAYS = [f.name for f in fields(UnitRows) if f.name != "near_level"]


def of(p, near_level: float | None = None) -> UnitRows:
    """The unit statistics of a Prepared frame: merged ones a fanned-out run attached, or computed from its rows
    once (again only when a different near-maximum level is asked and the rows are there)."""
    found = p.cache.get("unit_rows")
    if found is None or (near_level is not None and found.near_level != near_level and len(p.unit)):
        found = p.cache["unit_rows"] = summarise(p, near_level)
    return found


def summarise(p, near_level: float | None) -> UnitRows:
    """Round 1 over the rows of a Prepared frame (see the module docstring)."""
    nu, unit = p.n_units, p.unit
    rows = np.bincount(unit, minlength=nu).astype(np.int64)
    with np.errstate(invalid="ignore"):
        near = np.bincount(unit, weights=p.pct >= 100.0 * (near_level if near_level is not None else 1.0),
                           minlength=nu).astype(np.int64)
    block = task_block(p.results)
    if not nu:
        return UnitRows(rows=rows, near=near, max_score=np.zeros(0), hist=np.zeros((0, 1), dtype=np.int32),
                        mark_min=np.zeros((0, 3)), task_sum=np.zeros((0, len(block))),
                        task_cnt=np.zeros((0, len(block))), task_max=np.zeros((0, len(block))),
                        n_tasks=np.zeros(0, dtype=np.int64), term=np.zeros((0, TERM_COLUMNS, MARKS), dtype=np.int32),
                        **dict(zip(CELLS, term_cells(*(np.zeros(0, dtype=np.int64),) * 4, 0))),
                        near_level=near_level)
    order, starts = p.unit_order()

    def by_unit(values):
        return values if order is None else values[order]

    max_score = np.maximum.reduceat(by_unit(p.max_score), starts)
    score = np.maximum(p.score, 0).astype(np.int64)
    size = int(score.max()) + 1
    # counts as int32 (a unit has far fewer than 2³¹ rows): the merged statistics are a combining job's largest array
    hist = np.bincount(unit * size + score, minlength=nu * size).reshape(nu, size).astype(np.int32)
    # the lowest score with each mark: presence per (unit, mark, score) by one bincount, then the first present
    sel = (p.mark >= 3) & (p.mark <= 5)
    seen = np.bincount((unit[sel] * 3 + (p.mark[sel].astype(np.int64) - 3)) * size + score[sel],
                       minlength=nu * 3 * size).reshape(nu, 3, size) > 0
    mark_min = np.where(seen.any(axis=2), seen.argmax(axis=2), np.nan)
    tasks = len(block)
    task_sum, task_cnt, task_max = np.empty((nu, tasks)), np.empty((nu, tasks)), np.empty((nu, tasks))
    has_any = np.zeros(len(unit), dtype=bool)
    lengths = np.diff(np.append(starts, len(unit))).astype(float)
    complete = False  # some task has a score on every row: then every row counts in n_tasks
    for k, column in enumerate(block):
        column = by_unit(column)
        valid = ~np.isnan(column)
        if valid.all():
            # a column without gaps (the usual case) needs no masking: the same sums, counts and maxima from
            # the column itself (integer scores, so no rounding either way), at a third of the passes
            complete = True
            task_sum[:, k] = np.add.reduceat(column, starts)
            task_cnt[:, k] = lengths
            task_max[:, k] = np.maximum.reduceat(column, starts)
            continue
        has_any |= valid
        task_sum[:, k] = np.add.reduceat(np.where(valid, column, 0.0), starts)
        task_cnt[:, k] = np.add.reduceat(valid, starts, dtype=float)
        task_max[:, k] = np.maximum.reduceat(np.where(valid, column, -1.0), starts)
    if complete:
        n_tasks = lengths.astype(np.int64)
    else:
        n_tasks = np.add.reduceat(has_any, starts, dtype=np.int64) if tasks else np.zeros(nu, dtype=np.int64)
    both = ~np.isnan(p.mark) & ~np.isnan(p.term)
    mark, term_mark = p.mark[both], p.term[both]
    # one integer bincount over (unit, assessment mark, same / lowered by one / raised / lowered by two or more) of
    # the rows with both marks, not weighted ones over all rows: counts, so the same numbers
    key = ((unit[both] * MARKS + mark.astype(np.int64).clip(0, MARKS - 1)) * 4
           + (mark < term_mark) + 2 * (mark > term_mark) + 2 * (mark + 2 <= term_mark))
    cells = np.bincount(key, minlength=nu * MARKS * 4).reshape(nu, MARKS, 4)
    term = np.empty((nu, TERM_COLUMNS, MARKS), dtype=np.int32)
    term[:, 0] = cells.sum(axis=2)
    term[:, 1], term[:, 2], term[:, 3] = cells[:, :, 1] + cells[:, :, 3], cells[:, :, 2], cells[:, :, 3]
    # the same rows per (unit, primary score, term mark 2..5): what K4's per-pupil model reads (term_shape.py)
    cells = term_cells(unit[both], p.units["work"].to_numpy(), score[both], term_mark, nu)
    return UnitRows(rows=rows, near=near, max_score=max_score, hist=hist, mark_min=mark_min, task_sum=task_sum,
                    task_cnt=task_cnt, task_max=task_max, n_tasks=n_tasks, term=term, **dict(zip(CELLS, cells)),
                    near_level=near_level)


def _narrow(values: np.ndarray) -> np.ndarray:
    """Non-negative integers in the narrowest of uint8, uint16 and int32 that holds them all (a cell's count and
    score are small; a region's cells are many)."""
    top = int(values.max()) if len(values) else 0
    for dtype in (np.uint8, np.uint16):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype)
    return values.astype(np.int32)


def term_cells(unit, unit_work, score, term_mark, nu: int) -> tuple:
    """K4 per pupil's cells of the rows with both marks (`unit`: each row's unit, `score`: its primary score ≥ 0,
    `term_mark`: its term mark; `unit_work`: each unit's work): (unit, score, term mark − 2, rows) of every
    non-empty (unit, score, term mark 2..5), work by work (the works in code order), within a work unit by unit in
    the units' order, within a unit by score and term mark — the order term_shape reads them in, one work's slice
    at a time."""
    size = int(score.max()) + 1 if len(score) else 1
    key = (unit * size + score) * 4 + term_mark.astype(np.int64).clip(2, 5) - 2
    dense = np.bincount(key, minlength=nu * size * 4)
    del key
    flat = np.flatnonzero(dense)
    count = dense[flat]
    del dense
    u = flat // (size * 4)
    order = np.argsort(unit_work[u], kind="stable")
    flat, u, count = flat[order], u[order], count[order]
    return (u.astype(np.int32), _narrow(flat // 4 % size), (flat % 4).astype(np.uint8), _narrow(count))


def merge(pieces: list[UnitRows], order: np.ndarray, unit_work: np.ndarray) -> UnitRows:
    """The parts' statistics as one region's: concatenated (task and score columns padded to the widest part)
    and put in the region's unit order (`order`: positions in the concatenation; `unit_work`: the work of each
    unit in that order), K4's cells work by work as `term_cells` gives them. Each array is written straight
    into its place and the parts' own copy let go as it is taken (`pieces` is emptied), so the region's statistics
    are in memory about once, not three times (the parts', their concatenation, its reordering)."""
    tasks = max((x.tasks for x in pieces), default=0)
    width = max((x.hist.shape[1] for x in pieces), default=1)
    near_level = pieces[0].near_level if pieces else None
    total = sum(len(x.rows) for x in pieces)
    position = np.empty(total, dtype=np.int64)  # where each unit of the concatenation goes
    position[order] = np.arange(total)
    sizes = [len(x.rows) for x in pieces]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    merged = _merge_cells(pieces, position, starts, unit_work)
    for name in ARRAYS:
        if name in CELLS:
            continue
        arrays = [getattr(x, name) for x in pieces]
        shape, fill = arrays[0].shape[1:], 0
        if name.startswith("task_"):
            shape, fill = (tasks,), (-1.0 if name == "task_max" else 0.0)
        elif name == "hist":
            shape = (width,)
        out = np.full((total,) + shape, fill, dtype=np.result_type(*arrays))
        del arrays
        # columns past a part's own width keep the fill
        padded = name == "hist" or name.startswith("task_")
        for k, piece in enumerate(pieces):
            values = getattr(piece, name)
            if padded:
                out[position[starts[k]:starts[k + 1]], :values.shape[1]] = values
            else:
                out[position[starts[k]:starts[k + 1]]] = values
            setattr(piece, name, None)
        merged[name] = out
    pieces.clear()
    return UnitRows(**merged, near_level=near_level)


def _merge_cells(pieces: list[UnitRows], position, starts, unit_work) -> dict:
    """The parts' cells (each part's work by work, unit by unit) as the region's (work by work in the region's
    works, unit by unit in its units' order): each part's cells written straight to their place, a unit's cells
    kept in their order (a unit is one part's), the parts' arrays let go as taken — no sort of the region's cells.
    The same arrays as term_cells over the region's rows."""
    total = len(unit_work)
    per_unit = np.zeros(total, dtype=np.int64)
    for k, piece in enumerate(pieces):
        per_unit[position[starts[k]:starts[k + 1]]] = np.bincount(piece.cell_unit, minlength=starts[k + 1] - starts[k])
    by_work = np.argsort(unit_work, kind="stable")
    begin = np.empty(total, dtype=np.int64)  # where each unit's cells start
    begin[by_work] = np.cumsum(per_unit[by_work]) - per_unit[by_work]
    n = int(per_unit.sum())
    del per_unit, by_work
    out = {name: np.empty(n, dtype=np.int32 if name == "cell_unit" else
                          np.result_type(*[getattr(x, name) for x in pieces])) for name in CELLS}
    for k, piece in enumerate(pieces):
        local = piece.cell_unit.astype(np.int64)
        if not len(local):
            continue
        region = position[starts[k] + local]
        heads = np.flatnonzero(np.diff(local, prepend=-1))  # a unit's cells are together
        dest = begin[region] + np.arange(len(local)) - np.repeat(heads, np.diff(np.append(heads, len(local))))
        del local, heads
        out["cell_unit"][dest] = region
        del region
        for name in CELLS[1:]:
            out[name][dest] = getattr(piece, name)
            setattr(piece, name, None)
        piece.cell_unit = None
    return out


# --- what the methods read ---------------------------------------------------------------------------------

def _work_max(values: np.ndarray, unit_work: np.ndarray, nw: int, fill: float) -> np.ndarray:
    """Per work the maximum of the units' `values` (rows: units; `fill` for a work without units): one reduction
    over the units in work order, not an unbuffered maximum.at."""
    out = np.full((nw,) + values.shape[1:], fill)
    if not len(unit_work):
        return out
    order = np.argsort(unit_work, kind="stable")
    ordered = unit_work[order]
    heads = np.flatnonzero(np.diff(ordered, prepend=-1))
    out[ordered[heads]] = np.maximum(out[ordered[heads]], np.maximum.reduceat(values[order], heads))
    return out


def work_tasks(s: UnitRows, unit_work: np.ndarray, nw: int):
    """(tmax, sums, counts): per work × task the highest score anyone in the region got (−1: nobody has one),
    the sum of the scores and the number of scores, from the units."""
    tmax = _work_max(s.task_max, unit_work, nw, -1.0)
    sums, counts = np.empty((nw, s.tasks)), np.empty((nw, s.tasks))
    for k in range(s.tasks):
        sums[:, k] = np.bincount(unit_work, weights=s.task_sum[:, k], minlength=nw)
        counts[:, k] = np.bincount(unit_work, weights=s.task_cnt[:, k], minlength=nw)
    return tmax, sums, counts


def work_max(s: UnitRows, unit_work: np.ndarray, nw: int) -> np.ndarray:
    """Per work the highest maximum score of its rows (0 when none is higher)."""
    return _work_max(s.max_score, unit_work, nw, 0.0)


def score_counts(s: UnitRows, unit_work: np.ndarray, wmax: np.ndarray) -> np.ndarray:
    """units × scores 0..max(wmax) (at least three columns): rows per primary score, a score above its work's
    maximum counted on the maximum."""
    nu, width = s.hist.shape
    size = max(int(wmax.max()) + 1 if len(wmax) else 1, 3)
    top = wmax[unit_work].astype(np.int64) if nu else np.zeros(0, dtype=np.int64)
    out = np.zeros((nu, size))
    keep = min(width, size)
    out[:, :keep] = s.hist[:, :keep]
    columns = np.arange(width)
    beyond = (columns[None, :] > top[:, None]) & (s.hist > 0)
    if beyond.any():
        rows, cols = np.nonzero(beyond)
        in_out = cols < size
        out[rows[in_out], cols[in_out]] -= s.hist[rows[in_out], cols[in_out]]
        np.add.at(out, (rows, top[rows]), s.hist[rows, cols])
    return out


def mark_boundaries(s: UnitRows, unit_work: np.ndarray, nw: int) -> np.ndarray:
    """works × marks 3..5: the lowest score that received the mark in the region (NaN when none)."""
    lowest = -_work_max(-np.where(np.isnan(s.mark_min), np.inf, s.mark_min), unit_work, nw, -np.inf)
    return np.where(np.isinf(lowest), np.nan, lowest)



KEPT = ("unit_rows", "region_tasks", "region_scores", "k2_round")  # what the signs keep on a Prepared frame
TASKS = ("task_sum", "task_cnt", "task_max", "n_tasks")  # read by K2's marker and its references (region_tasks)
SCORES = ("max_score", "hist", "mark_min", "region_scores")  # read by K3: the works' maxima, boundaries and counts


def release(p, names=None) -> None:
    """Let go of the unit statistics and everything kept from them once the signs are computed (the verdicts, the
    low-result lists and the clusters read none of it): the largest arrays a combining job holds (≈ 0.6 KB a unit,
    `bench/analysis.py --scale`), no longer held while the rest of the run computes and stores. `names`: only
    those — arrays of the unit statistics (then None: asked for again, they fail loudly rather than be recomputed
    from rows a combining job does not have) and things kept from them (KEPT) —, for a caller that knows their last
    reader has run (sign_tests.tests_and_sentences, `release=True`)."""
    if names is None:
        names = KEPT
    s = p.cache.get("unit_rows")
    for name in names:
        if name in KEPT:
            p.cache.pop(name, None)
        elif s is not None:
            setattr(s, name, None)


def _kept(p, name: str, compute):
    """`compute(unit statistics)` once per Prepared frame (K1–K5 and the sign tests both read it), recomputed
    only when the unit statistics themselves were replaced; the arrays are read-only, as they are shared."""
    s = of(p)
    found = p.cache.get(name)
    if found is None or found[0] is not s:
        value = compute(s)
        for array in value:
            array.setflags(write=False)
        found = p.cache[name] = (s, value)
    return found[1]


def region_tasks(p):
    """work_tasks of a Prepared frame's unit statistics (tmax, sums, counts per work × task), kept."""
    return _kept(p, "region_tasks", lambda s: work_tasks(s, p.units["work"].to_numpy(), len(p.works)))


def region_scores(p):
    """(work_max, score_counts) of a Prepared frame's unit statistics, kept."""
    def compute(s):
        work = p.units["work"].to_numpy()
        wmax = work_max(s, work, len(p.works))
        return wmax, score_counts(s, work, wmax)
    return _kept(p, "region_scores", compute)

# --- round 2: K2's g against the region's hard and easy tasks ------------------------------------------

@dataclass
class Round2:
    """K2's per-participant sums, per unit (cnt, Σg, Σg²) and per (unit, total score) (n, Σg)."""
    cnt: np.ndarray
    sum_g: np.ndarray
    sum_g2: np.ndarray
    pair_unit: np.ndarray
    pair_score: np.ndarray
    pair_n: np.ndarray
    pair_g: np.ndarray

    PAIRS = ("pair_unit", "pair_score", "pair_n", "pair_g")

    @classmethod
    def combined(cls, pieces) -> "Round2 | None":
        """The parts' sums (an iterable, taken one at a time) as one: the per-unit sums added as they come (a
        part's units are not another's: adding to zeros is exact), the pairs concatenated once at the end in part
        order (adding the parts one by one copied the growing pairs a part each). None for no parts."""
        sums, pairs = None, []
        for piece in pieces:
            if sums is None:
                # as floats: a part without rows gives its sums as integer zeros
                sums = [piece.cnt.astype(float), piece.sum_g.astype(float), piece.sum_g2.astype(float)]
            else:
                for total, part in zip(sums, (piece.cnt, piece.sum_g, piece.sum_g2)):
                    total += part
            pairs.append([getattr(piece, name) for name in cls.PAIRS])
        if sums is None:
            return None
        joined = [np.concatenate([p[k] for p in pairs]) for k in range(len(cls.PAIRS))]
        return cls(*sums, *joined)


def _row_sum(parts: list[np.ndarray]) -> np.ndarray:
    """Σ over `parts` (equal-length arrays) per element, rounded exactly as numpy sums the rows of the
    rows × parts array they would form: left to right up to 7 parts (numpy's short-row loop), numpy itself
    beyond (its pairwise blocks) — so the per-task columns need not be copied into a matrix first."""
    if len(parts) > 7:
        return np.column_stack(parts).sum(axis=1)
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


def _success(columns, tmax, mask, gaps) -> np.ndarray:
    """Each row's mean success (score / maximum) over the tasks of `mask` it has a score for (NaN: none);
    `columns`: one array of the rows' scores per task, `gaps[k]`: whether task k's column may miss scores (the
    same numbers either way: without gaps the masks are only skipped)."""
    rates, counts, whole = [], [], 0
    for k in np.flatnonzero(mask):
        rate = columns[k] / tmax[k]
        if not gaps[k] and np.isfinite(tmax[k]) and tmax[k] > 0:
            rates.append(rate)  # every row has a score: nothing to leave out
            whole += 1
            continue
        use = ~np.isnan(rate)
        rates.append(np.where(use, rate, 0.0))
        counts.append(use)
    if not rates:
        n = len(columns[0]) if columns else 0
        return np.zeros(n) / np.zeros(n)
    return _row_sum(rates) / (np.sum(counts, axis=0) + whole if counts else whole)


def k2_sums(unit, work, score, block, nu: int, tmax, easy, hard) -> Round2:
    """Round 2 over rows (`unit`, `work`: the region's codes of each row; `block`: its task columns)."""
    g = np.full(len(unit), np.nan)
    if block and len(unit):
        order = None if (np.diff(work) >= 0).all() else np.argsort(work, kind="stable")
        sorted_work = work if order is None else work[order]
        heads = np.flatnonzero(np.diff(sorted_work, prepend=-1))
        ends = np.append(heads[1:], len(work))
        tasks = tmax.shape[1]
        empty = np.full(len(work), np.nan)
        columns = [(block[k] if k < len(block) else empty) for k in range(tasks)]
        columns = columns if order is None else [column[order] for column in columns]
        gaps = [bool(np.isnan(column).any()) for column in columns]
        with np.errstate(divide="ignore", invalid="ignore"):
            for a, b in zip(heads, ends):
                w = sorted_work[a]
                rows = [column[a:b] for column in columns]
                values = _success(rows, tmax[w], hard[w], gaps) - _success(rows, tmax[w], easy[w], gaps)
                if order is None:
                    g[a:b] = values
                else:
                    g[order[a:b]] = values
    has = ~np.isnan(g)
    if has.all():  # every participant has a g (the usual case): no copies through the mask
        u, gh, s = unit, g, np.nan_to_num(score).astype(np.int64)
    else:
        u, gh = unit[has], g[has]
        s = np.nan_to_num(score[has]).astype(np.int64)
    low = int(s.min()) if len(s) else 0
    span = int(s.max()) - low + 1 if len(s) else 1
    # per (unit, score) by one dense bincount over the units that have rows here (a municipality's part has a
    # fiftieth of the region's units: a grid of all of them was 11 MB a part at 2,400 schools): no sort, and the
    # pairs in (unit, score) order; each cell's g added in row order
    present = np.zeros(nu, dtype=bool)
    present[u] = True
    units = np.flatnonzero(present)
    # a single job's frame has every unit: its codes are already the local ones (no second array of the rows)
    local = u if len(units) == nu else (np.cumsum(present) - 1)[u]
    key = local * span + (s - low)
    n = np.bincount(key, minlength=len(units) * span)
    total = np.bincount(key, weights=gh, minlength=len(units) * span)
    cells = np.flatnonzero(n)
    # the pairs' codes and counts as 32-bit integers (a unit has ≈ 15 pairs, the region's pairs are the largest
    # arrays of round 2; the methods read them as the same numbers)
    return Round2(cnt=np.bincount(u, minlength=nu).astype(float), sum_g=np.bincount(u, weights=gh, minlength=nu),
                  sum_g2=np.bincount(u, weights=gh * gh, minlength=nu),
                  pair_unit=units[cells // span].astype(np.int32), pair_score=(cells % span + low).astype(np.int32),
                  pair_n=n[cells].astype(np.int32), pair_g=total[cells])


def k2_units(p, tmax, easy, hard):
    """(cnt, mean g, mean residual, residual variance) per unit: each participant's g against the region's mean
    g of participants with the same total score in the same work. From the frame's rows, or from the rounds a
    fanned-out run attached (p.cache["k2_round"]: a function of (tmax, easy, hard) giving the merged Round2)."""
    nu = p.n_units
    source = p.cache.get("k2_round")
    if source is not None:
        r = source(tmax, easy, hard)
    else:
        r = k2_sums(p.unit, p.work, p.score, task_block(p.results), nu, tmax, easy, hard)
    pu, ps, pn, pg = r.pair_unit, r.pair_score, r.pair_n, r.pair_g
    cnt, sum_g, sum_g2 = r.cnt, r.sum_g, r.sum_g2
    del r  # the pairs are re-ordered below: not held twice
    if len(pu) > 1 and not ((np.diff(pu) > 0) | ((np.diff(pu) == 0) & (np.diff(ps) > 0))).all():
        # the parts' pairs come part by part: in (unit, score) order, as one frame gives them
        order = np.lexsort((ps, pu))
        # one array at a time, each old copy let go as its new one is made (the four at once held a region's pairs
        # twice over: ≈ 10 MB at 2,400 schools, the combining job's peak in K2)
        pu = pu[order]
        ps = ps[order]
        pn = pn[order]
        pg = pg[order]
        del order
    low = int(ps.min()) if len(ps) else 0
    span = int(ps.max()) - low + 1 if len(ps) else 1
    cell = (p.units["work"].to_numpy()[pu] * span + (ps - low)) if len(pu) else np.zeros(0, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = (np.bincount(cell, weights=pg) / np.bincount(cell, weights=pn))[cell] if len(cell) else pg
        del cell
        mean_g = sum_g / cnt
        resid = (sum_g - np.bincount(pu, weights=pn * expected, minlength=nu)) / cnt
        square = (sum_g2 - 2 * np.bincount(pu, weights=pg * expected, minlength=nu)
                  + np.bincount(pu, weights=pn * expected * expected, minlength=nu))
        var_g = square / cnt - resid ** 2
    return cnt, mean_g, resid, var_g
