"""The port `jaju serve` listens on, and how its API workers share it.

On Linux each worker listens on a socket of its own, all in one SO_REUSEPORT group, and the kernel spreads
new connections over them by their addresses. On one shared socket the worker that happens to be awake
accepts a whole burst: 16 keep-alive connections opened at once went 16/0, 15/1, 15/1 and 13/3 over two
workers, and at concurrency 16 one worker did nearly all the work while the other idled
(docs/benchmarks.md, round 7). With one worker, and where SO_REUSEPORT does not balance (BSD, macOS),
the workers share one socket as before.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass

from jaju.errors import JajuError

# Where SO_REUSEPORT spreads connections over the listening sockets of a group (Linux); BSD and macOS
# give them all to one socket, so there the workers share one.
BALANCED_GROUPS = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


@dataclass(frozen=True)
class GroupMember:
    """Where a worker binds its own socket of the port's SO_REUSEPORT group (`bind`, in the worker)."""

    host: str
    port: int

    def bind(self) -> socket.socket:
        """Bound, not yet listening: the server listens once the app has started (lifespan, warm-up), so
        the kernel sends this worker nothing before it can answer."""
        return _socket(self.host, self.port, reuse_port=True, listening=False)


class Listeners:
    """How the workers listen on the port: each on its own socket of one SO_REUSEPORT group, or all on one.

    In a group, the supervisor holds the port with a socket that is bound but never listens (the kernel
    sends connections only to listening sockets), after an ordinary bind has checked that the port is
    free (else the plain sentence, as before). A socket without SO_REUSEPORT (another `jaju serve`) can
    then not bind the port, and Linux lets only the same user's sockets join the group. A worker's socket
    goes with the worker: when one dies, new connections go to the live ones at once, and its
    replacement joins when it is ready to answer.
    """

    def __init__(self, host: str, port: int, workers: int):
        self.host = host
        self.balanced = BALANCED_GROUPS and workers > 1
        if not self.balanced:
            self._sock = listen(host, port)
            self.port = self._sock.getsockname()[1]
            return
        if port != 0:  # free, or the plain sentence (a group's own bind would join another group holding it)
            listen(host, port).close()
        self._sock = _socket(host, port, reuse_port=True, listening=False, reuse_addr=False)
        self.port = self._sock.getsockname()[1]
        self._member = GroupMember(host, self.port)

    def for_worker(self) -> socket.socket | GroupMember:
        return self._member if self.balanced else self._sock

    def accepting(self) -> bool:
        """Whether a connection to the port is accepted now (some worker listens)."""
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = "::1" if host == "::" else "127.0.0.1"
        try:
            socket.create_connection((host, self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def close(self) -> None:
        self._sock.close()


def listen(host: str, port: int) -> socket.socket:
    """A listening socket that every worker accepts on (inheritable, so each worker gets a copy)."""
    return _socket(host, port)


def _socket(host: str, port: int, *, reuse_port: bool = False, listening: bool = True,
            reuse_addr: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio turns Nagle off (TCP_NODELAY) only on accepted sockets whose
    # `proto` says TCP, and a plain socket.socket() says 0. With Nagle on, a response written as headers
    # then body waited for the client's delayed ACK: ~40 ms added to every request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if reuse_addr:  # not on a group's port holder: that would let a plain bind share the port while none listens
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise JajuError(f"Cannot listen on {host}:{port} ({e.strerror}); choose another --port.") from None
    if listening:
        sock.listen(2048)
    sock.set_inheritable(True)
    return sock
