"""Hash-chained, append-only audit log (журнал аудита)."""

from flask import Blueprint

bp = Blueprint("audit", __name__, template_folder="templates")

from app.audit import labels, models  # noqa: E402,F401
from app.audit.cli import audit_cli  # noqa: E402
from app.core.features import Feature, Mount, NavEntry, audit_vocabularies  # noqa: E402


def _setup(app) -> None:
    # Local: every service imports app.audit.chain, so loading the pages (which import the auth and orgs
    # models) while this package initialises would run in a cycle; they load once the app is wired.
    from app.audit import present, views  # noqa: F401
    # The vocabulary of every feature (its descriptor) goes into the shared labels.
    labels.init_app(app, audit_vocabularies())
    present.install()


FEATURE = Feature(
    name="audit", order=60, blueprints=(Mount(bp, "/audit"),), cli=(audit_cli,), setup=_setup,
    # Administrators keep the log among their tools; for the auditor, the expert and the head reading it is part of
    # their work, so they find it there rather than in a «Администрирование» menu with nothing else in it.
    navigation=(NavEntry(10, "Журнал аудита", "audit.events", roles=frozenset({"admin"}), group="Администрирование"),
                NavEntry(50, "Журнал аудита", "audit.events", roles=frozenset({"auditor", "expert", "head"}),
                         except_roles=frozenset({"admin"}), group="Работа")),
)
