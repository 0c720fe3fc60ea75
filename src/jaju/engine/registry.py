"""ModelRegistry: which models exist here, which backend serves each, loading them on demand."""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Callable
from pathlib import Path

import llama_cpp
from sqlalchemy import select

from jaju.engine.base import Backend, ModelInfo
from jaju.engine.catalog import (EMBEDDING_MODEL, PACKAGED, CatalogEntry, PackagedModel, assemble,
                                 packaged_installed, sha256_file, verify)
from jaju.engine.embeddings import E5Backend
from jaju.engine.llama import LlamaEngine
from jaju.errors import ApiError, JajuError, ModelError
from jaju.protocol.common import unknown_model
from jaju.settings import Settings
from jaju.store import Database
from jaju.store.tables import ModelEntry


def read_gguf_metadata(path: Path) -> dict[str, str]:
    """Metadata of a GGUF file (vocabulary only is loaded, not the weights)."""
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ModelError(f"{path} is not a GGUF model llama.cpp can read.")
    try:
        meta = {}
        buf = ctypes.create_string_buffer(64 * 1024)
        for i in range(llama_cpp.llama_model_meta_count(model)):
            llama_cpp.llama_model_meta_key_by_index(model, i, buf, len(buf))
            key = buf.value.decode("utf-8", errors="replace")
            llama_cpp.llama_model_meta_val_str_by_index(model, i, buf, len(buf))
            meta[key] = buf.value.decode("utf-8", errors="replace")
        return meta
    finally:
        llama_cpp.llama_model_free(model)


