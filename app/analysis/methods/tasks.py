"""Task-level scores stored as JSON text ("[1,0,2,null]"), parsed in bulk.

A region has 300,000 rows of 10–20 scores: json.loads per row builds millions of Python ints. Here all rows
are joined and parsed as bytes with numpy instead; anything that is not a list of small non-negative
integers or null makes the parser give up (None), and the caller falls back to json.

A null is a cell the file left empty: the task not attempted (README «task_1 … task_N»), 0 points — the import
checks the primary score as the sum with it as 0, and K2 must count it so. Read as a missing score, a pupil who
left the hard tasks blank was not failing them: the region's hard tasks looked easier, each pupil's g was taken
over the tasks they tried, a pupil with every hard (or easy) task blank left K2, and planted schools found from
the generator's rows were lost through the files (bench/verdict_oos.py, README «Verdicts»). NaN stays for what is
not known: a position past a shorter row's end, a row with no task scores.
"""

import json

import numpy as np

_ALLOWED = np.frombuffer(b"nul", dtype=np.uint8)


def parse_json_rows(values: list[str]) -> np.ndarray | None:
    """rows × tasks (float; null, a task not attempted, is 0; NaN = no such task in a shorter row) from JSON lists
    of small non-negative integers; None when some text is anything else."""
    if not values:
        return None
    text = ";".join(values).replace(" ", "").replace("[", "").replace("]", "")
    try:
        b = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        return None
    if not len(b):
        return np.full((len(values), 1), np.nan)
    sep = (b == 44) | (b == 59)                      # "," between scores, ";" between rows
    digit = (b >= 48) & (b <= 57)
    if not (sep | digit | np.isin(b, _ALLOWED)).all():
        return None
    token = np.cumsum(sep)                           # token number of each byte (separators start a token)
    seps = np.flatnonzero(sep)
    ntok = len(seps) + 1
    ends = np.concatenate([seps - 1, [len(b) - 1]])  # last byte of each token
    idx = np.flatnonzero(digit)
    t = token[idx]
    exponent = ends[t] - idx
    if len(exponent) and exponent.max() > 15:
        return None
    value = np.bincount(t, weights=(b[idx] - 48) * 10.0 ** exponent, minlength=ntok).astype(float)
    value[np.bincount(t, minlength=ntok) == 0] = np.nan   # an empty list has no score
    value[np.bincount(token[b == 110], minlength=ntok) > 0] = 0.0  # «n»: a null, the task not attempted
    row_break = b[seps] == 59
    if int(row_break.sum()) != len(values) - 1:
        return None
    row = np.concatenate([[0], np.cumsum(row_break)])     # row of each token
    first = np.concatenate([[0], np.flatnonzero(row_break) + 1])
    pos = np.arange(ntok) - first[row]
    out = np.full((len(values), int(pos.max()) + 1), np.nan)
    out[row, pos] = value
    return out


def task_matrix(values: list) -> np.ndarray:
    """rows × tasks (float; None/null, a task not attempted, is 0; NaN past a shorter row's end) from lists, or
    from the JSON text load_results returns (parsed in bulk by parse_json_rows, falling back to json for anything
    unusual)."""
    if values and isinstance(values[0], str):
        parsed = parse_json_rows(values)
        if parsed is not None:
            return parsed
    values = [json.loads(v) if isinstance(v, str) else v for v in values]
    width = max((len(x) for x in values), default=0)  # ragged: works imported with different task counts
    out = np.full((len(values), width), np.nan)
    for i, row in enumerate(values):
        out[i, :len(row)] = [0 if v is None else v for v in row]
    return out


def task_columns(results) -> list[str]:
    """The wide per-task score columns task_1 … task_N (float, NaN when missing), in task order."""
    found = [(int(c[5:]), c) for c in results.columns if isinstance(c, str) and c.startswith("task_")
             and c[5:].isdigit()]
    return [c for _n, c in sorted(found)]


def task_block(results) -> list[np.ndarray]:
    """One float array per task of a results frame (NaN = no score), from the wide task_N columns (no copy) or
    parsed from the task_scores lists/JSON; empty when there are no task-level scores."""
    wide = task_columns(results)
    if wide:
        return [results[c].to_numpy(dtype=float) for c in wide]
    if "task_scores" not in results.columns:
        return []
    column = results["task_scores"]
    has = column.notna().to_numpy()
    if not has.any():
        return []
    part = task_matrix(column[has].tolist())
    block = np.full((len(column), part.shape[1]), np.nan)
    block[has] = part
    return list(block.T)
