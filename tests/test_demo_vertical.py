"""The seeded demo shows the vertical at work (README, «The vertical», «Demo users»): a visitor following the README
as region_official found the region's R1.1 a draft with no invariant indicator — «В цикле нет показателей…» on the
roll-up and one goal alone in the cascade."""

from sqlalchemy import select

from tests.test_screens3_pages import _login, _page, _text


def _regional_cycle(demo):
    from app.catalogue.models import Mechanism, Track
    from app.cycles.models import Cycle
    from app.orgs.models import Organisation

    return demo.scalar(select(Cycle).join(Cycle.track).join(Track.mechanism).join(Cycle.owner)
                       .where(Organisation.kind == "region", Mechanism.code == "R1.1"))


def test_the_regional_rollup_shows_the_municipalities_values(demo, client):
    """One indicator of each way of rolling up; ГО Северный's row from its schools with last year's value beside it,
    Озёрный МР's last year's own answer and «не ответил» for this year; the totals with their dynamics."""
    cycle = _regional_cycle(demo)
    assert [(s.code, s.state) for s in cycle.stages[:3]] == [("GOAL", "approved"), ("IND", "approved"),
                                                              ("METH", "approved")]
    _login(client, "region_official")
    page = _page(client, f"/cycles/{cycle.id}/rollup")
    assert not page.xpath("//*[@id='no-invariants']")
    sections = page.xpath("//section[contains(@class, 'rollup-indicator')]")
    assert {_text(s.xpath(".//p")[0]).split(";")[0] for s in sections} == {
        "Свод: сумма", "Свод: среднее, взвешенное по числу обучающихся",
        "Свод: доля организаций, достигших целевого значения"}
    for section in sections:
        rows = {r.get("data-organisation"): [_text(td) for td in r.xpath("./td")]
                for r in section.xpath(".//tbody/tr")}
        name, value, before, change, source, *_rest = rows["MUN01"]
        assert value != "—" and before != "—" and change != "—", rows["MUN01"]
        # (under «доля организаций, достигших целевого значения» the figure is that share: said so)
        assert source.removeprefix("доля достигших цели, ").startswith("по данным 3 из "), source
        name, value, before, change, source, *_rest = rows["MUN02"]
        assert (value, source) == ("—", "не ответил") and before != "—"
        summary = _text(section.xpath(".//p")[0])
        assert "Итого: —" not in summary and "(было " in summary, summary
        assert "Озёрный МР" in _text(section.xpath(".//p[contains(@class, 'not-answered')]")[0])
    # a municipality's row opens its schools: the ones that answered, and the ones that did not
    mun01 = page.xpath("//tr[@data-organisation='MUN01']/td/a/@href")[0]
    schools = _page(client, mun01).xpath("//section[1]//tbody/tr")
    answered = [r.get("data-organisation") for r in schools if _text(r.xpath("./td")[1]) != "—"]
    assert len(answered) == 3 and "MUN01-S01" in answered and len(schools) > 3


def test_the_cascade_has_three_levels(demo, client):
    """The region's goal, the municipalities' goals linked to it, a school's goal linked to ГО Северный's; every
    level carries the region's invariants."""
    cycle = _regional_cycle(demo)
    _login(client, "region_official")
    page = _page(client, f"/cycles/{cycle.id}/cascade")
    goals = page.xpath("//li[contains(@class, 'cascade-goal')]")
    levels = {(g.get("data-level"), g.get("data-organisation")) for g in goals}
    assert levels == {("0", "DEMO"), ("1", "MUN01"), ("1", "MUN02"), ("2", "MUN01-S01")}
    school = page.xpath("//li[@data-organisation='MUN01-S01']")[0]
    inherited = {r.get("data-indicator") for r in school.xpath(".//tr[@data-indicator]")}
    assert inherited == {"M1.1-01", "M1.1-04", "R1.1-12"}
    region = page.xpath("//li[@data-organisation='DEMO']//tr[@data-indicator='M1.1-01']")[0]
    assert _text(region.xpath("./td")[2]) != "—"  # the region's current value: the roll-up of its schools'
    # ГО Северный's official sees her part of it: her goal and the school's under it
    _login(client, "official")
    municipal = page.xpath("//li[@data-organisation='MUN01']/div/a/@href")[0].rsplit("/", 1)[-1]
    own = _page(client, f"/cycles/{municipal}/cascade")
    assert [g.get("data-organisation") for g in own.xpath("//li[contains(@class, 'cascade-goal')]")] == [
        "MUN01", "MUN01-S01"]
