"""The audit extract (CSV, XLSX) prints «состояние до» and «состояние после» only for an event that changed its
object's state (labels.moves_state, the history tables' arrow): an edit or a same-state step such as «сроки
мероприятия перенесены» only notes the state the object was in, and read as a transition that never happened."""

import csv
import io

from sqlalchemy import select

from tests.test_followup_approved_roadmap import _approved_measure


def test_the_audit_extract_names_states_only_for_a_change_of_state(rec_cycle, world, db_session, client_for):
    from app.audit.labels import moves_state
    from app.audit.models import AuditEvent
    from app.followup import services

    m, new_end = _approved_measure(rec_cycle, world, db_session)
    services.reschedule_measure(m, actor=world["head"], start_date=m.start_date, end_date=new_end,
                                comment="Карантин в школах")
    db_session.commit()
    response = client_for(world["auditor"]).get("/audit/export.csv?object=measure")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    header, data = rows[0], rows[1:]
    before, after = header.index("состояние до"), header.index("состояние после")
    events = {e.id: e for e in db_session.scalars(select(AuditEvent).where(AuditEvent.object_type == "measure"))}
    rescheduled = [r for r in data if events[int(r[0])].action == "reschedule"]
    assert rescheduled and all((r[before], r[after]) == ("", "") for r in rescheduled)
    assert any(not moves_state(events[int(r[0])]) and events[int(r[0])].to_state for r in data)
    for row in data:
        event = events[int(row[0])]
        assert bool(row[after]) is moves_state(event), (event.action, event.from_state, event.to_state)
    assert any(r[before] == "запланировано" and r[after] == "выполняется" for r in data)
