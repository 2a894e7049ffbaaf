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

    # The imports are inside the factory: importing any app.* module runs this file first, so importing the
    # application at its top would load every feature in a cycle with whatever module was asked for.
    from app.extensions import bootstrap, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)

    from app.audit import labels
    from app.core import features, web
    from workflows import engine

    web.init_app(app)
    # Every feature package is discovered the same way and declares what it brings (app/core/features.py).
    features.install(app, csrf=csrf)
    # The audit pages name states as each workflow declares them; audit sits below the workflows, so it is told.
    labels.use_workflow_states(lambda: {wf.object_type: wf.states for wf in engine.registry().values()})

    from app import cli
    from app.jobs import queue

    cli.init_app(app)
    queue.init_app(app)
    web.protect_extension_endpoints(app)
    return app
