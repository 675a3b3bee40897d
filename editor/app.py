"""Constituent's Flask application: create_app() wires configuration, storage, rooms, events and blueprints."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, has_request_context, render_template, request
from flask_babel import Babel, get_locale
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect
from werkzeug.routing import IntegerConverter

from akoma_ntoso import AkomaNtosoError
from akoma_ntoso.inline import without_notes
from crdt.fanout import RedisFanout
from crdt.room import RoomSettings
from crdt.rooms import Rooms
from crdt.store import UpdateStore

from . import collab
from . import config as config_module
from . import models as _models  # noqa: F401 - registers the tables
from .accounts import bp as accounts_bp
from .accounts import login_manager
from .admin import bp as admin_bp
from .amendments import handlers as amendments_handlers
from .amendments import models as _amendment_models  # noqa: F401 - registers its tables
from .amendments.api import bp as amendments_api_bp
from .amendments.views import bp as amendments_bp
from .api import bp as api_bp
from .assembly.api import bp as assembly_api_bp
from .assembly.views import bp as assembly_bp
from .audit import install as install_audit
from .collab import NAMESPACE, CollabNamespace, SocketHooks, SocketSessionInterface
from .comments import handlers as comments_handlers
from .comments import models as _comment_models  # noqa: F401 - registers its tables
from .comments.api import bp as comments_api_bp
from .commissions.api import bp as commissions_api_bp
from .commissions.views import bp as commissions_bp
from .db import make_engine, make_session
from .events import EventBus
from .import_page import bp as import_bp
from .limits import limiter
from .live import install as install_live
from .livetext import LiveTexts
from .notifications import handlers as notifications_handlers
from .notifications import models as _notification_models  # noqa: F401 - registers its tables
from .notifications.views import api_bp as notifications_api_bp
from .notifications.views import bp as notifications_bp
from .opendata import bp as opendata_bp
from .outbox import install as install_outbox
from .participation import handlers as participation_handlers
from .participation.event_views import bp as events_calendar_bp
from .participation.moderation_views import bp as moderation_bp
from .participation.views import bp as participation_bp
from .petitions import models as _petition_models  # noqa: F401 - registers its tables
from .petitions.api import bp as petitions_api_bp
from .petitions.views import bp as petitions_bp
from .process.views import bp as process_bp
from .provenance import handlers as provenance_handlers
from .provenance import models as _provenance_models  # noqa: F401 - registers its tables
from .provenance.api import bp as provenance_api_bp
from .provenance.views import bp as provenance_bp
from .public import bp as public_bp
from .report import bp as report_bp
from .review import handlers as review_handlers
from .review import models as _review_models  # noqa: F401 - registers its tables
from .review.views import bp as review_bp
from .revision.api import bp as revision_api_bp
from .revision.views import bp as revision_bp
from .schema import prepare as prepare_schema
from .search import install as install_search
from .security import install as install_security
from .services import Services, services_of
from .stages import handlers as stages_handlers
from .stages import models as _stage_models  # noqa: F401 - registers its tables
from .stages.api import bp as stages_api_bp
from .stages.unit_views import api as unit_history_api_bp
from .stages.unit_views import bp as unit_history_bp
from .stages.views import bp as stages_bp
from .suggestions import handlers as suggestions_handlers
from .suggestions import models as _suggestion_models  # noqa: F401 - registers its table
from .suggestions.api import bp as suggestions_api_bp
from .survey import models as _survey_models  # noqa: F401 - registers its tables
from .survey.answer_views import bp as answering_bp
from .survey.collect import bp as collect_bp
from .survey.paper_views import bp as paper_bp
from .survey.questionnaire_views import bp as questionnaires_bp
from .survey.views import bp as survey_bp
from .workspace import bp as workspace_bp

WEB = Path(__file__).resolve().parent.parent / "web"


class _BoundedInt(IntegerConverter):
    """`<int:…>` that only matches numbers a 64-bit database integer holds: longer ones match no
    route (404), where they used to reach the database and fail there (500)."""

    regex = r"\d{1,18}"



#: A document's language (ISO 639-2, as meta has it) as an HTML `lang` (BCP 47).
_HTML_LANG = {"eng": "en", "spa": "es", "por": "pt", "fra": "fr"}


def text_lang(language: str | None) -> str:
    """`{{ document.language|text_lang }}`: the `lang` of a document's text in a page."""
    return _HTML_LANG.get(language or "", "es")

