"""Configuration: safe defaults, overridden by the environment at start-up."""

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

TRUTHY = {"1", "true", "yes", "on"}
#: Werkzeug's default: scrypt at N=32768, r=8, p=1 (about a tenth of a second a hash).
PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method name, not a secret)


def _flag(value: str | None, default: bool) -> bool:
    """Read a boolean environment value."""
    if value is None or value == "":
        return default
    return value.strip().lower() in TRUTHY


def _dev_secret_key(instance_path: Path) -> str:
    """Return the development secret key, generating and keeping it on first use.

    The key is written to a private temporary file and linked into place, so processes
    starting together agree on one key and none reads a half-written file.
    """
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=instance_path, prefix=".secret_key-")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            os.link(temp, key_file)
        except FileExistsError:
            pass  # another process got there first: use its key
        finally:
            os.unlink(temp)
    return key_file.read_text().strip()


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


def load_config(instance_path: str, environ: dict | None = None) -> dict:
    """Build the configuration mapping from defaults and the environment."""
    env = os.environ if environ is None else environ
    instance = Path(instance_path)
    app_env = env.get("APP_ENV", "development").strip().lower()
    production = app_env == "production"

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError(
                "SECRET_KEY must be set when APP_ENV=production "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        secret_key = _dev_secret_key(instance)

    base_url = (env.get("BASE_URL") or "").strip().rstrip("/")
    if production and not base_url:
        raise ConfigError(
            "BASE_URL must be set when APP_ENV=production: it is the public address that "
            "e-mailed links (invitations, password resets, release notices) point to, "
            "for example BASE_URL=https://learn.example.com."
        )
    if base_url and not base_url.startswith(("https://", "http://")):
        raise ConfigError(f"BASE_URL must start with https:// or http:// (got {base_url!r}).")

    # A cheaper method makes test and demo servers fast; production never weakens it.
    password_hash_method = env.get("PASSWORD_HASH_METHOD") or PASSWORD_HASH_METHOD
    if production and password_hash_method != PASSWORD_HASH_METHOD:
        raise ConfigError(
            "PASSWORD_HASH_METHOD is for tests and local demos: leave it unset when "
            "APP_ENV=production, so passwords are stored with full-strength scrypt."
        )

    default_db = f"sqlite:///{instance / 'cohort-commons.db'}"
    host = env.get("HOST", "127.0.0.1")
    port = int(env.get("PORT", "5000"))
    mail_port = int(env.get("MAIL_PORT", "25"))
    secure_cookies = _flag(env.get("SECURE_COOKIES"), production)

    return {
        "APP_ENV": app_env,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": env.get("DATABASE_URL") or default_db,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "HOST": host,
        "PORT": port,
        "BASE_URL": base_url or f"http://{host}:{port}",
        "SCHEDULER_ENABLED": _flag(env.get("SCHEDULER_ENABLED"), True),
        # How long `flask scheduler run` lets a running job finish after SIGTERM or SIGINT.
        "SCHEDULER_STOP_TIMEOUT": float(env.get("SCHEDULER_STOP_TIMEOUT") or 30),
        # Mail: without MAIL_SERVER the outbox is written to the log instead of sent.
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": mail_port,
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag(env.get("MAIL_USE_TLS"), False),
        "MAIL_FROM": env.get("MAIL_FROM", "Cohort Commons <no-reply@cohort-commons.local>"),
        # Whom people write to about their account (named when a disabled account signs in).
        "SUPPORT_EMAIL": (env.get("SUPPORT_EMAIL") or "").strip(),
        # Sessions and cookies.
        "SESSION_COOKIE_NAME": "cc_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "REMEMBER_COOKIE_NAME": "cc_remember",
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "SESSION_PROTECTION": "strong",
        # CSRF tokens live as long as the session, so a long reflection is never lost to expiry.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI")
        or (env.get("REDIS_URL") or "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        # Per feed address: calendar apps poll every few minutes to every day.
        "CALENDAR_RATE_LIMIT": env.get("CALENDAR_RATE_LIMIT", "30 per minute;300 per day"),
        # Per person: posts and edits (pages and API together).
        "POSTING_RATE_LIMIT": env.get("POSTING_RATE_LIMIT", "20 per minute;300 per day"),
        # Per person: reports of posts (a flood of flags would hide a cohort's posts).
        "FLAG_RATE_LIMIT": env.get("FLAG_RATE_LIMIT", "20 per hour"),
        # Learners' attachments, outside static/: served only to those allowed, as downloads.
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(instance / "uploads"),
        "INVITE_TTL": timedelta(days=14),
        "PASSWORD_RESET_TTL": timedelta(hours=2),
        "API_TOKEN_TTL": timedelta(days=365),
        "PASSWORD_HASH_METHOD": password_hash_method,
        # Emit live events from a background task after commit; tests emit inline.
        "REALTIME_EMIT_INLINE": False,
        "TESTING": False,
    }
