"""What the twelfth records-office review (ГОСТ Р 7.0.97-2016) of the generated documents found: the executor mark
in the middle of the last page under the signature instead of at its foot on the left, the «СОГЛАСОВАНО» stamps at
the top of the first page instead of below the text, and a perechen's «Ответственный» written «Петрова М.И.» where
every other document names a person «М.И. Петрова»."""

import copy
import re
import subprocess
from html import unescape

from sqlalchemy import select

# A4 in points, and the templates' bottom and left margins (20 and 30 mm)
PAGE_HEIGHT, BOTTOM_MARGIN, LEFT_MARGIN = 841.9, 56.7, 85.0
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _closed_cycle(db):
    from app.cycles.models import Cycle

    return next(c for c in db.scalars(select(Cycle).order_by(Cycle.id.desc())) if c.state == "closed")


def _words(pdf) -> list[list[tuple[float, float, float, float, str]]]:
    """The words of each page of `pdf` with their boxes (points from the top left)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return [[(float(a), float(b), float(c), float(d), unescape(w)) for a, b, c, d, w in WORD.findall(page)]
            for page in out.split("<page ")[1:]]


def _convert(files: dict[str, bytes], tmp_path) -> dict[str, list]:
    from tests import services as svc
    from tests.test_documents_pdf import _convert_all

    _convert_all(svc.require_soffice(), files, tmp_path)
    return {name: _words(tmp_path / f"{name}.pdf") for name in files}


def _letters(demo) -> tuple[dict[str, bytes], dict]:
    """The demo's addressed recommendations as a letter of one page, of two and of many (its table of recommendations
    made longer), and the letter's executor."""
    from app.documents import contexts, rendering, services
    from app.orgs.models import Organisation

    stage = _closed_cycle(demo).stage("REC")
    addressee = demo.get(Organisation, services.recommendation_addressee_ids(stage)[0])
    ctx = contexts.build_context("addressed_recommendations", stage, addressee=addressee)
    first = ctx["recommendations"][0]
    files = {}
    for name, count in (("one", len(ctx["recommendations"])), ("two", 7), ("many", 30)):
        longer = copy.deepcopy(ctx)
        if count > len(ctx["recommendations"]):
            longer["recommendations"] = [dict(first, number=n + 1) for n in range(count)]
        files[name] = rendering.render("addressed_recommendations", longer)
    return files, ctx["executor"]


def test_the_executor_mark_stands_at_the_foot_of_the_last_page_on_the_left(demo, tmp_path):
    """ГОСТ Р 7.0.97-2016: the отметка об исполнителе is at the bottom of the last sheet, on the left. It was the last
    lines of the closing table, right under the signature — mid-page on a one-page letter. Letters of one, two and
    many pages, converted by LibreOffice: the executor's name and contact are on the signature's page, at its left
    margin, their last line within a line of the bottom margin, below the signature and overlapping nothing."""
    files, executor = _letters(demo)
    surname = executor["name"].split()[0]
    pages_of = _convert(files, tmp_path)
    counts = {name: len(pages) for name, pages in pages_of.items()}
    assert counts["one"] == 1 and counts["two"] == 2 and counts["many"] >= 4, counts
    for name, pages in pages_of.items():
        marked = [n for n, words in enumerate(pages) if any(w[4] == surname for w in words)]
        assert marked == [len(pages) - 1], (name, marked)  # once, on the last page
        words = pages[-1]
        mark = [w for w in words if w[4] == surname][0]
        contact = [w for w in words if w[4] == executor["contact"].split()[0]][-1]  # its line's first word
        signature = [w for w in words if w[4] == "Иванов"]  # the demo's head, С.П. Иванов, signs
        assert signature, name
        assert abs(mark[0] - LEFT_MARGIN) < 3 and abs(contact[0] - LEFT_MARGIN) < 3, (name, mark, contact)
        assert contact[3] > PAGE_HEIGHT - BOTTOM_MARGIN - 14, (name, contact)  # the foot of the text area
        assert mark[1] > signature[-1][3] + 14, (name, mark, signature)  # below the signature, a line apart
        # nothing else down there: every word from the mark's top down is the mark's own
        band = {w[4] for w in words if w[3] > mark[1]}
        assert band <= set((executor["name"] + " " + executor["contact"]).split()), (name, band)


def test_the_agreement_stamp_stands_below_the_text_on_the_left_and_utverzhdayu_on_top_right(demo, tmp_path):
    """ГОСТ Р 7.0.97-2016: the гриф утверждения stands in the upper right corner of the first page, the гриф
    согласования below the signature (here: below the text of a document approved by its УТВЕРЖДАЮ). The roadmap and
    the положение printed «СОГЛАСОВАНО» at the top left of page 1, across from УТВЕРЖДАЮ. Converted: «СОГЛАСОВАНО» is
    on the last page, at the left margin, below every line of the text and above the executor mark."""
    from app.documents import contexts, rendering

    cycle = _closed_cycle(demo)
    files = {key: rendering.render(key, contexts.build_context(key, cycle.stage(stage)))
             for key, stage in (("roadmap", "MEAS"), ("regulation", "GOAL"))}
    for key, pages in _convert(files, tmp_path).items():
        approve = [(n, w) for n, words in enumerate(pages) for w in words if w[4] == "УТВЕРЖДАЮ"]
        agree = [(n, w) for n, words in enumerate(pages) for w in words if w[4] == "СОГЛАСОВАНО"]
        assert len(approve) == 1 and approve[0][0] == 0, (key, approve)
        width = max(w[2] for w in pages[0])
        assert approve[0][1][0] > width / 2, (key, approve)  # the right half of page 1
        assert agree and all(n == len(pages) - 1 for n, _ in agree), (key, agree, len(pages))
        stamp = agree[0][1]
        assert abs(stamp[0] - LEFT_MARGIN) < 3, (key, stamp)
        words = pages[-1]
        executor = min(w[1] for w in words if "@" in w[4]) - 14
        text = [w for w in words if w[3] < stamp[1] and not w[4].isdigit() and w[4] != "ПРОЕКТ"]
        assert text, key  # the stamp is not alone on its page: text of the document above it
        assert stamp[3] < executor, key


def test_a_responsible_person_is_named_initials_first_in_the_perechen(demo):
    """The перечень показателей printed «Петрова М.И., главный специалист …» in its «Ответственный» column while the
    дорожная карта, the orders and the decisions name «М.И. Петрова, главный специалист …» (ГОСТ Р 7.0.97: И.О.
    Фамилия). The demo's indicators say it so, and a text typed surname first is printed initials first."""
    from app.documents import contexts

    stage = _closed_cycle(demo).stage("IND")
    rows = contexts.build_context("indicators_approval", stage)["indicators"]
    assert rows and all(re.match(r"[А-ЯЁ]\.[А-ЯЁ]\. [А-ЯЁ][а-яё]+, ", r["responsible"]) for r in rows), rows
    assert any(r["responsible"].startswith("М.И. Петрова, главный специалист") for r in rows)
    indicator = stage.cycle.indicators[0]
    indicator.responsible = "Римская-Корсакова А.-М.С., методист ИМЦ"
    demo.flush()
    first = contexts.build_context("indicators_approval", stage)["indicators"][0]
    assert first["responsible"] == "А.-М.С. Римская-Корсакова, методист ИМЦ"
    indicator.responsible = "Отдел общего образования"  # not a person: left as typed
    demo.flush()
    assert contexts.build_context("indicators_approval", stage)["indicators"][0]["responsible"] == indicator.responsible
