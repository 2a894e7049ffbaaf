"""The registered copy (зарегистрированный экземпляр) of a signed version.

ГОСТ Р 7.0.97: the registration number and date are requisites of the document itself, so the file an auditor
downloads must carry them. The signed file cannot: it was rendered before signing («ПРОЕКТ», no number) and
its SHA-256 is what the signature covers, so it is never rewritten. Instead, on registration the same type is
rendered again from the snapshot of the data the signed file was made from (DocumentVersion.context_snapshot)
with the requisites filled in — registration number and date, the signer as the signature recorded them, the
approvers who agreed with the dates they agreed, no «ПРОЕКТ» mark — and a last page is appended after a page
break: the лист согласования (the визы of the approvals that happened: position, name, decision, date, comment)
and the лист удостоверения (registration number and date, signer's position and И.О. Фамилия, «Подписано: <local
date time>», the SHA-256 of the signed file, the edition). The body itself carries no hash and no time-zone
identifier. The copy is stored as a separate file
with its own SHA-256 (jobs.produce_registered); services.verify_version checks both files.
"""

import io

from docx import Document as Docx
from docx.shared import Pt

from app.core.errors import ValidationFailed
from app.core.timeutil import format_datetime, local_day
from app.documents import rendering, snapshot
from app.documents.contexts import fmt_date, fmt_date_long, initials_name
from app.documents.storage import verify_signed
from app.documents.template_admin import template_for
from app.orgs.services import org_time_zone

STAMP_HEADING = "Лист удостоверения"
SHEET_HEADING = "Лист согласования"
NOT_A_DRAFT = ""
DECISIONS = {"approved": "согласовано", "returned": "возвращено на доработку"}


def main_signature(version):
    """The signature that makes the document (утверждаю / подписано), not an acknowledgement."""
    doc_type = version.document.doc_type
    meaning = doc_type.sign_meaning if doc_type else None
    signatures = [s for s in version.signatures if s.meaning != "ознакомлен"]
    return next((s for s in signatures if s.meaning == meaning), signatures[0] if signatures else None)


def _time_zone(version) -> str:
    """Where the issuer works: its own zone or its nearest ancestor's (the zone its registration date is taken in)."""
    return org_time_zone(version.document.organisation)


def signed_at_text(version, signature) -> str:
    return format_datetime(signature.signed_at, _time_zone(version))


def _day(version, moment):
    return local_day(moment, _time_zone(version))


def requisites(context: dict, version, signature) -> dict:
    """`context` (the signed rendering's snapshot) with the registration and signature requisites filled in."""
    context = dict(context)
    # A letter rendered before the бланк carried an emblem has no pictures in its snapshot.
    context.setdefault("charts", {})
    signed_day = _day(version, signature.signed_at)
    signer = {"position": signature.signer_position or "", "name": initials_name(signature.signer_name)}
    if isinstance(context.get("doc"), dict):
        context["doc"] = {**context["doc"], "number": version.registration_number,
                          "date": fmt_date(version.registration_date),
                          "date_long": fmt_date_long(version.registration_date), "draft_mark": NOT_A_DRAFT}
    if isinstance(context.get("signer"), dict):
        context["signer"] = {**context["signer"], **signer}
    if isinstance(context.get("signers"), list):
        # Several signers of one capacity (the experts of a conclusion): each who signed the version electronically
        # is named as the signature recorded them (the position stays the conclusion's, the
        # register of experts'), on the day they signed; the others keep the blank to sign by hand. A deputy's
        # signature dates the line of the one they signed for, under their own name and the position it recorded.
        by_user = _signed_for(context, version, signature)
        context["signers"] = [_signed_line(line, version, by_user[line["user_id"]])
                              if isinstance(line, dict) and line.get("user_id") in by_user else line
                              for line in context["signers"]]
    if isinstance(context.get("approval"), dict):
        context["approval"] = {**context["approval"], **signer, "date": fmt_date_long(signed_day)}
    if isinstance(context.get("agreements"), list) and version.approvals:
        latest = max(a.round for a in version.approvals)
        agreed = [a for a in version.approvals if a.round == latest and a.decision == "approved"]
        if agreed:
            # The «СОГЛАСОВАНО» stamp carries the date the approver agreed (ГОСТ Р 7.0.97, п. 5.24).
            context["agreements"] = [{"position": a.approver_position or "", "name": initials_name(a.approver_name),
                                      "date": fmt_date_long(_day(version, a.decided_at))} for a in agreed]
    return context


def _signed_for(context: dict, version, signature) -> dict:
    """user id of a signer line → the signature made for it: each person's own, and the main one made by a deputy
    for the signer the edition names (only that person, or their deputy, makes it: workflows.document.SIGNER)."""
    by_user = {s.signer_id: s for s in version.signatures}
    named = context.get("named_signer")
    named_id = named.get("user_id") if isinstance(named, dict) else None
    if named_id is not None and signature.signer_id != named_id and named_id not in by_user:
        # the deputy signed for the named signer, not as a signer of a line of their own (were they on one)
        by_user = {k: v for k, v in by_user.items() if v is not signature} | {named_id: signature}
    return by_user


def _signed_line(line: dict, version, signature) -> dict:
    """A signer line as `signature` signed it: the signer's own keeps the line's position; a deputy's shows their
    position as the signature recorded it («Заместитель …», «Исполняющий обязанности …», ГОСТ Р 7.0.97, п. 5.23: no
    «за», no slash), as the single signer's line of every other document does."""
    own = signature.signer_id == line["user_id"]
    return {**line, "position": line.get("position") if own else signature.signer_position or line.get("position"),
            "name": initials_name(signature.signer_name), "date": fmt_date_long(_day(version, signature.signed_at))}


