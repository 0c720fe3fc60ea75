"""One typed settings object: environment, then `jaju.toml`, then defaults."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from jaju.errors import ConfigError

DEFAULT_DATA_DIR = Path.home() / ".jaju"
JURISDICTION_CODES = ("KR", "EU", "SA", "US", "JP", "UK")


class EngineSettings(BaseModel):
    """The embedded llama.cpp engine."""

    default_model: str = "qwen2.5-coder-0.5b-instruct"
    threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1, le=512)
    context_size: int = Field(4096, ge=256, le=131072)
    # Sequences decoded together in one batch (continuous batching); each gets context_size tokens.
    parallel: int = Field(8, ge=1, le=64)
    # KV-cache cells shared by all sequences; a request reserves prompt + max_tokens of them.
    kv_cache_tokens: int = Field(16384, ge=256, le=1048576)
    batch_size: int = Field(512, ge=32, le=8192)
    # Requests waiting for a free sequence slot before new ones get 429.
    max_queue: int = Field(64, ge=0, le=100000)
    max_tokens_default: int = Field(512, ge=1)
    # Reuse a free slot's KV for a request that starts with the same tokens (multi-turn chats skip
    # re-reading their history). Off by default: decoding fewer tokens at once changes the low bits of
    # the logits, so a reused prefix can flip a near-tie and the same request may not reproduce exactly.
    prompt_cache: bool = False
    embedding_threads: int = Field(1, ge=1, le=512)


class AuditSettings(BaseModel):
    """The tamper-evident audit trail."""

    # Unused since every group commit signs its batch; kept so existing config files still load.
    checkpoint_every_events: int = Field(1000, ge=1)
    checkpoint_every_seconds: float = Field(60.0, gt=0)
    flush_max_batch: int = Field(1000, ge=1)
    # A request waits at most this long for its audit record; then 503 (also the store's lock wait).
    ack_timeout_seconds: float = Field(10.0, gt=0)
    # Optional append-only copy of every signed checkpoint, on a volume the database writer cannot rewrite.
    witness_path: Path | None = None


class LimitSettings(BaseModel):
    """Request limits that protect the service."""

    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    # Document uploads to knowledge bases carry files, so they get their own ceiling.
    max_upload_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    max_messages: int = Field(2048, ge=1)
    # Characters of one document for /v1/korean/summarize and /v1/korean/segment (longer: 413).
    max_document_chars: int = Field(100_000, ge=1000)
    requests_per_minute: int = Field(600, ge=0)  # per API key; 0 turns the limit off
    # Share the limit across replicas (the cluster shape): redis://host:6379/0. Unset: per process.
    redis_url: str | None = None


class ServerSettings(BaseModel):
    """What the HTTP server shows without an API key, and how long it keeps idle connections."""

    # /metrics: by default it needs an admin key. true serves it to anyone who can reach the port.
    public_metrics: bool = False
    # "host:port" serves /metrics there, without a key (a scrape address kept off the public network);
    # the main port then has no /metrics.
    metrics_bind: str | None = None
    # /openapi.json: by default it needs an API key (any scope). true serves it to anyone.
    public_openapi: bool = False
    # Seconds an idle keep-alive connection stays open. Longer than any client or load balancer keeps one
    # (httpx and the `openai` client: 5 s; cloud load balancers: 60 s), so the server never closes a
    # connection just as a request is sent on it.
    keep_alive_seconds: int = Field(75, ge=1, le=3600)

    @field_validator("metrics_bind")
    @classmethod
    def _host_port(cls, v: str | None) -> str | None:
        if v is not None:
            host, _, port = v.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("metrics_bind must be host:port, such as 127.0.0.1:9464")
        return v


class TelemetrySettings(BaseModel):
    # OTLP/HTTP collector for traces (e.g. http://127.0.0.1:4318). Unset: no traces, no outside calls.
    otlp_endpoint: str | None = None


class Settings(BaseSettings):
    """Everything jaju reads from its environment and configuration file."""

    model_config = SettingsConfigDict(env_prefix="JAJU_", env_nested_delimiter="__",
                                      extra="forbid", validate_default=True)

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    # Where this deployment itself (its embedded engine and default store) sits.
    jurisdiction: str = "KR"
    log_level: str = "info"
    engine: EngineSettings = EngineSettings()
    audit: AuditSettings = AuditSettings()
    limits: LimitSettings = LimitSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    server: ServerSettings = ServerSettings()
    # Sections owned by feature packages; each validates its own table when it loads.
    jurisdictions: dict[str, dict[str, Any]] = {}
    privacy: dict[str, Any] = {}
    compliance: dict[str, Any] = {}
    knowledge: dict[str, Any] = {}
    # The jaju.toml these settings came from (set by load_settings), so later checks can cite its lines.
    source_file: Path | None = Field(None, exclude=True)

    @field_validator("jurisdiction")
    @classmethod
    def _known_jurisdiction(cls, v: str) -> str:
        v = v.upper()
        if not v.isalpha() or len(v) not in (2, 3):
            raise ValueError(f"jurisdiction must be a code such as {', '.join(JURISDICTION_CODES)}")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.lower() not in ("debug", "info", "warning", "error", "critical"):
            raise ValueError("log_level must be one of debug, info, warning, error, critical")
        return v.lower()

    @property
    def effective_database_url(self) -> str:
        """The store's URL: JAJU_DATABASE_URL, or SQLite inside the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'jaju.db'}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]):
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ is used
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _config_path(config_file: str | os.PathLike | None, data_dir: Path | None) -> Path | None:
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"Configuration file {path} does not exist. Create it or drop --config.")
        return path
    env = os.environ.get("JAJU_CONFIG")
    if env:
        return _config_path(env, None)
    candidate = (data_dir or Path(os.environ.get("JAJU_DATA_DIR", DEFAULT_DATA_DIR))) / "jaju.toml"
    return candidate if candidate.is_file() else None


def load_settings(config_file: str | os.PathLike | None = None, **overrides: Any) -> Settings:
    """Build Settings from overrides > environment > config file > defaults, or raise ConfigError."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    path = _config_path(config_file, Path(overrides["data_dir"]) if "data_dir" in overrides else None)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path} is not valid TOML: {e}. Fix the file and try again.") from e
        except UnicodeDecodeError as e:
            raise ConfigError(f"{path} is not UTF-8 text ({e.reason}). Save it as UTF-8.") from e

    class _Loaded(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                       dotenv_settings, file_secret_settings):
            return (init_settings, env_settings, _TomlSource(settings_cls, data))

    try:
        settings = _Loaded(**overrides)
    except ValidationError as e:
        raise ConfigError(_explain(e, path)) from None
    settings.data_dir = settings.data_dir.expanduser().resolve()
    settings.source_file = path
    return settings


def _explain(error: ValidationError, path: Path | None) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"])
        env = "JAJU_" + "__".join(str(p).upper() for p in item["loc"])
        where = f"[{'.'.join(str(p) for p in item['loc'][:-1])}] {item['loc'][-1]}" if len(item["loc"]) > 1 else loc
        got = item.get("input")
        got_s = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"- {loc}: {item['msg']}{got_s}. Set {env} or `{where}` in jaju.toml.")
    src = f" (config file: {path})" if path else ""
    return "Invalid configuration" + src + ":\n" + "\n".join(lines)
