"""The registered copy (зарегистрированный экземпляр) of a signed version.

ГОСТ Р 7.0.97: the registration number and date are requisites of the document itself, so the file an auditor
downloads must carry them. The signed file cannot: it was rendered before signing («ПРОЕКТ», no number) and
its SHA-256 is what the signature covers, so it is never rewritten. Instead, on registration the same type is
rendered again from the snapshot of the data the signed file was made from (DocumentVersion.context_snapshot)
with the requisites filled in — registration number and date, the signer as the signature recorded them, the
approvers who agreed, no «ПРОЕКТ» mark — and a block «Сведения о подписании» is appended: signer's position and
И.О. Фамилия, «Подписано: <date time>», the SHA-256 of the signed file. The copy is stored as a separate file
with its own SHA-256 (jobs.produce_registered); services.verify_version checks both files.
"""

import io
from zoneinfo import ZoneInfo

from docx import Document as Docx
from docx.shared import Pt
from flask import current_app

from app.core.errors import ValidationFailed
from app.core.timeutil import format_datetime
from app.documents import rendering, snapshot
from app.documents.contexts import fmt_date, fmt_date_long, initials_name
from app.documents.storage import verify_signed
from app.documents.template_admin import template_for

STAMP_HEADING = "Сведения о регистрации и подписании"
NOT_A_DRAFT = ""


def main_signature(version):
    """The signature that makes the document (утверждаю / подписано), not an acknowledgement."""
    doc_type = version.document.doc_type
    meaning = doc_type.sign_meaning if doc_type else None
    signatures = [s for s in version.signatures if s.meaning != "ознакомлен"]
    return next((s for s in signatures if s.meaning == meaning), signatures[0] if signatures else None)


def _time_zone(version) -> str:
    return version.document.organisation.timezone or current_app.config["APP_TIMEZONE"]


def signed_at_text(version, signature) -> str:
    return format_datetime(signature.signed_at, _time_zone(version))


def requisites(context: dict, version, signature) -> dict:
    """`context` (the signed rendering's snapshot) with the registration and signature requisites filled in."""
    context = dict(context)
    # A letter rendered before the бланк carried an emblem has no pictures in its snapshot.
    context.setdefault("charts", {})
    signed_day = signature.signed_at.astimezone(ZoneInfo(_time_zone(version))).date()
    signer = {"position": signature.signer_position or "", "name": initials_name(signature.signer_name)}
    if isinstance(context.get("doc"), dict):
        context["doc"] = {**context["doc"], "number": version.registration_number,
                          "date": fmt_date(version.registration_date),
                          "date_long": fmt_date_long(version.registration_date), "draft_mark": NOT_A_DRAFT}
    if isinstance(context.get("signer"), dict):
        context["signer"] = {**context["signer"], **signer}
    if isinstance(context.get("approval"), dict):
        context["approval"] = {**context["approval"], **signer, "date": fmt_date_long(signed_day)}
    if isinstance(context.get("agreements"), list) and version.approvals:
        latest = max(a.round for a in version.approvals)
        agreed = [a for a in version.approvals if a.round == latest and a.decision == "approved"]
        if agreed:
            context["agreements"] = [{"position": a.approver_position or "", "name": initials_name(a.approver_name)}
                                     for a in agreed]
    return context


def stamp_lines(version, signature) -> list[tuple[str, str]]:
    """The lines of the appended block: (label, value)."""
    signer = ", ".join(x for x in (signature.signer_position or "", initials_name(signature.signer_name)) if x)
    return [
        ("Регистрационный номер", version.registration_number),
        ("Дата регистрации", fmt_date(version.registration_date)),
        (f"Документ подписал (отметка «{signature.meaning}»)", signer),
        ("Подписано", f"{signed_at_text(version, signature)} ({_time_zone(version)})"),
        ("SHA-256 подписанного файла", signature.file_sha256),
        ("Редакция", str(version.number)),
    ]


def _append_stamp(data: bytes, version, signature) -> bytes:
    docx = Docx(io.BytesIO(data))
    added = [docx.add_paragraph()]
    added[0].add_run(STAMP_HEADING).bold = True
    for label, value in stamp_lines(version, signature):
        paragraph = docx.add_paragraph()
        paragraph.add_run(f"{label}: ")
        paragraph.add_run(value or "")
        added.append(paragraph)
    note = docx.add_paragraph()
    note.add_run("Экземпляр изготовлен с подписанной редакции; подлинность подписанного файла проверяется по его "
                 "контрольной сумме SHA-256 на странице документа.")
    added.append(note)
    for paragraph in added:
        for run in paragraph.runs:
            run.font.name, run.font.size = "Times New Roman", Pt(10)
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
    data = rendering.render(version.document.type_key, context, template=template)
    return _append_stamp(data, version, signature)