def approval_rows(version) -> list[tuple[str, ...]]:
    """The визы of the approvals that happened, every round in order: position, name, decision, date, comment."""
    rows = []
    for a in sorted(version.approvals, key=lambda a: (a.round, a.position, a.id or 0)):
        if a.decision is None:
            continue
        rows.append((a.approver_position or "", initials_name(a.approver_name) or "",
                     DECISIONS.get(a.decision, a.decision), fmt_date(_day(version, a.decided_at)) or "",
                     a.comment or ""))
    return rows


def stamp_lines(version, signature) -> list[tuple[str, str]]:
    """The lines of the лист удостоверения: (label, value). The time is the organisation's local time; the time
    zone's identifier and the hash stay out of the document's body (they are on this last page only)."""
    signer = ", ".join(x for x in (signature.signer_position or "", initials_name(signature.signer_name)) if x)
    return [
        ("Регистрационный номер", version.registration_number),
        ("Дата регистрации", fmt_date(version.registration_date)),
        (f"Документ подписал (отметка «{signature.meaning}»)", signer),
        *((f"Документ подписал (отметка «{s.meaning}»)",
           ", ".join(x for x in (s.signer_position or "", initials_name(s.signer_name)) if x))
          for s in version.signatures if s is not signature and s.meaning not in (signature.meaning, "ознакомлен")),
        ("Подписано", f"{signed_at_text(version, signature)} (местное время)"),
        ("SHA-256 подписанного файла", signature.file_sha256),
        ("Редакция", str(version.number)),
    ]


def _small(paragraph, text, *, bold=False):
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.font.name, run.font.size = "Times New Roman", Pt(11)
    return run


def _first(docx):
    """The stamp page's first paragraph: it starts a new page and keeps with the lines under it."""
    paragraph = docx.add_paragraph()
    paragraph.paragraph_format.page_break_before = True
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _append_stamp(data: bytes, version, signature) -> bytes:
    """A last page after the body: the лист согласования (визы of the approvals that happened) and the лист
    удостоверения (registration, signature, SHA-256 of the signed file, edition)."""
    docx = Docx(io.BytesIO(data))
    # A new page by the heading's own «page break before»: a paragraph holding a page break, after a body that
    # filled its last page, stood alone on a blank page of its own (the registered recommendations' page 2 of 3).
    visas = approval_rows(version)
    if visas:
        _small(_first(docx), SHEET_HEADING, bold=True)
        table = docx.add_table(rows=1, cols=5)
        table.style = docx.styles["Table Grid"] if "Table Grid" in [s.name for s in docx.styles] else None
        for cell, title in zip(table.rows[0].cells, ("Должность", "И.О. Фамилия", "Решение", "Дата", "Замечания")):
            _small(cell.paragraphs[0], title, bold=True)
        for visa in visas:
            for n, (cell, value) in enumerate(zip(table.add_row().cells, visa)):
                _small(cell.paragraphs[0], rendering.unbroken(value) if n == 1 else value)
        docx.add_paragraph()
    _small(docx.add_paragraph() if visas else _first(docx), STAMP_HEADING, bold=True)
    for label, value in stamp_lines(version, signature):
        paragraph = docx.add_paragraph()
        _small(paragraph, f"{label}: ")
        # a name whole on the page: «… области, В.Н.» ended a line and «Полякова» began the next (the lines stay
        # plain for the evidence package's manifest, which reads them too)
        _small(paragraph, rendering.unbroken(value or "") if label.startswith("Документ подписал") else value or "")
    _small(docx.add_paragraph(), "Экземпляр изготовлен с подписанной редакции; подлинность подписанного файла "
                                 "проверяется по его контрольной сумме SHA-256 на странице документа.")
    out = io.BytesIO()
    docx.save(out)
    return out.getvalue()


def registered_copy(version) -> bytes:
    """The .docx bytes of the registered copy of `version`. Raises ValidationFailed (Russian) when it cannot be
    made honestly: not signed or not registered, the signed file altered, no snapshot of the signed data."""
    if not version.signed or not version.registration_number:
        raise ValidationFailed("Зарегистрированный экземпляр изготавливается с подписанной зарегистрированной "
                               "редакции.")
    signature = main_signature(version)
    if signature is None:
        raise ValidationFailed("У редакции нет подписи: зарегистрированный экземпляр не изготовлен.")
    check = verify_signed(version)
    if not check.ok:
        raise ValidationFailed(f"Зарегистрированный экземпляр не изготовлен: {check.message}")
    if not version.context_snapshot:
        raise ValidationFailed("Зарегистрированный экземпляр не изготовлен: не сохранены данные, из которых "
                               "сформирована подписанная редакция (сформируйте новую редакцию).")
    context = requisites(snapshot.load(version.context_snapshot), version, signature)
    # With the template version the signed file was made from, not today's active one.
    template = template_for(version.document.type_key, version.template_version)
    # That template needs the variables it uses, which the snapshot holds: not a variable the sidecar declared later.
    data = rendering.render(version.document.type_key, context, template=template,
                            required=rendering.undeclared_variables(version.document.type_key, template))
    return _append_stamp(data, version, signature)
