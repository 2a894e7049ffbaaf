"""Deadlines (сроки): notifications, reminders and escalation, stand-ins (заместители), calendar and iCal feed."""

from flask import Blueprint

bp = Blueprint("deadlines", __name__, template_folder="templates")

from app.deadlines import models, views  # noqa: E402,F401
