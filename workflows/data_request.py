"""Data request (сбор сведений) of a cycle's monitoring stage, or of its effectiveness stage (the repeat measurement
after the measures, DataRequest.stage_code «EFF»): sent while its stage is a draft.

draft → sent (send: opens a fill task for every addressee through the submissions' own workflow)
sent → closed (close: only when every addressee's submission is accepted or marked not provided)

The addressees of a draft are its Submission rows (pending, without tasks): the schema keeps no
separate addressee list, and the rows become the addressees' answers when the request is sent.
"""

from app.auth.roles import CYCLE_MANAGERS
from app.core.timeutil import utcnow
from workflows.permissions import has_role
from workflows.submission import DONE_STATES
from workflows.submission import STATES as SUBMISSION_STATES

NAME = "data_request"
OBJECT_TYPE = "data_request"
INITIAL = "draft"
STATE_LABELS = {"draft": "черновик", "sent": "направлен", "closed": "закрыт"}
STATES = STATE_LABELS  # the machine's states, in order (the name older code imports)
STATE_STYLES = {"draft": "primary", "sent": "warning", "closed": "success"}

# Who sends and closes requests and reviews the answers: the cycle owner's official or head (or the
# director, for a school's own cycle); the request's organisation is the owner.
REQUESTERS = CYCLE_MANAGERS
REQUESTER = has_role(REQUESTERS, describe="специалист или руководитель органа, направившего запрос")


# The stages whose data requests are open while the stage is a draft: the monitoring, and the repeat measurement
# (повторное измерение) of the effectiveness stage (app/monitoring/services.py, requesting_stage).
REQUEST_STAGES = {"MON": "Мониторинг показателей", "EFF": "Анализ эффективности принятых мер"}


# --- guards ---

def monitoring_stage_open(request) -> list[str]:
    """The request's stage is a draft: the monitoring's, or the effectiveness stage's for a repeat measurement."""
    stage = request.cycle.stage(request.stage_code)
    if stage is None:
        return [f"В цикле этого направления нет этапа «{REQUEST_STAGES.get(request.stage_code, request.stage_code)}»."]
    if stage.state != "draft":
        return [f"Этап «{stage.title}» не открыт для изменений."]
    return []


def has_indicators(request) -> list[str]:
    return [] if request.items else ["Не выбрано ни одного показателя."]


def has_addressees(request) -> list[str]:
    return [] if request.submissions else ["Не выбрано ни одной организации-адресата."]


def all_answered(request) -> list[str]:
    """Every addressee has been accepted or explicitly marked «не представлено» with a reason."""
    open_ = [s for s in request.submissions if s.state not in DONE_STATES]
    if not open_:
        return []
    counts: dict[str, int] = {}
    for s in open_:
        counts[s.state] = counts.get(s.state, 0) + 1
    detail = ", ".join(f"{SUBMISSION_STATES[state]} — {n}" for state, n in sorted(counts.items()))
    return [f"Не все адресаты ответили: {detail}. Примите сведения или отметьте их как не представленные."]


TRANSITIONS = [
    {"trigger": "send", "source": "draft", "dest": "sent", "label": "Направить запрос", "allowed": REQUESTER,
     "guards": [monitoring_stage_open, has_indicators, has_addressees],
     "denied": "Направлять и закрывать запросы может специалист или руководитель."},
    {"trigger": "close", "source": "sent", "dest": "closed", "label": "Закрыть запрос", "allowed": REQUESTER,
     "guards": [all_answered], "style": "success",
     "denied": "Направлять и закрывать запросы может специалист или руководитель."},
]


# --- effects ---

def _enter_sent(ctx) -> None:
    ctx.obj.sent_at = utcnow()


def _enter_closed(ctx) -> None:
    ctx.obj.closed_at = utcnow()


ON_ENTER = {"sent": _enter_sent, "closed": _enter_closed}


def _after_sent(ctx) -> None:
    # Each addressee's answer records being issued and opens its own fill task (workflows/submission.py).
    for submission in ctx.obj.submissions:
        ctx.fire_system(submission, "issue")


AFTER = {"sent": _after_sent}


# --- the monitoring stage's content rule (registered for the MON stage in app/workflow_hooks.py) ---

def monitoring_stage_problems(stage) -> list[str]:
    """The MON stage may go for review only when the cycle has data requests and all of them are closed; the EFF
    stage only when its repeat measurements, if any, are closed (an approved stage left schools a task to answer)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.extensions import db
    from app.monitoring.models import DataRequest

    requests = db.session.scalars(
        select(DataRequest).where(DataRequest.cycle_id == stage.cycle_id, DataRequest.stage_code == stage.code)
        .options(selectinload(DataRequest.submissions)).order_by(DataRequest.id)).all()
    if not requests and stage.code == "MON":
        return ["Не создано ни одного запроса сведений."]
    problems = []
    for req in requests:
        if req.state == "closed":
            continue
        if req.state == "draft":
            problems.append(f"Запрос «{req.title}» не направлен адресатам (черновик): направьте или удалите его.")
            continue
        waiting = [s for s in req.submissions if s.state not in DONE_STATES]
        if not waiting:
            problems.append(f"Запрос «{req.title}»: все адресаты ответили, закройте запрос.")
            continue
        counts: dict[str, int] = {}
        for s in waiting:
            counts[s.state] = counts.get(s.state, 0) + 1
        detail = ", ".join(f"{SUBMISSION_STATES[state]} — {n}" for state, n in sorted(counts.items()))
        problems.append(f"Запрос «{req.title}» не закрыт: ответили {len(req.submissions) - len(waiting)} "
                        f"из {len(req.submissions)} адресатов ({detail}).")
    return problems
