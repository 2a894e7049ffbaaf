"""Lifecycle of a management cycle: open until its last stage is approved, then closed."""

from app.core.timeutil import utcnow

NAME = "cycle"
OBJECT_TYPE = "cycle"
TASK_LINKS = {"cycle": ("cycles.cycle_detail", "cycle_id")}
INITIAL = "open"
STATE_LABELS = {"open": "идёт", "closed": "завершён"}
STATES = STATE_LABELS  # the machine's states, in order (the name older code imports)
STATE_STYLES = {"open": "primary", "closed": "success"}


def all_stages_approved(cycle) -> list[str]:
    pending = [s.title for s in cycle.stages if s.state != "approved"]
    return [f"Этап «{t}» не утверждён." for t in pending]


TRANSITIONS = [
    {"trigger": "close", "source": "open", "dest": "closed", "label": "Завершить цикл",
     "guards": [all_stages_approved]},
]


def _enter_closed(ctx) -> None:
    ctx.obj.closed_at = utcnow()


ON_ENTER = {"closed": _enter_closed}