class ModelRegistry:
    """Built-in catalog + operator-added GGUF files + remote backends, by model id."""

    def __init__(self, settings: Settings, db: Database, on_token: Callable[[str], None] | None = None, *,
                 remote_loader: Callable[[str], Backend] | None = None):
        """`remote_loader`: in an API worker (`jaju serve --workers N`) models load in the engine process."""
        self.settings = settings
        self.db = db
        self._on_token = on_token
        self._backends: dict[str, Backend] = {}
        self._load_locks: dict[str, asyncio.Lock] = {}
        self.embeddings = E5Backend(settings.jurisdiction)
        self.remote_loader = remote_loader

    # --- catalog ----------------------------------------------------------------------------
    def catalog(self) -> list[CatalogEntry]:
        entries = []
        for m in PACKAGED:
            path = self.settings.models_dir / m.filename
            installed = packaged_installed(m)
            entries.append(CatalogEntry(m.name, m.kind, "embedded", path if path.exists() else None, m.sha256,
                                        path.stat().st_size if path.exists() else m.size, m.license, m.origin,
                                        installed, "" if installed else f"not installed: {m.install_hint}"))
        e5 = self.embeddings.describe()
        entries.append(CatalogEntry(EMBEDDING_MODEL, "embedding", "embedded", None, e5.sha256 or "", e5.size or 0,
                                    e5.license, e5.origin, True))
        with self.db.sessions() as s:
            for row in s.scalars(select(ModelEntry).order_by(ModelEntry.name)):
                entries.append(CatalogEntry(row.name, row.kind, "embedded", Path(row.path), row.sha256, row.size,
                                            row.license, "operator-added GGUF", Path(row.path).exists()))
        return entries

    def add_gguf(self, name: str, path: Path, license_: str | None = None) -> CatalogEntry:
        """Register an operator's GGUF: hashed now, verified before every load."""
        if not name or len(name) > 200 or any(c.isspace() for c in name):
            raise ModelError("A model name is 1-200 characters without spaces.")
        if name in {m.name for m in PACKAGED} | {EMBEDDING_MODEL}:
            raise ModelError(f"{name} is a built-in model name; choose another.")
        path = path.expanduser().resolve()
        if not path.is_file():
            raise ModelError(f"{path} does not exist.")
        meta = read_gguf_metadata(path)
        kind = "chat" if meta.get("tokenizer.chat_template") else "completion"
        row = ModelEntry(name=name, path=str(path), sha256=sha256_file(path), size=path.stat().st_size,
                         license=license_ or meta.get("general.license", "unknown"), kind=kind)
        with self.db.session() as s:
            if s.get(ModelEntry, name) is not None:
                raise ModelError(f"A model named {name} already exists; remove it first.")
            s.add(row)
        return CatalogEntry(name, kind, "embedded", path, row.sha256, row.size, row.license, "operator-added GGUF",
                            True, extra={"architecture": meta.get("general.architecture", "")})

    def remove(self, name: str) -> None:
        with self.db.session() as s:
            row = s.get(ModelEntry, name)
            if row is None:
                raise ModelError(f"No operator-added model {name}.")
            s.delete(row)

    # --- serving ----------------------------------------------------------------------------
    def register(self, model_id: str, backend: Backend) -> None:
        self._backends[model_id] = backend
        if isinstance(backend, E5Backend):  # an API worker's handle on the engine process's e5
            self.embeddings = backend

    def loaded(self) -> dict[str, Backend]:
        return dict(self._backends)

    def available(self) -> list[ModelInfo]:
        """Models a client may name: loaded ones plus catalog entries that can load on demand."""
        seen = {m.id: m for b in self._backends.values() for m in b.models()}
        for e in self.catalog():
            if e.name not in seen and e.installed and e.kind != "embedding":
                seen[e.name] = ModelInfo(id=e.name, backend=e.backend, jurisdiction=self.settings.jurisdiction,
                                         kind=e.kind, sha256=e.sha256, size=e.size, license=e.license,
                                         origin=e.origin)
        return list(seen.values())

    def _prepare(self, name: str) -> LlamaEngine:
        packaged: PackagedModel | None = next((m for m in PACKAGED if m.name == name), None)
        if packaged is not None:
            path = assemble(packaged, self.settings.models_dir)
            verify(path, packaged.sha256, name)
            info = ModelInfo(id=name, backend="embedded", jurisdiction=self.settings.jurisdiction, kind=packaged.kind,
                             sha256=packaged.sha256, size=path.stat().st_size, license=packaged.license,
                             origin=packaged.origin)
        else:
            with self.db.sessions() as s:
                row = s.get(ModelEntry, name)
            if row is None:
                raise unknown_model(name)
            path = Path(row.path)
            verify(path, row.sha256, name)
            info = ModelInfo(id=name, backend="embedded", jurisdiction=self.settings.jurisdiction, kind=row.kind,
                             sha256=row.sha256, size=row.size, license=row.license, origin="operator-added GGUF")
        on_token = (lambda: self._on_token(name)) if self._on_token else None
        engine = LlamaEngine(info, path, self.settings.engine, on_token=on_token)
        engine.load()
        return engine

    def load_sync(self, name: str) -> Backend:
        if self.remote_loader is not None:
            self._backends[name] = self.remote_loader(name)
        elif name == EMBEDDING_MODEL:
            self.embeddings.load()
            self._backends[name] = self.embeddings
        else:
            self._backends[name] = self._prepare(name)
        return self._backends[name]

    async def get(self, name: str) -> Backend:
        """The backend serving `name`, loading it on first use; 404 for unknown models."""
        backend = self._backends.get(name)
        if backend is not None:
            return backend
        lock = self._load_locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name in self._backends:
                return self._backends[name]
            known = {m.id for m in self.available()} | {EMBEDDING_MODEL}
            if name not in known:
                raise unknown_model(name)
            try:
                return await asyncio.to_thread(self.load_sync, name)
            except JajuError as e:
                raise ApiError(503, f"Model {name} cannot be loaded: {e}", "service_unavailable",
                               "model_unavailable") from None

    async def close(self) -> None:
        for backend in self._backends.values():
            await backend.close()
        self._backends.clear()

