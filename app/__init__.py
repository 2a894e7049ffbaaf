"""Application factory: wiring only, no database queries while the app is built."""

import importlib
import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_from_env


def create_app(config: type[Config] | None = None) -> Flask:
    # The application's own imports are inside the factory: importing any app.* module runs this file first,
    # so importing the features at its top would load all of them, in a cycle, for whichever module was asked.
    from app import cli
    from app.core import boundary, features, hardening, limits, navigation, web
    from app.extensions import bootstrap, csrf, db, login_manager, migrate
    from app.jobs import queue

    config = config or config_from_env()
    config.validate()
    app = boundary.App(__name__)
    app.config.from_object(config)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)

    # Before the extensions and blueprints: it sets engine options and the bounded `int` URL converter.
    hardening.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    web.init_app(app)
    navigation.init_app(app)
    limits.init_app(app)
    # Every feature package is discovered the same way and declares what it brings (app/core/features.py):
    # blueprints, CLI groups, navigation, task kinds, audit vocabulary, partials, demo filler, start-up hooks.
    features.install(app, csrf=csrf)
    importlib.import_module("app.workflow_hooks").register(app)  # the hooks lower layers ask, filled once
    cli.init_app(app)
    queue.init_app(app)
    web.protect_extension_endpoints(app)
    hardening.protect_blueprints(app)
    return app
