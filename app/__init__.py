"""Application factory: wiring only, no database queries while the app is built."""

import logging
from pathlib import Path

from flask import Flask

from config import Config, config_from_env

# Features that live in their own package with a blueprint at /<name>, audit labels, CLI group and demo data.
FEATURES = ("documents", "analysis", "followup", "deadlines", "effectiveness")


def create_app(config: type[Config] | None = None) -> Flask:
    config = config or config_from_env()
    config.validate()
    app = Flask(__name__)
    app.config.from_object(config)
    if app.config["PROXY_FIX_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)

    from app.core import hardening

    # Before the extensions and blueprints: it sets engine options and the bounded `int` URL converter.
    hardening.init_app(app)

    from app.extensions import bootstrap, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)

    from app.core import web

    web.init_app(app)

    from app.core import navigation

    navigation.init_app(app)

    from app.core import limits

    limits.init_app(app)

    from app.audit import labels

    labels.init_app(app)

    from app import api, audit, auth, catalogue, cycles, imports, monitoring, orgs, tasks  # noqa: F401
    from app.api import bp as api_bp
    from app.audit import bp as audit_bp
    from app.audit import views as _audit_views  # noqa: F401  (registers the audit pages)
    from app.auth import bp as auth_bp
    from app.catalogue import bp as catalogue_bp
    from app.cycles import bp as cycles_bp
    from app.imports import bp as imports_bp
    from app.monitoring import bp as monitoring_bp
    from app.orgs import bp as orgs_bp
    from app.tasks import bp as tasks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(cycles_bp)
    app.register_blueprint(tasks_bp, url_prefix="/tasks")
    app.register_blueprint(orgs_bp, url_prefix="/orgs")
    app.register_blueprint(catalogue_bp, url_prefix="/catalogue")
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(monitoring_bp, url_prefix="/monitoring")
    app.register_blueprint(imports_bp, url_prefix="/imports")
    from app.situation import bp as situation_bp

    app.register_blueprint(situation_bp, url_prefix="/situation")
    from app.evidence import bp as evidence_bp

    app.register_blueprint(evidence_bp, url_prefix="/evidence")
    from app.public import bp as public_bp

    app.register_blueprint(public_bp, url_prefix="/public")
    # The API authenticates with bearer tokens, not cookies, so CSRF does not apply to it.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from app.api.ui import bp_ui as tokens_bp

    app.register_blueprint(tokens_bp, url_prefix="/tokens")
    import importlib

    for name in FEATURES:
        app.register_blueprint(importlib.import_module(f"app.{name}").bp, url_prefix=f"/{name}")

    importlib.import_module("app.workflow_hooks").register(app)  # the hooks lower layers ask, filled once
    from app import cli
    from app.jobs import queue

    cli.init_app(app)
    queue.init_app(app)
    web.protect_extension_endpoints(app)
    hardening.protect_blueprints(app)
    return app
