"""Configuration: secrets, cookie settings in production, the development key (AUTH-7, AUTH-12)."""

import stat
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from app.config import ConfigError, load_config
from tests.factories import FAST_PASSWORD_HASH_METHOD, PASSWORD, create_user

PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "k" * 64,
              "DATABASE_URL": "postgresql://app@db/app",
              "BASE_URL": "https://learn.example.com/"}


def _production_cookie_settings() -> dict:
    """The cookie and session settings a production start-up produces."""
    config = load_config("/nonexistent-instance", environ=PRODUCTION)
    return {key: value for key, value in config.items()
            if key.startswith(("SESSION_", "REMEMBER_", "PERMANENT_"))}


@pytest.mark.parametrize("secret", [None, ""])
def test_production_without_a_secret_key_refuses_to_start(tmp_path, secret):
    environ = {"APP_ENV": "production"}
    if secret is not None:
        environ["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path), environ=environ)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("base_url", [None, "", "  "])
def test_production_without_a_base_url_refuses_to_start(tmp_path, base_url):
    """E-mailed links would otherwise point at 127.0.0.1, which nobody can open."""
    environ = {key: value for key, value in PRODUCTION.items() if key != "BASE_URL"}
    if base_url is not None:
        environ["BASE_URL"] = base_url
    with pytest.raises(ConfigError, match="BASE_URL must be set"):
        load_config(str(tmp_path), environ=environ)


def test_a_base_url_must_be_a_web_address(tmp_path):
    with pytest.raises(ConfigError, match="https://"):
        load_config(str(tmp_path), environ={**PRODUCTION, "BASE_URL": "learn.example.com"})


def test_the_base_url_is_used_without_its_trailing_slash(tmp_path):
    assert load_config(str(tmp_path), environ=PRODUCTION)["BASE_URL"] == (
        "https://learn.example.com")
    development = load_config(str(tmp_path), environ={"PORT": "8000"})
    assert development["BASE_URL"] == "http://127.0.0.1:8000"


def test_production_cookies_are_secure_httponly_and_lax(tmp_path):
    config = load_config(str(tmp_path), environ=PRODUCTION)
    assert config["SECRET_KEY"] == "k" * 64
    for prefix in ("SESSION_COOKIE_", "REMEMBER_COOKIE_"):
        assert config[prefix + "SECURE"] is True, prefix
        assert config[prefix + "HTTPONLY"] is True, prefix
        assert config[prefix + "SAMESITE"] == "Lax", prefix
    assert config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    assert config["PERMANENT_SESSION_LIFETIME"] <= timedelta(days=1)
    assert config["SESSION_PROTECTION"] == "strong"
    assert config["WTF_CSRF_TIME_LIMIT"] is None
    assert not (tmp_path / "secret_key").exists()


def test_development_cookies_work_over_plain_http(tmp_path):
    config = load_config(str(tmp_path), environ={})
    assert config["APP_ENV"] == "development"
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["REMEMBER_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_SAMESITE"] == config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_the_development_key_is_generated_once_and_kept(tmp_path):
    instance = tmp_path / "instance"
    first = load_config(str(instance), environ={})["SECRET_KEY"]
    assert len(first) >= 64
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_config(str(instance), environ={})["SECRET_KEY"] == first
    assert load_config(str(tmp_path / "elsewhere"), environ={})["SECRET_KEY"] != first
    assert [p.name for p in instance.iterdir()] == ["secret_key"]


def test_a_key_created_by_another_process_meanwhile_is_used(tmp_path, monkeypatch):
    (tmp_path / "secret_key").write_text("the other process's key\n")
    # The other process writes its file after this one looked for it.
    monkeypatch.setattr(Path, "exists", lambda self: False)
    assert load_config(str(tmp_path), environ={})["SECRET_KEY"] == "the other process's key"
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_an_explicit_secret_key_wins_in_development(tmp_path):
    config = load_config(str(tmp_path), environ={"SECRET_KEY": "given"})
    assert config["SECRET_KEY"] == "given"
    assert not (tmp_path / "secret_key").exists()


def test_passwords_are_hashed_with_full_strength_scrypt_unless_a_test_says_otherwise(tmp_path):
    for environ in ({}, PRODUCTION):
        method = load_config(str(tmp_path), environ=environ)["PASSWORD_HASH_METHOD"]
        assert method == "scrypt"
        # Werkzeug's default cost, which the production hashes must keep.
        assert generate_password_hash("x", method=method).startswith("scrypt:32768:8:1$")
    cheap = {"PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH_METHOD}
    assert load_config(str(tmp_path), environ=cheap)["PASSWORD_HASH_METHOD"] == (
        FAST_PASSWORD_HASH_METHOD)
    with pytest.raises(ConfigError, match="PASSWORD_HASH_METHOD"):
        load_config(str(tmp_path), environ={**PRODUCTION, **cheap})


def test_environment_values_are_read(tmp_path):
    config = load_config(str(tmp_path), environ={
        "BASE_URL": "https://learn.example.org/", "MAIL_SERVER": "smtp.example.org",
        "MAIL_PORT": "2525", "MAIL_USE_TLS": "yes", "SECURE_COOKIES": "1",
        "LOGIN_RATE_LIMIT": "5 per minute"})
    assert config["BASE_URL"] == "https://learn.example.org"
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_TLS"]) == \
        ("smtp.example.org", 2525, True)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["LOGIN_RATE_LIMIT"] == "5 per minute"


class TestProductionCookies:
    """The production settings, as the browser sees them in Set-Cookie."""

    @pytest.fixture
    def config_overrides(self):
        return _production_cookie_settings()

    def test_sign_in_sets_hardened_cookies(self, app, db, client):
        with db() as session:
            user = create_user(session)
        https = {"base_url": "https://localhost"}
        page = client.get("/login", **https).get_data(as_text=True)
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        response = client.post("/login", data={
            "csrf_token": token, "email": user.email, "password": PASSWORD, "remember": "y"},
            headers={"Referer": "https://localhost/login"}, **https)
        assert response.status_code == 302
        cookies = {header.split("=", 1)[0]: header
                   for header in response.headers.getlist("Set-Cookie")}
        assert set(cookies) == {"cc_session", "cc_remember"}
        for name, header in cookies.items():
            attributes = [part.strip().lower() for part in header.split(";")]
            assert "secure" in attributes, name
            assert "httponly" in attributes, name
            assert "samesite=lax" in attributes, name
        expires = next(part.split("=", 1)[1] for part in cookies["cc_remember"].split("; ")
                       if part.lower().startswith("expires="))
        lifetime = parsedate_to_datetime(expires) - datetime.now(UTC)
        assert timedelta(days=1) < lifetime <= timedelta(days=30)
