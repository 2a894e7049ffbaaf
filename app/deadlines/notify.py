"""Notifications: written in the caller's transaction, e-mailed only after it commits.

`notify(user, …)` adds the in-app notification (and a copy for whoever stands in for the user that day)
and registers an e-mail job on the session's after-commit hook (app.jobs.queue): a rolled-back
transaction sends nothing, and a worker never reads a notification that is not committed yet.
The e-mail goes through the backend named by MAIL_BACKEND: `console` (the log), `file` (one .eml per
message in MAIL_FILE_DIR) or `smtp` (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_TLS, MAIL_FROM).
"""

import logging
import smtplib
import uuid
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app

from app.core.russian import deputy_for
from app.core.timeutil import utcnow
from app.deadlines.cover import deputies_of
from app.deadlines.models import Notification
from app.extensions import db
from app.jobs.queue import enqueue_after_commit, job

log = logging.getLogger(__name__)
MAIL_JOB_TIMEOUT = 120


def notify(user, *, kind: str, title: str, body: str = "", link: str | None = None, obj=None,
           task=None, day: date | None = None, deputies: bool = True) -> list[Notification]:
    """Notify `user` (and their deputies on `day`, when they are away). Flushes, never commits."""
    made = [_add(user, kind=kind, title=title, body=body, link=link, obj=obj, task=task)]
    if deputies:
        for deputy in deputies_of(user, day):
            # «За С.П. Иванова: …»: «за» takes the accusative (it read «За С.П. Иванов»)
            on_behalf = deputy_for(user)
            made.append(_add(deputy, kind=kind, title=f"З{on_behalf[1:]}: {title}", body=body, link=link,
                             obj=obj, task=task, on_behalf_of=user))
    db.session.flush()
    for notification in made:
        if notification.user.email:
            enqueue_after_commit(send_notification_email, notification.id)
    return made


def _add(user, *, kind, title, body, link, obj, task, on_behalf_of=None) -> Notification:
    notification = Notification(
        user=user, kind=kind, title=title[:500], body=body or "", link=link,
        object_type=getattr(obj, "audit_type", None) or (task.object_type if task is not None else None),
        object_id=getattr(obj, "id", None) if obj is not None else (task.object_id if task is not None else None),
        task_id=task.id if task is not None else None, on_behalf_of=on_behalf_of)
    db.session.add(notification)
    return notification


# --- e-mail ------------------------------------------------------------------------------------

def _header_text(value: str) -> str:
    """A header is one line: a title carrying a line break (typed into a form, imported, sent through the API)
    made `EmailMessage` refuse the header, so the e-mail job failed on every retry; the break becomes a space."""
    return " ".join(value.split())


def build_message(notification: Notification) -> EmailMessage:
    cfg = current_app.config
    message = EmailMessage()
    message["Subject"] = _header_text(f"УКО-Цикл: {notification.title}")
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = notification.user.email
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"notification-{notification.id}", domain="uko-cikl")
    lines = [f"{notification.user.full_name}, здравствуйте.", "", notification.title]
    if notification.body:
        lines += ["", notification.body]
    if notification.link:
        lines += ["", "Открыть: " + cfg["APP_BASE_URL"].rstrip("/") + notification.link]
    lines += ["", "—", "Письмо отправлено автоматически системой УКО-Цикл; отвечать на него не нужно."]
    message.set_content("\n".join(lines))
    return message


def deliver(message: EmailMessage) -> None:
    """Hand one message to the configured backend; errors propagate (the job fails and RQ records it)."""
    cfg = current_app.config
    backend = cfg["MAIL_BACKEND"]
    if backend == "console":
        log.info("e-mail (console backend):\n%s", message.as_string())
    elif backend == "file":
        directory = Path(cfg["MAIL_FILE_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        (directory / name).write_bytes(message.as_bytes())
    elif backend == "smtp":
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT"]) as smtp:
            if cfg["SMTP_TLS"]:
                smtp.starttls()
            if cfg["SMTP_USER"]:
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}: use console, file or smtp")


@job(queue="default", timeout=MAIL_JOB_TIMEOUT)
def send_notification_email(notification_id: int) -> bool:
    """Job: e-mail one notification once (emailed_at marks it sent; a repeated job does nothing)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.emailed_at is not None or not notification.user.email:
        return False
    deliver(build_message(notification))
    notification.emailed_at = utcnow()
    db.session.commit()
    return True
