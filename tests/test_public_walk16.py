# ruff: noqa: F811
"""Walk 16: the public pages as a parent or a journalist reads them, without log-in.

A partial cycle (M2.4 «Развитие механизмов управления качеством ДО»: MEAS → DEC → EFF, no «Цели») never reached
the portal: a cycle was public once its «Цели» were approved, which such a cycle has not, so its approved measures
and its published documents had no page (404), whatever the README said of its indicators there. A published
document saved as «1-лна.docx» (its registration number alone), and a municipality without results showed no
results section at all, as if they were hidden. And the levels' roll-up: its rows out of order, its figures of
mixed precision."""

from urllib.parse import unquote

from sqlalchemy import select

from app.demo import fill_stage  # noqa: F401  (loads the app's packages in order before the engine)
from app.followup.models import Measure
from tests.test_partial_cycles import PERIOD, partial_tracks, walk
from tests.test_public import published_doc  # noqa: F401  (the fixture)
from tests.test_vertical import region_people, regional, rolled  # noqa: F401  (the fixtures)


def _partial_cycle_with_measures(world, db_session):
    """A municipal partial cycle whose first block, «Меры», is filled and sent; the full cycle of its mechanism
    runs up to its analysis (the measures are evaluated against its indicators)."""
    from app.cycles.services import create_cycle

    track = next(t for t in partial_tracks() if t.mechanism.level == "municipal" and t.blocks[0] == "MEAS")
    official, head = world["official"], world["head"]
    full_track = next(t for t in track.mechanism.tracks if t.own_indicators and not t.blocks)
    full = create_cycle(track=full_track, owner=world["mun"], period=PERIOD, actor=official, responsible=official)
    walk(full, official, head, upto="ANL")
    partial = create_cycle(track=track, owner=world["mun"], period=PERIOD, actor=official, responsible=official)
    db_session.commit()
    return partial


