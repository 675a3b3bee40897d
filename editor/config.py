"""Configuration: one object, read from the environment, overridable by the caller of create_app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULT_INSTANCE = Path.cwd() / "instance"


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load(overrides: dict | None = None) -> dict:
    overrides = dict(overrides or {})
    instance = Path(overrides.get("INSTANCE_PATH") or os.environ.get("CONSTITUENT_INSTANCE") or DEFAULT_INSTANCE)
    database = (
        overrides.get("DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance / 'constituent.sqlite3'}"
    )
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Reverse proxies in front (nginx: 1): client addresses and https come from X-Forwarded-*.
        "PROXIES": int(os.environ.get("CONSTITUENT_PROXIES", 0)),
        # Redis keys of this deployment (several deployments may share one Redis).
        "REDIS_PREFIX": os.environ.get("CONSTITUENT_REDIS_PREFIX", "constituent"),
        # With Redis: seconds between safety heals of each open document against the store
        # (missed fan-out messages are otherwise detected and healed at once; 0: never).
        "ROOM_HEAL_SECONDS": float(os.environ.get("CONSTITUENT_ROOM_HEAL_SECONDS", 300)),
        # Cookies: HttpOnly and SameSite always; Secure unless explicitly serving plain HTTP (demo).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("CONSTITUENT_INSECURE_COOKIES") != "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # The audit chain's HMAC key (editor.audit). Unset: derived from SECRET_KEY, so rotating
        # SECRET_KEY would leave the earlier rows unverifiable: set it in production, and keep it.
        "AUDIT_KEY": os.environ.get("CONSTITUENT_AUDIT_KEY", ""),
        # Rows up to this id may predate the key (plain SHA-256): a deployment upgraded from before
        # the keyed chain names its last such row, which `constituent audit verify` reports.
        "AUDIT_UNKEYED_UNTIL": int(os.environ.get("CONSTITUENT_AUDIT_UNKEYED_UNTIL") or 0),
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # A form field (text pasted into the import page) may be as large as an upload; Flask's
        # default, 500 KB, answered a bare 413 to a long law pasted rather than uploaded.
        "MAX_FORM_MEMORY_SIZE": 16 * 1024 * 1024,
        # Largest y-protocols message accepted on the socket (a full-document sync step 2 fits).
        "MAX_Y_MESSAGE_BYTES": int(os.environ.get("CONSTITUENT_MAX_Y_MESSAGE_BYTES", 8 * 1024 * 1024)),
        # Unsent bytes a live (/yjs) receiver may fall behind by before it is dropped (it reconnects
        # and resyncs); a whole-document sync must fit.
        "LIVE_SEND_BUFFER": int(os.environ.get("CONSTITUENT_LIVE_SEND_BUFFER", 8 * 1024 * 1024)),
        # The demo's synthetic survey (`constituent demo`): how many answers.
        "DEMO_RESPONDENTS": int(os.environ.get("CONSTITUENT_DEMO_RESPONDENTS", 26_000)),
        # Migrations at start: "1" upgrade, "0" refuse an old schema; unset: upgrade SQLite only.
        "DB_AUTO_UPGRADE": os.environ.get("CONSTITUENT_DB_AUTO_UPGRADE", ""),
        "ROOM_IDLE_SECONDS": float(os.environ.get("CONSTITUENT_ROOM_IDLE_SECONDS", 120)),
        "ROOM_RESYNC_SECONDS": float(os.environ.get("CONSTITUENT_ROOM_RESYNC_SECONDS", 30)),
        "ROOM_COMPACT_EVERY": int(os.environ.get("CONSTITUENT_ROOM_COMPACT_EVERY", 1000)),
        # Public page cache (editor.cache): bytes per process, and where renders read the text
        # (auto: the store when REDIS_URL is set, else the rooms; or "store", "room").
        "PAGE_CACHE_BYTES": int(os.environ.get("CONSTITUENT_PAGE_CACHE_BYTES", 64 * 1024 * 1024)),
        "PAGE_CACHE_READ": os.environ.get("CONSTITUENT_PAGE_CACHE_READ", "auto"),
        # Country (and locality) of the works this instance drafts, for FRBR URIs: /akn/mx-cmx/…
        "AKN_PLACE": os.environ.get("CONSTITUENT_AKN_PLACE", "mx-cmx"),
        "BABEL_DEFAULT_LOCALE": "es",
        "LANGUAGES": ["es", "en"],
        "WTF_CSRF_TIME_LIMIT": None,
        # Flask-Limiter: counters in memory for one process; a redis:// URL shares them.
        # (create_app uses REDIS_URL when it is set and this is not.)
        "RATELIMIT_STORAGE_URI": os.environ.get("CONSTITUENT_RATELIMIT_STORAGE") or None,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Counts in Redis: if it is away, count in memory meanwhile rather than fail requests.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Explicit: the limiter is one object for every app in a process, and init_app keeps its last state.
        "RATELIMIT_ENABLED": True,
        # Failed sign-ins per client address (on top of the lock per email after 5 failures in a row).
        "LOGIN_RATE_LIMIT": os.environ.get("CONSTITUENT_LOGIN_RATE_LIMIT", "20 per minute;200 per hour"),
        # Socket messages per connection: sustained rate per second and burst (then refused, and told).
        "SOCKET_RATE": float(os.environ.get("CONSTITUENT_SOCKET_RATE", 200)),
        "SOCKET_BURST": int(os.environ.get("CONSTITUENT_SOCKET_BURST", 2000)),
        # PDF renders per client address (cached copies do not count).
        "EXPORT_RATE_LIMIT": os.environ.get("CONSTITUENT_EXPORT_RATE_LIMIT", "20 per minute;200 per hour"),
        # Searches per client address (each one reads the index, and may reindex a changed text).
        "SEARCH_RATE_LIMIT": os.environ.get("CONSTITUENT_SEARCH_RATE_LIMIT", "60 per minute;600 per hour"),
        # Attempts at a survey receipt code per client address (wrong codes are guesses).
        "RECEIPT_RATE_LIMIT": os.environ.get("CONSTITUENT_RECEIPT_RATE_LIMIT", "10 per minute;60 per hour"),
        # Questionnaires sent from the web page per client address: a person answers once; a school
        # or library sharing an address still gets through; a script sending thousands does not.
        "SURVEY_SUBMIT_RATE_LIMIT": os.environ.get("CONSTITUENT_SURVEY_SUBMIT_RATE_LIMIT",
                                                   "6 per minute;60 per hour;300 per day"),
        # How long a kiosk started by staff takes answers before someone must start it again.
        "KIOSK_HOURS": float(os.environ.get("CONSTITUENT_KIOSK_HOURS", "12")),
        # --- petitioner review (editor.review) and the outbox (editor.outbox) ---
        # Days a petitioner's review link works (0: until revoked); requests to review pages per address.
        "REVIEW_LINK_DAYS": int(os.environ.get("CONSTITUENT_REVIEW_LINK_DAYS", 60)),
        "REVIEW_RATE_LIMIT": os.environ.get("CONSTITUENT_REVIEW_RATE_LIMIT", "60 per minute;600 per hour"),
        # --- the public's participation (editor.participation) ---
        # Sign-in e-mails asked for, per client address and per e-mail address (each sends a message).
        "PARTICIPANT_SIGN_IN_RATE_LIMIT": os.environ.get("CONSTITUENT_PARTICIPANT_SIGN_IN_RATE_LIMIT",
                                                         "5 per minute;30 per hour"),
        "PARTICIPANT_EMAIL_RATE_LIMIT": os.environ.get("CONSTITUENT_PARTICIPANT_EMAIL_RATE_LIMIT",
                                                       "3 per 10 minutes;10 per day"),
        # Sign-in codes typed per client address (wrong ones are guesses), and minutes a code or link works.
        "PARTICIPANT_CODE_RATE_LIMIT": os.environ.get("CONSTITUENT_PARTICIPANT_CODE_RATE_LIMIT",
                                                      "10 per minute;60 per hour"),
        "PARTICIPANT_CODE_MINUTES": float(os.environ.get("CONSTITUENT_PARTICIPANT_CODE_MINUTES", 30)),
        # Public comments and replies per participant, and per client address (a library or a
        # school shares one address: the second limit is the looser one).
        "PUBLIC_COMMENT_RATE_LIMIT": os.environ.get("CONSTITUENT_PUBLIC_COMMENT_RATE_LIMIT",
                                                    "5 per minute;30 per hour"),
        "PUBLIC_COMMENT_ADDRESS_RATE_LIMIT": os.environ.get("CONSTITUENT_PUBLIC_COMMENT_ADDRESS_RATE_LIMIT",
                                                            "20 per minute;120 per hour"),
        # Supports given or withdrawn per participant, and reports of comments per client address.
        "PUBLIC_SUPPORT_RATE_LIMIT": os.environ.get("CONSTITUENT_PUBLIC_SUPPORT_RATE_LIMIT",
                                                    "30 per minute;300 per hour"),
        "PUBLIC_REPORT_RATE_LIMIT": os.environ.get("CONSTITUENT_PUBLIC_REPORT_RATE_LIMIT",
                                                   "10 per minute;50 per hour"),
        # Citizen events on the public calendar (editor.participation.calendar): registrations and
        # conclusions per participant; files per conclusions and bytes per file (PDF, JPEG, PNG, WebP),
        # kept under the instance folder; the time zone in which organisers give, and readers see, times.
        "EVENT_REGISTER_RATE_LIMIT": os.environ.get("CONSTITUENT_EVENT_REGISTER_RATE_LIMIT", "5 per hour;20 per day"),
        "EVENT_CONCLUSIONS_RATE_LIMIT": os.environ.get("CONSTITUENT_EVENT_CONCLUSIONS_RATE_LIMIT",
                                                       "10 per hour;30 per day"),
        "EVENT_FILES_MAX": int(os.environ.get("CONSTITUENT_EVENT_FILES_MAX", 5)),
        "EVENT_FILE_MAX_BYTES": int(os.environ.get("CONSTITUENT_EVENT_FILE_MAX_BYTES", 10 * 1024 * 1024)),
        "EVENT_FILES_FOLDER": os.environ.get("CONSTITUENT_EVENT_FILES_FOLDER", ""),  # "": <instance>/event_files
        "EVENTS_TIMEZONE": os.environ.get("CONSTITUENT_EVENTS_TIMEZONE", "America/Mexico_City"),
        # Followers of a document or clause (editor.participation.follows) get at most one e-mail per
        # document per this many minutes: changes within it are gathered into the message waiting to go.
        "FOLLOW_DIGEST_MINUTES": float(os.environ.get("CONSTITUENT_FOLLOW_DIGEST_MINUTES", 60)),
        # The site's public address for messages (e.g. https://constituyente.example.org); optional.
        "PUBLIC_URL": os.environ.get("CONSTITUENT_PUBLIC_URL", ""),
        # Email: SMTP when SMTP_HOST is set, else OUTBOX_EMAIL_BACKEND: file (instance/outbox/*.eml) or console.
        "OUTBOX_EMAIL_BACKEND": os.environ.get("CONSTITUENT_EMAIL_BACKEND", ""),
        "SMTP_HOST": os.environ.get("CONSTITUENT_SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("CONSTITUENT_SMTP_PORT") or 0),  # 0: 587 with STARTTLS, else 25
        "SMTP_USER": os.environ.get("CONSTITUENT_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("CONSTITUENT_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": os.environ.get("CONSTITUENT_SMTP_STARTTLS") == "1",
        "MAIL_FROM": os.environ.get("CONSTITUENT_MAIL_FROM", "Constituent <no-reply@localhost>"),
        # Signed webhook for review events: POST JSON, X-Constituent-Signature = HMAC-SHA256 under the secret.
        "OUTBOX_WEBHOOK_URL": os.environ.get("CONSTITUENT_WEBHOOK_URL", ""),
        "OUTBOX_WEBHOOK_SECRET": os.environ.get("CONSTITUENT_WEBHOOK_SECRET", ""),
        # Background delivery in the serving process: auto (when served by a real server), 1 or 0.
        "OUTBOX_WORKER": os.environ.get("CONSTITUENT_OUTBOX_WORKER", "auto"),
        "OUTBOX_POLL_SECONDS": float(os.environ.get("CONSTITUENT_OUTBOX_POLL_SECONDS", 5)),
        "OUTBOX_RETRY_SECONDS": float(os.environ.get("CONSTITUENT_OUTBOX_RETRY_SECONDS", 30)),
        "OUTBOX_RETRY_MAX_SECONDS": float(os.environ.get("CONSTITUENT_OUTBOX_RETRY_MAX_SECONDS", 3600)),
    }
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(Path(config["INSTANCE_PATH"]))
    return config
