"""Application factory: wiring only, no database queries while the app is built."""

import logging
from pathlib import Path

from flask import Flask

from config import Config, config_from_env


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

    from app.extensions import bootstrap, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)

    from app.core import web

    web.init_app(app)

    from app.audit import labels

    labels.init_app(app)

    from app import audit, auth, catalogue, cycles, orgs, tasks  # noqa: F401  (models register)
    from app.auth import bp as auth_bp
    from app.catalogue import bp as catalogue_bp
    from app.cycles import bp as cycles_bp
    from app.orgs import bp as orgs_bp
    from app.tasks import bp as tasks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(cycles_bp)
    app.register_blueprint(tasks_bp, url_prefix="/tasks")
    app.register_blueprint(orgs_bp, url_prefix="/orgs")
    app.register_blueprint(catalogue_bp, url_prefix="/catalogue")

    from app import cli
    from app.jobs import queue

    cli.init_app(app)
    queue.init_app(app)
    web.protect_extension_endpoints(app)
    return app
