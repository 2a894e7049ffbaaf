"""Settling a cycle's monitoring stage through the real services, for the demo data and for tests that
drive a cycle past the monitoring stage (whose guard wants closed data requests)."""

import random
from datetime import date, timedelta

from app.auth.services import users_with_role_at
from app.monitoring import services
from app.monitoring.values import save_values, unit_rule


def sample_value(indicator, rng: random.Random, organisations: int = 1) -> str:
    """A plausible value of one organisation: near the indicator's baseline, mostly a little in its direction (so a
    demo cycle's evaluation finds some indicators improved and some not); a head count is summed over the
    `organisations` answering, so each has its share of the baseline (a municipality's 23 pupils on the register
    came back as 73 when each school sent a number up to 120)."""
    rule = unit_rule(indicator.unit)
    base = float(indicator.baseline) if indicator.baseline is not None else None
    sign = -1 if indicator.direction == "down" else 1
    if rule == "count":
        share = base / max(organisations, 1) if base is not None else 30.0
        return str(max(0, round(share * (1 + sign * rng.uniform(-0.25, 0.2)))))
    if rule == "percent":
        level = base if base is not None else rng.uniform(40, 98)
        return f"{min(100.0, max(0.0, level + sign * rng.uniform(-3, 9))):.1f}".replace(".", ",")
    level = base if base is not None else 50.0
    return f"{max(0.0, level * (1 + sign * rng.uniform(-0.1, 0.15))):.1f}".replace(".", ",")


def addressee_kinds(cycle) -> tuple[str, ...]:
    """The kinds of institution the cycle's mechanism concerns, for the demo's requests and recommendations: its
    audience, the rule the request form's «все образовательные организации» follows too (Mechanism.audience)."""
    return cycle.track.mechanism.audience


def demo_addressees(cycle) -> list:
    """The institutions a cycle's demo request addresses: what «все образовательные организации» of the request
    form means (services.audience_addressees); a municipality without any of them (a test's world has no
    kindergarten) asks all its institutions, as the UI offers them one by one."""
    return services.audience_addressees(cycle) or services.addressee_choices(cycle)


def answered(cycle) -> list:
    """The institutions whose answers to the cycle's data requests were accepted, by name: whom the demo's findings
    about the monitored indicators name."""
    seen = {s.organisation for r in services.requests_of_cycle(cycle) for s in r.submissions if s.state == "accepted"}
    return sorted(seen, key=lambda o: (o.name, o.id))


def complete_monitoring(stage, *, official, today: date, rng: random.Random | None = None,
                        organisations=None, title: str | None = None):
    """Create and send a data request for all the cycle's indicators; addressees with a director answer
    with plausible values and are accepted, the others are marked «не представлено»; the request is
    closed. Returns the request. Flushes, never commits."""
    rng = rng or random.Random(stage.id)  # noqa: S311 (reproducible demo data, not a secret)
    cycle = stage.cycle
    # The request's title goes into letters and orders: the track's name in words, not its code.
    mechanism = cycle.track.mechanism
    name = cycle.track.title if len(mechanism.tracks) > 1 else mechanism.title
    title = title or f"Сведения для мониторинга показателей по направлению «{name}»"
    choices = organisations if organisations is not None else services.addressee_choices(cycle)
    directors = {org.id: users_with_role_at(org, {"director"}) for org in choices}
    answering = [org for org in choices if any("director" in u.roles_over(org) for u in directors[org.id])]
    addressees = answering or choices[:1]
    request = services.create_request(
        cycle, title=title, period=cycle.period, deadline=max(today, stage.deadline or today) + timedelta(days=1),
        indicator_ids=[i.id for i in cycle.indicators], organisation_ids=[o.id for o in addressees],
        actor=official, today=today)
    services.transition_request(request, "send", actor=official, today=today)
    for submission in request.submissions:
        people = directors.get(submission.organisation_id) or []
        if submission.organisation in answering and people:
            director = people[0]
            rows = [{"indicator_code": item.indicator.code, "organisation_code": submission.organisation.code,
                     "period": request.period, "value": sample_value(item.indicator, rng, len(answering))}
                    for item in request.items]
            report = save_values(rows, actor=director, source="form", submission=submission)
            if not report.ok:  # not an assert: the check must hold under python -O too
                raise RuntimeError("; ".join(report.lines()))
            services.transition_submission(submission, "submit", actor=director)
            services.transition_submission(submission, "accept", actor=official)
        else:
            services.transition_submission(submission, "mark_not_provided", actor=official,
                                           comment="В организации не назначен руководитель, ответственный за сведения.")
    services.transition_request(request, "close", actor=official, today=today)
    return request
