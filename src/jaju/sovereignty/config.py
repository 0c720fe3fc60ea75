"""The `[jurisdictions.XX]` tables of jaju.toml: each jurisdiction's backends, store and KEK source.

    jurisdiction = "KR"                     # where this deployment (its embedded engine) runs

    [jurisdictions.KR]
    store = { database_url = "postgresql+psycopg://jaju@db.kr.internal/jaju" }   # or { data_dir = "..." }
    kek = { source = "local" }              # or { source = "local", dir = "/etc/jaju/kek" }

    [[jurisdictions.KR.backends]]
    name = "kr-vllm"
    url = "http://vllm.kr.internal:8000/v1"
    api_key_env = "KR_VLLM_KEY"             # the variable's name; the secret never sits in the file
    timeout = 60
    models = { "qwen2.5-72b" = "Qwen/Qwen2.5-72B-Instruct" }   # jaju name = server name (or a list)
    responses = "native"                    # /v1/responses passed to the server's own (or "translate", "auto")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from jaju.errors import ConfigError
from jaju.settings import JURISDICTION_CODES, Settings

KEK_SOURCES = ("local",)  # a KMS or HSM plugin adds its name here and a branch in kek_providers()
_CODE = re.compile(r"^[A-Z]{2,3}$")


class ModelSpec(BaseModel):
    """One model a remote backend serves, with the provenance a sovereign deployment must show."""

    model_config = ConfigDict(extra="forbid")
    remote: str  # the name the server knows it by
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    license: str = "unknown"
    origin: str = ""
    kind: str = Field("chat", pattern=r"^(chat|completion|embedding)$")
    # Home jurisdictions of tenants that may use it; empty = any tenant routed here.
    used_by: list[str] = []


class BackendConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    url: str
    jurisdiction: str | None = None  # optional; must repeat the table it sits in
    models: dict[str, ModelSpec]
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout: float = Field(120.0, gt=0, le=3600)
    connect_timeout: float = Field(5.0, gt=0, le=120)
    failure_threshold: int = Field(3, ge=1, le=100)
    reset_after: float = Field(10.0, gt=0, le=3600)
    stream: bool = True  # false for servers whose tool-call parser only works without streaming
    # /v1/responses: "native" sends it to the server's own /v1/responses (vLLM, llama-server), "translate"
    # runs it as a chat completion, "auto" asks the server once (an empty POST /responses) and remembers.
    responses: Literal["native", "translate", "auto"] = "translate"
    # vLLM (and SGLang): send `cache_salt`, a keyed digest of the tenant, with every generation, so the server's
    # prefix cache never answers one tenant sooner because another sent the same prefix. Off by default: a
    # server that does not know the field may refuse the request.
    cache_salt: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be http(s)://host[:port][/v1]")
        return v.rstrip("/")

    @field_validator("models", mode="before")
    @classmethod
    def _models(cls, v: Any) -> Any:
        if isinstance(v, list):
            return {name: {"remote": name} for name in v}
        if isinstance(v, dict):
            return {k: ({"remote": s} if isinstance(s, str) else s) for k, s in v.items()}
        return v

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)


class StoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    database_url: str | None = None
    data_dir: Path | None = None


class KekConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = "local"
    dir: Path | None = None

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v not in KEK_SOURCES:
            raise ValueError(f"unknown KEK source {v!r}; available: {', '.join(KEK_SOURCES)}")
        return v


class JurisdictionTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store: StoreConfig = StoreConfig()
    kek: KekConfig = KekConfig()
    backends: list[BackendConfig] = []


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """One jurisdiction, resolved: where its data lives, which KEK guards it, which engines serve it."""

    code: str
    database_url: str
    kek: KekConfig
    keys_dir: Path
    backends: tuple[BackendConfig, ...] = ()
    embedded: bool = False  # the deployment's own engine runs here


@dataclass(frozen=True, slots=True)
class Jurisdictions:
    home: str
    by_code: dict[str, Jurisdiction] = field(default_factory=dict)

    def __getitem__(self, code: str) -> Jurisdiction:
        return self.by_code[code]

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    @property
    def codes(self) -> set[str]:
        return set(self.by_code)

    def backends(self) -> list[BackendConfig]:
        return [b for j in self.by_code.values() for b in j.backends]

    def declared_hosts(self) -> set[tuple[str, int]]:
        """(host, port) of every declared backend: the egress allow-list."""
        return {(b.host, b.port) for b in self.backends()}


def load_jurisdictions(settings: Settings, config_file: str | Path | None = None) -> Jurisdictions:
    """Validate settings.jurisdictions; ConfigError naming the table, key and (with the file) the line."""
    source = _Source(Path(config_file) if config_file else None)
    home = settings.jurisdiction
    known = set(JURISDICTION_CODES) | {home} | {str(k).upper() for k in settings.jurisdictions}
    out: dict[str, Jurisdiction] = {}
    names: dict[str, str] = {}
    for raw_code, table in settings.jurisdictions.items():
        code = str(raw_code).upper()
        where = f"[jurisdictions.{raw_code}]"
        if not _CODE.match(code):
            raise ConfigError(source.say(where, None, f"{raw_code!r} is not a jurisdiction code; use two or three "
                                         f"letters such as {', '.join(JURISDICTION_CODES)}"))
        if code in out:
            raise ConfigError(source.say(where, None, f"jurisdiction {code} is declared twice"))
        if not isinstance(table, dict):
            raise ConfigError(source.say(where, None, "must be a table"))
        try:
            parsed = JurisdictionTable.model_validate(table)
        except ValidationError as e:
            raise ConfigError(_explain(e, raw_code, source)) from None
        for i, b in enumerate(parsed.backends):
            bwhere = f"[[jurisdictions.{raw_code}.backends]] #{i + 1} ({b.name})"
            if b.jurisdiction is not None and b.jurisdiction.upper() != code:
                raise ConfigError(source.say(bwhere, "jurisdiction", f"names {b.jurisdiction!r} but is declared "
                                             f"under [jurisdictions.{raw_code}]; move it under its jurisdiction"))
            if b.name in names:
                raise ConfigError(source.say(bwhere, "name", f"backend name {b.name!r} is already used in "
                                             f"[jurisdictions.{names[b.name]}]; names must be unique"))
            names[b.name] = code
            for model, spec in b.models.items():
                bad = [u for u in spec.used_by if u.upper() not in known]
                if bad:
                    raise ConfigError(source.say(bwhere, "models", f"model {model!r} names unknown jurisdiction(s) "
                                                 f"{', '.join(bad)} in used_by; declare them or fix the code"))
        out[code] = _resolve(code, parsed, settings, source, where)
    if home not in out:
        # The deployment's own jurisdiction always exists: the embedded engine, the default store.
        out[home] = Jurisdiction(home, settings.effective_database_url, KekConfig(), settings.keys_dir, embedded=True)
    else:
        out[home] = Jurisdiction(**{**_asdict(out[home]), "embedded": True})
    return Jurisdictions(home, out)


def _resolve(code: str, t: JurisdictionTable, settings: Settings, source: _Source, where: str) -> Jurisdiction:
    if t.store.database_url and t.store.data_dir:
        raise ConfigError(source.say(f"{where} store", None, "give database_url or data_dir, not both"))
    if t.store.database_url:
        url = t.store.database_url
    elif t.store.data_dir:
        url = f"sqlite:///{t.store.data_dir.expanduser().resolve() / 'jaju.db'}"
    elif code == settings.jurisdiction:
        url = settings.effective_database_url
    else:
        raise ConfigError(source.say(f"{where} store", None, f"jurisdiction {code} has no store; add "
                                     f"store = {{ database_url = \"...\" }} or {{ data_dir = \"...\" }} so its "
                                     "tenants' data has a home inside it"))
    keys_dir = (t.kek.dir.expanduser().resolve() if t.kek.dir else settings.keys_dir)
    return Jurisdiction(code, url, t.kek, keys_dir, tuple(t.backends))


def _asdict(j: Jurisdiction) -> dict[str, Any]:
    return {f: getattr(j, f) for f in j.__slots__}


class _Source:
    """Finds the line of a table or key in jaju.toml, so errors can point at it."""

    def __init__(self, path: Path | None):
        self.path = path if path and path.is_file() else None
        self.lines = self.path.read_text(encoding="utf-8").splitlines() if self.path else []

    def line_of(self, table: str, key: str | None) -> int | None:
        # "[jurisdictions.KR] store" -> header "[jurisdictions.KR]"; "[[...backends]] #2" -> second such header.
        m = re.match(r"^(\[\[?[^\]]+\]\]?)(?: #(\d+))?", table)
        if not m or not self.lines:
            return None
        header, nth = m.group(1), int(m.group(2) or 1)
        start = None
        for i, line in enumerate(self.lines):
            if line.strip().replace(" ", "") == header.replace(" ", ""):
                nth -= 1
                if nth == 0:
                    start = i
                    break
        if start is None:
            return None
        if key:
            for j in range(start + 1, len(self.lines)):
                s = self.lines[j].strip()
                if s.startswith("["):
                    break
                if re.match(rf"^{re.escape(key)}\s*[=.]", s):
                    return j + 1
        return start + 1

    def say(self, table: str, key: str | None, problem: str) -> str:
        line = self.line_of(table, key)
        at = f"{self.path} line {line}: " if line else ""
        k = f" {key}" if key else ""
        return f"{at}{table}{k}: {problem}."


def _explain(e: ValidationError, code: str, source: _Source) -> str:
    lines = []
    for item in e.errors():
        loc = [str(p) for p in item["loc"]]
        if loc and loc[0] == "backends" and len(loc) > 1 and loc[1].isdigit():
            table, rest = f"[[jurisdictions.{code}.backends]] #{int(loc[1]) + 1}", loc[2:]
        elif loc and loc[0] in ("store", "kek"):
            table, rest = f"[jurisdictions.{code}]", loc
        else:
            table, rest = f"[jurisdictions.{code}]", loc
        key = rest[0] if rest else None
        detail = ".".join(rest[1:])
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            msg = "is required"
        elif item["type"] == "extra_forbidden":
            msg = "is not a setting jaju knows (check the spelling)"
        lines.append(source.say(table, key, f"{detail} {msg}".strip()))
    return "Invalid jurisdiction configuration:\n" + "\n".join(f"- {x}" for x in lines)


def kek_providers(jurisdictions: Jurisdictions) -> dict[str, Any]:
    """One KekProvider per jurisdiction, from its `kek` table (the KeyService's `providers`)."""
    from jaju.sovereignty.kek import LocalKekProvider

    providers: dict[str, Any] = {}
    for code, j in jurisdictions.by_code.items():
        if j.kek.source == "local":
            providers[code] = LocalKekProvider(j.keys_dir, code)
    return providers
