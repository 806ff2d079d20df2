"""Configuration: the only code that reads the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

BACKENDS = ("console", "file", "smtp", "twilio")
SMS_BACKENDS = ("console", "file", "twilio")
EMAIL_BACKENDS = ("console", "file", "smtp")
#: Group robots (WeCom, DingTalk): their real webhooks, or the development backends.
ROBOT_BACKENDS = ("webhook", "console", "file")
#: Where ledger import jobs run: a thread of the web process started at upload ("thread"), the
#: request's own thread after its commit ("inline", for tests), or only the scheduler ("scheduler").
IMPORT_RUNNERS = ("process", "thread", "inline", "scheduler")
#: Where ledger export jobs run: a child process started when the request commits ("process"),
#: the request's own thread after its commit ("inline", for tests), or only the scheduler
#: ("scheduler"). Never a thread of the web process: writing 100k rows is seconds of CPU.
EXPORT_RUNNERS = ("process", "inline", "scheduler")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: Where `make run` and `flask run` serve by default: the address of links made outside a request
#: (the scheduler, the CLI) in development when BASE_URL is not set.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
#: Used when no SECRET_KEY is configured outside production; one per process start.
_RUNTIME_SECRET = secrets.token_hex(32)
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


class ConfigError(RuntimeError):
    """The environment does not describe a usable configuration."""


@dataclass(frozen=True)
class Config:
    """Settings of one application instance, validated when built."""

    env: str = "development"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'calrecall.sqlite3'}"
    #: The scheduler's and the CLI's database (on PostgreSQL, as the jobs role); empty: DATABASE_URL.
    jobs_database_url: str = ""
    #: ``flask db upgrade``'s database (on PostgreSQL, as the role owning the tables); empty: DATABASE_URL.
    migrations_database_url: str = ""
    #: Empty means "generate one per start" outside production (sessions end at restart).
    secret_key: str = ""
    sms_backend: str = "console"
    email_backend: str = "console"
    robot_backend: str = "webhook"
    notify_file: str = str(INSTANCE_DIR / "notifications.jsonl")
    #: Where record attachments are kept, by content hash; outside anything the web server serves.
    attachments_dir: str = str(INSTANCE_DIR / "attachments")
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    smtp_url: str = ""
    mail_from: str = "计量台账 <noreply@calrecall.local>"
    #: The public address of the site, used in links, e-mails and QR codes. Required in production;
    #: in development, empty means "the address the request came to" (jobs use DEVELOPMENT_BASE_URL).
    base_url: str = ""
    default_locale: str = "zh_Hans_CN"
    default_timezone: str = "Asia/Shanghai"
    csrf_enabled: bool = True
    #: Failed sign-ins of one account from one address before each further attempt must pause
    #: (1 s, 2 s, 4 s … up to the longest pause); failures from one address, whatever the account,
    #: within the window before that address is refused for the window.
    sign_in_attempts_before_pause: int = 5
    longest_sign_in_pause_minutes: int = 15
    max_failed_sign_ins_per_address: int = 20
    sign_in_window_minutes: int = 15
    password_reset_hours: int = 2
    invitation_days: int = 7
    #: How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: none).
    #: Behind a proxy it must be set, or every visitor shares the proxy's address for throttling.
    trusted_proxies: int = 0
    #: A signed-in session ends after this many hours without a request.
    session_hours: int = 8
    import_runner: str = "process"
    export_runner: str = "process"
    #: Messages a dispatcher may have handed to providers whose outcome is not yet recorded: the
    #: most that a dispatcher killed mid-send can send twice (see ``service.reminders.dispatch``).
    dispatch_in_flight: int = 10
    #: ``json`` (one object a line, production's default) or ``text`` (development's default).
    log_format: str = ""
    log_level: str = "INFO"
    #: Addresses (or networks, e.g. ``10.0.0.0/8``) that may read ``/metrics`` without a token.
    metrics_allowed_ips: str = "127.0.0.1,::1"
    #: A bearer token that opens ``/metrics`` from anywhere; empty: addresses only.
    metrics_token: str = ""

    def __post_init__(self) -> None:
        for name, allowed in (
            ("sms_backend", SMS_BACKENDS),
            ("email_backend", EMAIL_BACKENDS),
            ("robot_backend", ROBOT_BACKENDS),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name.upper()} must be one of {', '.join(allowed)}")
        if self.sms_backend == "twilio" and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_from
        ):
            raise ConfigError(
                "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM"
            )
        if self.is_production and len(self.secret_key) < 16:
            raise ConfigError("SECRET_KEY must be set (16 characters or more) in production")
        if self.is_production and not self.base_url:
            raise ConfigError(
                "BASE_URL must be set in production: the site's public address (e.g. https://jl.example.cn),"
                " used in links, e-mails and QR codes"
            )
        if self.import_runner not in IMPORT_RUNNERS:
            raise ConfigError(f"IMPORT_RUNNER must be one of {', '.join(IMPORT_RUNNERS)}")
        if self.export_runner not in EXPORT_RUNNERS:
            raise ConfigError(f"EXPORT_RUNNER must be one of {', '.join(EXPORT_RUNNERS)}")
        if self.session_hours <= 0:
            raise ConfigError("SESSION_HOURS must be positive")
        if self.dispatch_in_flight < 1:
            raise ConfigError("DISPATCH_IN_FLIGHT must be at least 1")
        if self.email_backend == "smtp" and not self.smtp_url:
            raise ConfigError("EMAIL_BACKEND=smtp needs SMTP_URL")
        if not self.log_format:
            object.__setattr__(self, "log_format", "json" if self.is_production else "text")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        object.__setattr__(self, "log_level", self.log_level.upper())
        try:
            self.metrics_networks  # noqa: B018 (validates the list)
        except ValueError as exc:
            raise ConfigError(f"METRICS_ALLOWED_IPS: {exc}") from exc

    @property
    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """Return the networks METRICS_ALLOWED_IPS names (a bare address is a network of one)."""
        parts = (part.strip() for part in self.metrics_allowed_ips.split(","))
        return tuple(ip_network(part, strict=False) for part in parts if part)

    @property
    def fixed_base_url(self) -> str:
        """Return the address for links made outside a request (jobs, the CLI): BASE_URL, else the dev one."""
        return self.base_url or DEVELOPMENT_BASE_URL

    @property
    def jobs_url(self) -> str:
        """Return the database URL of the scheduler and the CLI."""
        return self.jobs_database_url or self.database_url

    @property
    def migrations_url(self) -> str:
        """Return the database URL that migrations run on."""
        return self.migrations_database_url or self.database_url

    @property
    def is_production(self) -> bool:
        """Whether this is a production deployment (secure cookies, required secret)."""
        return self.env == "production"

    @classmethod
    def from_env(cls, **overrides) -> Config:
        """Build the configuration from environment variables, then apply ``overrides``."""
        env = os.environ
        values: dict = {}
        mapping = {
            "APP_ENV": "env",
            "DATABASE_URL": "database_url",
            "JOBS_DATABASE_URL": "jobs_database_url",
            "MIGRATIONS_DATABASE_URL": "migrations_database_url",
            "SECRET_KEY": "secret_key",
            "SMS_BACKEND": "sms_backend",
            "EMAIL_BACKEND": "email_backend",
            "ROBOT_BACKEND": "robot_backend",
            "NOTIFY_FILE": "notify_file",
            "ATTACHMENTS_DIR": "attachments_dir",
            "TWILIO_ACCOUNT_SID": "twilio_account_sid",
            "TWILIO_AUTH_TOKEN": "twilio_auth_token",
            "TWILIO_FROM": "twilio_from",
            "SMTP_URL": "smtp_url",
            "MAIL_FROM": "mail_from",
            "BASE_URL": "base_url",
            "IMPORT_RUNNER": "import_runner",
            "EXPORT_RUNNER": "export_runner",
            "LOG_FORMAT": "log_format",
            "LOG_LEVEL": "log_level",
            "METRICS_ALLOWED_IPS": "metrics_allowed_ips",
            "METRICS_TOKEN": "metrics_token",
        }
        for var, name in mapping.items():
            if env.get(var):
                values[name] = env[var]
        for var, name in (
            ("TRUSTED_PROXIES", "trusted_proxies"),
            ("SESSION_HOURS", "session_hours"),
            ("DISPATCH_IN_FLIGHT", "dispatch_in_flight"),
        ):
            if env.get(var):
                try:
                    values[name] = int(env[var])
                except ValueError as exc:
                    raise ConfigError(f"{var} must be a whole number") from exc
        values.update(overrides)
        return cls(**values)

    def flask_settings(self) -> dict:
        """Return the Flask and extension settings derived from this configuration."""
        secure = self.is_production
        return {
            "SECRET_KEY": self.secret_key or _RUNTIME_SECRET,
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=self.session_hours),
            "SESSION_REFRESH_EACH_REQUEST": True,
            "SESSION_COOKIE_SECURE": secure,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": secure,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "WTF_CSRF_ENABLED": self.csrf_enabled,
            "WTF_CSRF_TIME_LIMIT": None,
            "BABEL_DEFAULT_LOCALE": self.default_locale,
            "BABEL_DEFAULT_TIMEZONE": self.default_timezone,
            "BOOTSTRAP_SERVE_LOCAL": True,
            # A 20 MB ledger file (the import's limit) and the form around it.
            "MAX_CONTENT_LENGTH": 21 * 1024 * 1024,
            "CALRECALL": self,
        }

    def as_dict(self) -> dict:
        """Return the settings with secrets masked, for diagnostics."""
        data = asdict(self)
        for key in ("secret_key", "twilio_auth_token", "smtp_url", "metrics_token"):
            if data[key]:
                data[key] = "***"
        return data
