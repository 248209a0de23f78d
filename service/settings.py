"""Settings, read once from ACCORD_* environment variables, with defaults that work on a laptop."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_AGENCIES = ("council", "health", "police", "education", "lscb")
VAR_DIR = Path("var")


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{VAR_DIR / 'accord.db'}"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    agencies: tuple[str, ...] = DEFAULT_AGENCIES
    timezone: str = "Europe/London"
    max_body_bytes: int = 64 * 1024
    import_max_bytes: int = 10 * 1024 * 1024  # POST /api/v1/plans/import alone: a plan file, not JSON.
    load_demo: bool = True
    queue: str = "accord-projections"
    wait_seconds: float = 2.0
    stall_seconds: float = 120.0
    catch_up_seconds: float = 10.0
    build_processes: int = 0  # Processes a rebuild or verify may build a view in at once; 0: one a core.
    rate_limit: str = "600/minute"  # Per bearer token (flask-limiter syntax; `off` for none).
    idempotency_hours: float = 24.0  # How long an Idempotency-Key's first response is kept for replay.
    token_seconds: float = 5.0  # How long a process trusts a token it checked: the bound on revocation's delay.
    cipher_key: str | None = None
    smtp_url: str | None = None  # Without it, emails are written to outbox_dir as .eml files.
    mail_from: str = "Accord <accord@localhost>"
    base_url: str | None = None  # Where people reach the pages: invitation and email links (default http://host:port).
    remind_days: int = 5  # Working days before the next meeting's updates_due that reminders go.
    remind_at: str = "07:00"  # Local time (timezone) from which the workers' daily run sends.
    outbox_dir: Path = VAR_DIR / "outbox"
    secret_key: str | None = None  # Signs session cookies; without it, one is generated once into var/.
    secure_cookies: bool | None = None  # Session cookies only over HTTPS; default: when base_url is https.
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        agencies = env.get("ACCORD_AGENCIES")
        return cls(
            database_url=env.get("ACCORD_DATABASE_URL") or defaults.database_url,
            redis_url=env.get("ACCORD_REDIS_URL") or None,
            host=env.get("ACCORD_HOST") or defaults.host,
            port=int(env.get("ACCORD_PORT") or defaults.port),
            agencies=tuple(a.strip() for a in agencies.split(",") if a.strip()) if agencies else defaults.agencies,
            timezone=env.get("ACCORD_TIMEZONE") or defaults.timezone,
            max_body_bytes=int(env.get("ACCORD_MAX_BODY_BYTES") or defaults.max_body_bytes),
            import_max_bytes=int(env.get("ACCORD_IMPORT_MAX_BYTES") or defaults.import_max_bytes),
            load_demo=(env.get("ACCORD_DEMO") or "yes").lower() not in ("0", "no", "false", "off"),
            queue=env.get("ACCORD_QUEUE") or defaults.queue,
            wait_seconds=float(env.get("ACCORD_WAIT_SECONDS") or defaults.wait_seconds),
            stall_seconds=float(env.get("ACCORD_STALL_SECONDS") or defaults.stall_seconds),
            catch_up_seconds=float(env.get("ACCORD_CATCH_UP_SECONDS") or defaults.catch_up_seconds),
            build_processes=int(env.get("ACCORD_BUILD_PROCESSES") or defaults.build_processes),
            cipher_key=env.get("ACCORD_CIPHER_KEY") or None,
            rate_limit=env.get("ACCORD_RATE_LIMIT") or defaults.rate_limit,
            idempotency_hours=float(env.get("ACCORD_IDEMPOTENCY_HOURS") or defaults.idempotency_hours),
            smtp_url=env.get("ACCORD_SMTP_URL") or None,
            mail_from=env.get("ACCORD_MAIL_FROM") or defaults.mail_from,
            base_url=env.get("ACCORD_BASE_URL") or None,
            remind_days=int(env.get("ACCORD_REMIND_DAYS") or defaults.remind_days),
            remind_at=env.get("ACCORD_REMIND_AT") or defaults.remind_at,
            outbox_dir=Path(env.get("ACCORD_OUTBOX_DIR") or defaults.outbox_dir),
            secret_key=env.get("ACCORD_SECRET_KEY") or None,
            secure_cookies=(
                env["ACCORD_SECURE_COOKIES"].lower() in ("1", "yes", "true", "on")
                if env.get("ACCORD_SECURE_COOKIES")
                else None
            ),
            token_seconds=float(env.get("ACCORD_TOKEN_SECONDS") or defaults.token_seconds),
        )

    @property
    def pages_url(self) -> str:
        """The pages' address, without a trailing slash: ACCORD_BASE_URL, else http://ACCORD_HOST:ACCORD_PORT."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def cookies_secure(self) -> bool:
        return self.secure_cookies if self.secure_cookies is not None else self.pages_url.startswith("https://")

    def session_secret(self) -> str:
        """ACCORD_SECRET_KEY, else a key generated once into var/secret-key (mode 600) and kept for restarts."""
        if self.secret_key:
            return self.secret_key
        path = VAR_DIR / "secret-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = path.with_name(f".secret-key.{os.getpid()}.tmp")
            fresh.write_text(secrets.token_urlsafe(48))
            fresh.chmod(0o600)
            try:
                os.link(fresh, path)  # Atomic, and never replaces a key another process made first.
            except FileExistsError:
                pass
            finally:
                fresh.unlink()
        return path.read_text().strip()

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    def eventsourcing_env(self, name: str | None = None) -> dict[str, str]:
        """The eventsourcing library's settings for the event store, or for the projection `name`."""
        store = {} if name else self.event_store_env()
        if self.is_postgres:
            return {**postgres_env(self.database_url), **store, **self.extra_env}
        path = sqlite_path(self.database_url)
        if name:
            path = path.with_name(f"{path.stem}.{name}{path.suffix}")
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path), **store, **self.extra_env}

    def event_store_env(self) -> dict[str, str]:
        backend = "Postgres" if self.is_postgres else "SQLite"
        env = {
            # The recorder also writes each event's hash-chain entry (adapters/recorders.py).
            "APPLICATION_RECORDER_TOPIC": f"adapters.recorders:Chained{backend}ApplicationRecorder",
            # Recently used aggregates stay in memory; each load still fast-forwards from the store.
            "AGGREGATE_CACHE_MAXSIZE": "1000",
        }
        if self.cipher_key:  # Event payloads encrypted at rest (AES-GCM), by the library's own cipher.
            env |= {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": self.cipher_key}
        return env


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        scheme = url.split(":", maxsplit=1)[0]
        raise ValueError(f"ACCORD_DATABASE_URL must start with sqlite:/// or postgresql://, not {scheme}")
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "accord",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_CONNECT_TIMEOUT": "5",
    }
    if "schema" in query:
        env["POSTGRES_SCHEMA"] = query["schema"][0]
    return env