def test_a_partial_cycle_is_public_once_its_first_block_is_approved(world, db_session, client):
    partial = _partial_cycle_with_measures(world, db_session)
    assert client.get(f"/public/cycles/{partial.id}").status_code == 404  # nothing approved yet

    walk(partial, world["official"], world["head"], upto="DEC")  # «Меры» approved
    db_session.commit()
    page = client.get(f"/public/cycles/{partial.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    measure = db_session.scalar(select(Measure).where(Measure.cycle_id == partial.id))
    assert ">Меры</h2>" in text and measure.title in text
    assert ">Цели</h2>" not in text  # the cycle has no such block: no empty heading
    assert "Эффективность принятых мер" not in text  # EFF is not approved
    assert f'/public/cycles/{partial.id}"' in client.get(f"/public/orgs/{world['mun'].code}").get_data(as_text=True)
    assert f"/public/cycles/{partial.id}</loc>" in client.get("/public/sitemap.xml").get_data(as_text=True)


def test_a_published_document_is_saved_under_its_title_number_and_date(published_doc, client):
    doc, version = published_doc
    served = client.get(f"/public/documents/{version.id}")
    assert served.status_code == 200
    disposition = served.headers["Content-Disposition"]
    served.close()
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    date = version.registration_date.strftime("%d.%m.%Y")
    assert name == f"{doc.title} № {version.registration_number.replace('/', '-')} от {date}.docx"
    assert "ред." not in name  # the office's edition count is not the public's business


def test_an_organisation_without_results_says_so(world, client):
    text = client.get(f"/public/orgs/{world['mun'].code}").get_data(as_text=True)
    assert "Результаты оценочных процедур пока не опубликованы." in text


def test_the_rollup_lists_organisations_by_the_names_it_shows(world, regional, make_org, db_session):
    """The roll-up ordered its rows by the full legal name and printed the short one: the kindergartens
    («МБДОУ …») stood before «Гимназия № 3», «СОШ № 10» before «СОШ № 1», the ДДТ («МУ ДО …») last."""
    from app.vertical.services import rollup

    for number in (10, 2):
        make_org(
            "school",
            parent=world["mun"],
            code=f"SOSH{number}",
            short_name=f"СОШ № {number}",
            name=f"МОУ «Средняя общеобразовательная школа № {number}»",
            students=300,
        )
    make_org(  # (nor, since walk 20, the ДДТ: it takes no ВПР and the R1.1 request never reaches it)
        "additional",
        parent=world["mun"],
        code="DDT",
        short_name="ДДТ",
        name="МУ ДО «Дом детского творчества»",
        students=100,
    )
    db_session.commit()
    data = rollup(regional["cycle"], within=world["mun"])
    shown = [row.organisation.display_name for row in data.indicators[0].rows]
    assert shown == ["СОШ № 2", "СОШ № 10", "Школа А", "Школа Б"]
    assert [r.organisation.display_name for r in data.indicators[0].not_answered] == shown  # none has answered


def test_the_rollup_prints_an_indicators_figures_with_one_precision(world, rolled, client, login):
    """Each figure came with up to two decimals as computed: MUN's mean of its schools «80,32» over MUN2's «70» and
    under «цель: 80», the total «76,42»; a column now keeps the indicator's precision (at least one decimal)."""
    import lxml.html

    login(rolled["r_official"])
    page = lxml.html.fromstring(client.get(f"/cycles/{rolled['cycle'].id}/rollup").get_data(as_text=True))
    (section,) = page.xpath("//section[@data-indicator='R-01']")
    values = [" ".join(td.text_content().split()) for td in section.xpath(".//td[contains(@class, 'rollup-value')]")]
    assert values == ["70,0", "80,3", "—"]  # MUN2 («Второй …») its own answer, MUN from its schools, MUN3 silent
    summary = " ".join(section.xpath("./p")[0].text_content().split())
    assert "цель: 80,0" in summary and "Итого: 76,4 " in summary
    cascade = lxml.html.fromstring(client.get(f"/cycles/{rolled['cycle'].id}/cascade").get_data(as_text=True))
    assert cascade.xpath("//tr[@data-indicator='R-01']//td[contains(@class, 'cascade-value')]")[0].text == "76,4"


def test_each_public_page_describes_itself_to_a_search_engine(world, anl_cycle, client):
    """No page had a description: a search engine's snippet was the header and the breadcrumbs, the same for all."""
    import lxml.html

    described = {}
    for path in ("/public/", f"/public/orgs/{world['mun'].code}", f"/public/cycles/{anl_cycle.id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        (content,) = lxml.html.fromstring(page.get_data(as_text=True)).xpath("//meta[@name='description']/@content")
        described[path] = content
    assert "опубликованные документы" in described["/public/"]
    assert described[f"/public/orgs/{world['mun'].code}"].startswith(world["mun"].name + ":")
    assert described[f"/public/cycles/{anl_cycle.id}"].startswith(f"{world['mun'].name}, ")
    assert len(set(described.values())) == 3


def test_the_goals_cascade_lists_lower_goals_by_the_names_it_shows(
    world, rolled, make_org, make_user, make_cycle, db_session
):
    """Goals of the level below came in the order of their owners' full legal names («Администрация Ясного …» before
    «Тестовый муниципалитет»), under the short names the tree prints («Ясный МР» first)."""
    from app.cycles.models import Goal
    from app.cycles.services import save_content
    from app.vertical.services import cascade
    from tests.conftest import fill_goal

    region_goal = rolled["cycle"].goals[0]
    yasny = make_org(
        "municipality",
        parent=world["region"],
        code="YASNY",
        short_name="Ясный МР",
        name="Администрация Ясного муниципального района",
    )
    yasny_official = make_user("official", yasny)
    for cycle, official in (
        (rolled["municipal"], world["official"]),
        (make_cycle(yasny, yasny_official, mechanism="M1.1"), yasny_official),
    ):
        goal = fill_goal(cycle, official)
        save_content(Goal, cycle, actor=official, obj=goal, data={"parent_goal_id": region_goal.id})
    db_session.commit()
    [root] = cascade(rolled["cycle"]).roots
    assert [n.goal.cycle.owner.display_name for n in root.children] == ["Тестовый муниципалитет", "Ясный МР"]


def test_the_rollup_judges_a_target_on_the_figure_it_prints():
    """74,06 against a target of 74,1 printed «Итого: 74,1 … цель: 74,1» beside «цель не достигнута»: the badge
    contradicted the figures beside it."""
    from decimal import Decimal
    from types import SimpleNamespace

    from app.vertical.services import IndicatorRollup

    indicator = SimpleNamespace(unit="%", target=Decimal("74.1"), baseline=Decimal("70.0"), direction="up",
                                aggregation="mean_weighted")
    assert IndicatorRollup(indicator, value=Decimal("74.06")).meets
    assert not IndicatorRollup(indicator, value=Decimal("74.04")).meets
    lower = SimpleNamespace(unit="%", target=Decimal("5.0"), baseline=Decimal("6.0"), direction="down",
                            aggregation="mean_weighted")
    assert IndicatorRollup(lower, value=Decimal("5.04")).meets
    assert not IndicatorRollup(lower, value=Decimal("5.06")).meets
