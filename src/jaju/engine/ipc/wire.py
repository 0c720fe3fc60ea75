"""What the engine process and its clients say to each other, and where they meet.

Every message is one ZeroMQ frame holding a pickle. Pickle is safe here because both ends are jaju
processes started by the same supervisor, and the unix socket lives in a directory only the service
user can open (0700, socket 0600): nothing else can connect. It also carries the engine's own data
classes (ChatRequest, Delta, ModelInfo...) as they are, so a field added there crosses without any
change here.

    worker -> engine   (op, rid, payload)
        "chat" | "complete"   payload (request without hooks, [hook spec, ...])
        "cancel"              payload None: stop the generation and free its slot
        "call"                payload (method, args): tokenize, count_tokens, embed, ... (CALLS)
    engine -> worker   [(rid, kind, payload), ...]   several replies batched in one frame
        "d"   [Delta | (text, index), ...]   the next deltas of a generation; the last has a finish_reason.
                             A delta that carries only text crosses as a (text, index) tuple
                             (`compact`/`expand`): unpickling a Delta looks its class up by name, which
                             was the largest part of a worker's cost per streamed token.
        "e"   error tuple    the request failed (see `error_tuple`)
        "r"   value          the result of a call
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from jaju.engine.base import Delta
from jaju.errors import ApiError, JajuError, ServiceError

CHAT, COMPLETE, CANCEL, CALL = "chat", "complete", "cancel", "call"
DELTAS, ERROR, RESULT = "d", "e", "r"

# The methods a worker may call on the engine process; anything else is refused there.
CALLS = ("hello", "load", "tokenize", "count_tokens", "render_chat", "embed", "e5", "stats", "ping")

# Unix socket paths are limited to 107 bytes; a deep data directory falls back to a private temp dir.
_MAX_SOCKET_PATH = 100


def dumps(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    return pickle.loads(data)  # noqa: S301 - only our own processes can reach the socket (module doc)


def compact(d: Delta) -> Delta | tuple[str, int]:
    if d.finish_reason is None and d.tool_calls is None and d.usage is None and d.logprobs is None:
        return (d.text, d.index)
    return d


def expand(item: Delta | tuple[str, int]) -> Delta:
    return Delta(item[0], index=item[1]) if type(item) is tuple else item


def add_reply(batch: list[list], rid: int, kind: str, payload: Any) -> None:
    """Append one reply to a batch bound for a worker; consecutive deltas of one request share an entry."""
    if kind == DELTAS:
        last = batch[-1] if batch else None
        if last is not None and last[0] == rid and last[1] == DELTAS:
            last[2].append(payload)
        else:
            batch.append([rid, DELTAS, [payload]])
    else:
        batch.append([rid, kind, payload])


def error_tuple(e: BaseException) -> tuple:
    """(status, message, type, code, param, headers): enough to raise the same OpenAI error in a worker."""
    if isinstance(e, ServiceError):
        return (e.status, e.message, e.type, e.code, e.param, dict(e.headers))
    if isinstance(e, JajuError):  # a model that cannot load, a broken file: the client cannot fix it
        return (503, str(e), "service_unavailable", "model_unavailable", None, {})
    return (500, "The engine failed on this request; it was logged there.", "api_error", "engine_error", None, {})


def raise_error(t: tuple) -> None:
    status, message, type_, code, param, headers = t
    raise ApiError(status, message, type_, code, param, headers)


def engine_unavailable(why: str = "The engine process is not running") -> ApiError:
    return ApiError(503, f"{why}; it is being restarted. Retry in a few seconds.", "service_unavailable",
                    "engine_unavailable", headers={"Retry-After": "2"})


def run_dir(data_dir: Path, owner_pid: int) -> Path:
    """A private directory for one `jaju serve`'s socket, metrics and limiter files (0700)."""
    path = data_dir / "run" / str(owner_pid)
    if len(str(path / "engine.sock")) > _MAX_SOCKET_PATH:
        path = Path(tempfile.gettempdir()) / f"jaju-{os.getuid()}-{owner_pid}"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def endpoint(run: Path) -> str:
    return f"ipc://{run / 'engine.sock'}"


def channel_path(endpoint: str) -> str:
    """The token channels' socket (channel.py), beside the ZeroMQ endpoint's."""
    return str(Path(endpoint.removeprefix("ipc://")).with_name("tokens.sock"))