def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(WEB / "templates"),
        static_folder=str(WEB / "static"),
        instance_path=None,
    )
    app.config.update(config_module.load(overrides))

    engine = make_engine(app.config["DATABASE_URL"])

    # The tables, by migration (editor/schema.py): created, checked or upgraded.
    chosen = app.config["DB_AUTO_UPGRADE"]
    prepare_schema(engine, auto_upgrade=(chosen == "1") if chosen in ("0", "1") else None)
    store = UpdateStore(engine)

    socketio = SocketIO(
        async_mode="threading",
        # One connection's events are handled in order, in its own reader thread: a client's
        # updates must reach its room in the order it sent them (and no thread per event).
        async_handlers=False,
        max_http_buffer_size=app.config["MAX_Y_MESSAGE_BYTES"] * 2,
    )
    fanout = None
    if app.config.get("REDIS_URL"):
        # Several processes: each holds a replica of the documents it serves; durable updates and
        # rights changes travel between them on Redis Streams (crdt.fanout). Flask-SocketIO's
        # message_queue is not used: it would relay every emit of every process through Redis,
        # and a replica needs the updates themselves, not the emits.

        fanout = RedisFanout(app.config["REDIS_URL"], app.config["REDIS_PREFIX"])
        if not app.config.get("RATELIMIT_STORAGE_URI"):
            app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]  # one count across processes
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"

    # "Something changed" (editor.events): features publish, others subscribe (see below).
    events = EventBus(context=app.app_context, cleanup=lambda: services_of(app).db.remove())
    rooms = Rooms(
        store,
        SocketHooks(socketio, events, engine),
        RoomSettings(
            resync_interval=app.config["ROOM_RESYNC_SECONDS"],
            compact_every=app.config["ROOM_COMPACT_EVERY"],
            heal_interval=app.config["ROOM_HEAL_SECONDS"],
        ),
        idle_seconds=app.config["ROOM_IDLE_SECONDS"],
        fanout=fanout,
    )
    services = Services(engine=engine, db=make_session(engine), store=store, rooms=rooms, socketio=socketio,
                        events=events, texts=LiveTexts(rooms, store))
    app.extensions["constituent"] = services

    # Before the CSRF check: Werkzeug reads a multipart field whose name holds a line break as a
    # field named None, on which Flask-WTF's CSRF check fails with AttributeError (a 500).
    @app.before_request
    def _nameless_form_fields():
        if request.mimetype == "multipart/form-data" and (None in request.form or None in request.files):
            abort(400, description="A form field has no name (its name contains a line break).")

    # Numbers in URLs beyond 64 bits: no row has them, and databases refuse to compare with them.
    app.url_map.converters["int"] = _BoundedInt
    CSRFProtect(app)

    limiter.init_app(app)
    Babel(app, locale_selector=lambda: _locale(app))
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["text_lang"] = text_lang
    app.jinja_env.filters["without_notes"] = without_notes

    login_manager.init_app(app)

    app.register_blueprint(accounts_bp)

    app.register_blueprint(admin_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(import_bp)
    app.register_blueprint(comments_api_bp)
    for blueprint in (provenance_bp, provenance_api_bp, petitions_bp, survey_bp, answering_bp, questionnaires_bp,
                      stages_bp, stages_api_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(collect_bp)
    app.register_blueprint(paper_bp)

    app.register_blueprint(review_bp)

    app.register_blueprint(amendments_bp)
    app.register_blueprint(amendments_api_bp)
    app.register_blueprint(commissions_bp)
    app.register_blueprint(commissions_api_bp)  # commissions, their dictamen and its reserved articles
    app.register_blueprint(assembly_bp)  # the assembly's rules, sittings and the public view of a sitting
    app.register_blueprint(assembly_api_bp)

    app.register_blueprint(opendata_bp)
    app.register_blueprint(revision_bp)  # loading a revised draft into a document, matched unit by unit
    app.register_blueprint(revision_api_bp)
    app.register_blueprint(unit_history_bp)  # a unit's history and its revert to a version
    app.register_blueprint(unit_history_api_bp)
    app.register_blueprint(suggestions_api_bp)  # accepting and rejecting suggestions (editor.suggestions)
    app.register_blueprint(petitions_api_bp)  # importing petitions from programs

    install_search(app)  # full-text search: /search and /api/v1/search (editor.search)

    app.register_blueprint(report_bp)  # the committee's weekly report, and PDFs
    app.register_blueprint(process_bp)  # the process page, the petitions' results, the public dashboard
    app.register_blueprint(participation_bp)  # residents sign in, comment, support and report
    app.register_blueprint(moderation_bp)  # the moderators' queue and the public comments' settings
    app.register_blueprint(events_calendar_bp)  # citizen events: registration, conclusions, moderation, iCal
    app.register_blueprint(workspace_bp)  # the editor as the hub: places, saving versions, why read-only
    app.register_blueprint(notifications_bp)  # notification preferences (issue 22)
    app.register_blueprint(notifications_api_bp)

    install_outbox(app, engine)  # delivery thread: only in a process serving through a real server


    # /yjs/<slug>: raw y-protocols WebSockets on the live hub's event loop. Installed inside
    # Flask-SocketIO's middleware, which hands the application a copy of the environ.
    install_live(app, services)
    rooms.hooks.live = services.live
    socketio.init_app(app)
    app.session_interface = SocketSessionInterface()
    services.collab = CollabNamespace(NAMESPACE, services)
    socketio.on_namespace(services.collab)
    _subscribe_features(events, services)
    if fanout is not None:
        # Events whose subscribers live in every process cross on the control stream.
        events.relay = fanout.control
        fanout.on_control = events.receive
        fanout.start()

    @app.errorhandler(AkomaNtosoError)
    def _unreadable_text(exc):
        # The live text breaks the document model (e.g. a misbehaving client); say so plainly.
        app.logger.error("document structure: %s", exc)
        message = f"The live text cannot be read as a legal document: {exc}"
        if request.path.startswith("/api/"):
            return {"error": message, "status": 503}, 503
        return render_template("error.html", message=message), 503

    @app.teardown_appcontext
    def _remove_session(_exc=None):
        services.db.remove()


    install_security(app)

    install_audit(app, engine)
    if app.config["PROXIES"]:
        # Behind nginx: the audit log, rate limits and secure cookies need the client's address
        # and scheme, which only the trusted proxies' X-Forwarded-* headers carry.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    return app


def _subscribe_features(events: EventBus, services: Services) -> None:
    """Each feature's reactions to domain events (its `handlers` module): the one place where
    "when X changes, do Y" is wired."""
    for feature in (collab, stages_handlers, review_handlers, comments_handlers, provenance_handlers,
                    amendments_handlers, participation_handlers, notifications_handlers, suggestions_handlers):
        feature.subscribe(events, services)


def _locale(app: Flask) -> str:
    if not has_request_context():  # the command line (English), a room's worker: the default language
        return app.config.get("COMMAND_LINE_LANGUAGE") or app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in app.config["LANGUAGES"]:
        return chosen
    return request.accept_languages.best_match(app.config["LANGUAGES"]) or app.config["BABEL_DEFAULT_LOCALE"]


