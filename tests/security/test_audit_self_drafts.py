"""The audit log shows an expert no self-assessment score the expert may not see yet (attack 9 on the running server).

An expert reads the audit log of the municipalities assigned to them (`audit.views.AUDIT_ROLES`), and the coordinator's
score saves are events there («баллы самооценки») with every point and comment. While the self-assessment is a draft
or returned for revision, the expert's pages hide it (`Scope.shows_self`), «its history too»; the audit page and its
exports showed it. Likewise the municipality's head read the expert's points before the region's head approved them
(`Scope.shows_expert`). The features now name what the log withholds from whom (`AuditVocabulary.withheld`)."""

from datetime import date

from app.assessment import services
from tests.test_assessment import assess  # noqa: F401  (fixture)

DRAFT = "черновой довод координатора"


def test_the_expert_reads_no_draft_self_scores_in_the_audit_log(world, assess, client_for,  # noqa: F811
                                                                  db_session):
    sa = assess["sa"]
    scores = services.scores_of(sa.campaign, sa.municipality_id, "M1.1")
    services.save_self_scores(sa, actor=world["official"], today=date.today(),
                              entries={s.id: (s.criterion.max_points, DRAFT, s.version) for s in scores})
    db_session.commit()
    expert, auditor = client_for(world["expert"]), client_for(world["auditor"])
    for url in ("/audit/", "/audit/?object=self_assessment", "/audit/export.csv"):
        response = expert.get(url)
        assert response.status_code == 200, url
        assert DRAFT not in response.get_data(as_text=True), url
    assert DRAFT in auditor.get("/audit/").get_data(as_text=True)  # the region's auditor reads everything
    # Submitted: the expert reads the self-assessment, and its history.
    services.transition_self(sa, "submit", actor=world["official"], today=date.today())
    db_session.commit()
    assert DRAFT in expert.get("/audit/").get_data(as_text=True)


def test_the_municipal_head_reads_no_unapproved_expert_scores_in_the_audit_log(world, assess, client_for,  # noqa: F811
                                                                               db_session):
    assignment = assess["assignment"]
    scores = services.scores_of(assignment.campaign, assignment.municipality_id, "M1.1")
    services.save_expert_scores(assignment, actor=world["expert"], today=date.today(),
                                entries={s.id: (0, "экспертный довод до утверждения", s.version) for s in scores[:1]})
    db_session.commit()
    head = client_for(world["head"])
    response = head.get("/audit/")
    assert response.status_code == 200
    assert "экспертный довод до утверждения" not in response.get_data(as_text=True)
    assert "экспертный довод до утверждения" in client_for(world["auditor"]).get("/audit/").get_data(as_text=True)
