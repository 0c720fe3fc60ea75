"""Http1Transport against real asyncio HTTP servers on loopback, each written to behave one particular way."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import socketserver
import ssl
import threading
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jaju.sovereignty.egress import EgressGuard
from jaju.sovereignty.transport import Http1Transport
from tests.support import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture(params=[pytest.param(("asyncio", {}), id="asyncio"),
                        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop")])
def anyio_backend(request):
    """jaju serves on uvloop; the transport must also work on asyncio's own loop."""
    return request.param


KOREAN = "대한민국의 수도는 서울입니다. 한국어 본문이 바이트 하나도 바뀌지 않아야 합니다.".encode()
ANSWER = {"object": "chat.completion", "choices": [{"message": {"role": "assistant", "content": "서울입니다."}}]}


class Upstream:
    """An asyncio server on 127.0.0.1 whose every connection runs `serve(upstream, reader, writer)`."""

    def __init__(self, serve: Callable[[Upstream, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
                 tls: ssl.SSLContext | None = None):
        self.serve, self.tls = serve, tls
        self.accepts = 0
        self.requests: list[tuple[bytes, dict[str, str], bytes]] = []
        self.go_on = asyncio.Event()  # for servers that wait on the test
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> Upstream:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepts += 1
        self._tasks.add(asyncio.current_task())
        try:
            await self.serve(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def request(self, reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes] | None:
        """The next request on a connection (its body de-chunked), or None when the client closed it."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        line, *rest = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in rest if ":" in h)}
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
                body += (await reader.readexactly(size + 2))[:-2]
            await reader.readexactly(2)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((line.encode(), headers, body))
        return line.encode(), headers, body


def response(body: bytes, status: str = "200 OK", *extra: str, content_type: str = "application/json") -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


async def keep_answering(up: Upstream, reader, writer) -> None:
    """Answers every request on the connection with the JSON ANSWER, keeping the connection open."""
    while await up.request(reader) is not None:
        writer.write(response(json.dumps(ANSWER, ensure_ascii=False).encode()))
        await writer.drain()


def client(**options) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=Http1Transport(**options), timeout=5)


# --- replies read correctly ---------------------------------------------------------------------

async def test_json_reply_with_content_length_and_the_request_as_sent():
    async with Upstream(keep_answering) as up, client() as c:
        r = await c.post(up.url + "/v1/chat/completions?x=1", json={"messages": [{"content": "서울"}]},
                         headers={"Authorization": "Bearer k"})
    assert (r.status_code, r.reason_phrase, r.http_version) == (200, "OK", "HTTP/1.1")
    assert r.json() == ANSWER
    assert r.headers["content-length"] == str(len(r.content))
    line, headers, body = up.requests[0]
    assert line == b"POST /v1/chat/completions?x=1 HTTP/1.1"
    assert headers["host"] == f"127.0.0.1:{up.port}" and headers["authorization"] == "Bearer k"
    assert json.loads(body) == {"messages": [{"content": "서울"}]} and headers["content-length"] == str(len(body))


async def test_chunked_reply_split_inside_korean_characters_is_intact_byte_for_byte():
    pieces = [KOREAN[:1], KOREAN[1:7], KOREAN[7:40], KOREAN[40:]]  # cuts inside three-byte characters

    async def serve(up, reader, writer):
        await up.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in pieces:
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        await keep_answering(up, reader, writer)

    async with Upstream(serve) as up, client() as c:
        r = await c.get(up.url)
        again = await c.get(up.url)
    assert r.content == KOREAN and r.text == KOREAN.decode()
    assert again.json() == ANSWER and up.accepts == 1  # the chunked reply was read to its end: reused


async def test_sse_chunks_arrive_before_the_server_finishes():
    events = [b"data: {\"content\": \"\xeb\x8c\x80\xed\x95\x9c\"}\n\n", b"data: [DONE]\n\n"]

    async def serve(up, reader, writer):
        await up.request(reader)
        writer.write(SSE_HEAD)
        writer.write(b"%x\r\n%s\r\n" % (len(events[0]), events[0]))
        await writer.drain()
        await up.go_on.wait()  # only once the client has the first event in hand
        writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(events[1]), events[1]))

    async with Upstream(serve) as up, client() as c:
        got = []
        async with asyncio.timeout(5), c.stream("POST", up.url, json={"stream": True}) as r:
            async for piece in r.aiter_bytes():
                got.append(piece)
                up.go_on.set()
    assert got == events


async def test_head_204_and_duplicate_headers():
    async def serve(up, reader, writer):
        while (req := await up.request(reader)) is not None:
            if req[0].startswith(b"HEAD"):  # a Content-Length and no body, as a HEAD answer should be
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 204 No Content\r\nX-Jaju: \xea\xb0\x80\r\n\r\n")

    async with Upstream(serve) as up, client() as c:
        head = await c.head(up.url)
        empty = await c.delete(up.url)
    assert head.status_code == 200 and head.content == b"" and head.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert empty.status_code == 204 and empty.content == b"" and empty.headers.raw[0] == (b"X-Jaju", "가".encode())
    assert up.accepts == 1


async def test_informational_response_is_skipped():
    async def serve(up, reader, writer):
        await up.request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + response(KOREAN, "201 Created"))

    async with Upstream(serve) as up, client() as c:
        r = await c.post(up.url, content=b"x")
    assert (r.status_code, r.reason_phrase, r.content) == (201, "Created", KOREAN) and "link" not in r.headers


async def test_body_until_close_is_read_whole_and_the_connection_not_kept():
    async def serve(up, reader, writer):
        await up.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        for i in range(3):
            writer.write(b"data: %d\n\n" % i)
            await writer.drain()

    async with Upstream(serve) as up, client() as c:
        first = await c.post(up.url, json={})
        second = await c.post(up.url, json={})
    assert first.text == second.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"
    assert up.accepts == 2


async def test_streamed_request_body_is_sent_chunked():
    async def parts():
        for piece in (KOREAN[:5], b"", KOREAN[5:]):
            yield piece

    async def echo(up, reader, writer):
        while (req := await up.request(reader)) is not None:
            writer.write(response(req[2], content_type="text/plain"))

    async with Upstream(echo) as up, client() as c:
        r = await c.post(up.url, content=parts())
    assert r.content == KOREAN and up.requests[0][1]["transfer-encoding"] == "chunked"


# --- keep-alive ---------------------------------------------------------------------------------

async def test_keep_alive_reuses_one_connection():
    async with Upstream(keep_answering) as up, client() as c:
        replies = [await c.post(up.url, json={"n": n}) for n in range(3)]
    assert [r.json() for r in replies] == [ANSWER] * 3
    assert (up.accepts, len(up.requests)) == (1, 3)


async def test_connection_close_from_either_side_is_not_reused():
    async def serve(up, reader, writer):
        while await up.request(reader) is not None:
            writer.write(response(b"{}", "200 OK", "Connection: close"))

    async with Upstream(serve) as up, client() as c:
        for _ in range(2):
            assert (await c.get(up.url)).json() == {}
    async with Upstream(keep_answering) as plain, client() as c:
        for _ in range(2):
            assert (await c.get(plain.url, headers={"Connection": "close"})).json() == ANSWER
    assert (up.accepts, plain.accepts) == (2, 2)


async def test_server_closing_an_idle_connection_means_a_new_one():
    async def one_each(up, reader, writer):  # claims keep-alive, then hangs up after one answer
        await up.request(reader)
        writer.write(response(b"{}", "200 OK", "Connection: keep-alive"))
        await writer.drain()

    async with Upstream(one_each) as up, client() as c:
        first = await c.get(up.url)
        await asyncio.sleep(0.05)  # the close reaches the idle connection
        second = await c.get(up.url)
    assert first.json() == second.json() == {} and up.accepts == 2


async def test_a_request_the_closing_server_dropped_is_sent_again_once():
    async def drops_second(up, reader, writer):  # reads the second request, then hangs up without a word
        await up.request(reader)
        writer.write(response(b"{}"))
        await writer.drain()
        await up.request(reader)

    async with Upstream(drops_second) as up, client() as c:
        await c.post(up.url, json={"n": 1})
        second = await c.post(up.url, json={"n": 2})
    assert second.json() == {} and up.accepts == 2
    assert [json.loads(body) for _, _, body in up.requests] == [{"n": 1}, {"n": 2}, {"n": 2}]


async def test_a_streamed_body_is_never_sent_twice():
    async def drops_second(up, reader, writer):
        await up.request(reader)
        writer.write(response(b"{}"))
        await writer.drain()
        await up.request(reader)

    async def parts():
        yield b"once"

    async with Upstream(drops_second) as up, client() as c:
        await c.post(up.url, json={})
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await c.post(up.url, content=parts())
    assert up.accepts == 1 and up.requests[-1][2] == b"once"


def test_a_client_used_from_a_second_event_loop_opens_a_new_connection():
    accepts = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            accepts.append(self.client_address)
            while self.rfile.readline():  # a GET: its request line, then headers up to the blank line
                while self.rfile.readline() not in (b"\r\n", b""):
                    pass
                self.wfile.write(response(b"{}"))

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads, block_on_close = True, False

    with Server(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        c = client()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        replies = [asyncio.run(c.get(url)) for _ in range(2)]  # each asyncio.run has its own loop
        asyncio.run(c.aclose())
        server.shutdown()
    assert [r.json() for r in replies] == [{}, {}] and len(accepts) == 2


async def test_idle_connections_expire():
    async with Upstream(keep_answering) as up, client(idle_expiry=0.05) as c:
        await c.get(up.url)
        await asyncio.sleep(0.1)
        await c.get(up.url)
    assert up.accepts == 2


# --- a caller that stops early, or is cancelled -------------------------------------------------

async def endless_sse(up, reader, writer):
    await up.request(reader)
    writer.write(SSE_HEAD)
    while True:
        writer.write(chunked(b"data: {}\n\n")[:-5])
        await writer.drain()
        await asyncio.sleep(0.01)


async def test_a_caller_that_stops_reading_early_does_not_leave_its_connection_in_the_pool():
    async def serve(up, reader, writer):
        if up.accepts == 1:
            await endless_sse(up, reader, writer)
        await keep_answering(up, reader, writer)

    async with Upstream(serve) as up, client() as c:
        async with c.stream("POST", up.url, json={}) as r:
            async for _ in r.aiter_bytes():
                break
        after = await c.post(up.url, json={})
    assert after.json() == ANSWER and up.accepts == 2


async def test_a_cancelled_caller_closes_its_connection():
    async def serve(up, reader, writer):
        if up.accepts == 1:
            await endless_sse(up, reader, writer)
        await keep_answering(up, reader, writer)

    async with Upstream(serve) as up, client() as c:
        started = asyncio.Event()

        async def read_forever():
            async with c.stream("POST", up.url, json={}) as r:
                async for _ in r.aiter_bytes():
                    started.set()

        task = asyncio.create_task(read_forever())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after = await c.post(up.url, json={})
    assert after.json() == ANSWER and up.accepts == 2


async def test_requests_beyond_max_active_wait_for_a_place_then_time_out():
    async def serve(up, reader, writer):
        if await up.request(reader) is None:
            return
        await up.go_on.wait()  # every answer waits until the test lets them go
        writer.write(response(json.dumps(ANSWER, ensure_ascii=False).encode()))
        await writer.drain()
        await keep_answering(up, reader, writer)

    async with Upstream(serve) as up, httpx.AsyncClient(transport=Http1Transport(max_active=2),
                                                        timeout=httpx.Timeout(5, pool=0.3)) as c:
        first = [asyncio.create_task(c.post(up.url, json={})) for _ in range(2)]
        await asyncio.sleep(0.1)
        with pytest.raises(httpx.PoolTimeout):  # a third one finds both places taken
            await c.post(up.url, json={})
        assert up.accepts == 2  # and never opened a third connection
        third = asyncio.create_task(c.post(up.url, json={}))
        await asyncio.sleep(0.1)
        up.go_on.set()
        answers = await asyncio.gather(*first, third)
    assert [r.json() for r in answers] == [ANSWER] * 3 and up.accepts == 2  # the third reused a freed one


# --- failures, as httpx names them --------------------------------------------------------------

async def test_truncated_content_length_body():
    async def serve(up, reader, writer):
        await up.request(reader)
        writer.write(response(KOREAN)[:-10])

    async with Upstream(serve) as up, client() as c:
        with pytest.raises(httpx.RemoteProtocolError, match=f"{len(KOREAN) - 10} of {len(KOREAN)} body bytes"):
            await c.get(up.url)


async def test_truncated_chunked_body():
    async def serve(up, reader, writer):
        await up.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(KOREAN[:9], KOREAN[9:])[:-12])

    async with Upstream(serve) as up, client() as c:
        got = bytearray()
        with pytest.raises(httpx.RemoteProtocolError, match="in a chunked body") as e:
            async with c.stream("GET", up.url) as r:
                async for piece in r.aiter_bytes():
                    got += piece
    assert e.value.request.url == up.url and bytes(got) == KOREAN[:len(got)] and len(got) >= 9


async def test_garbage_response():
    async def serve(up, reader, writer):
        await up.request(reader)
        writer.write(b"<html>502 Bad Gateway</html>\r\n\r\n")

    async with Upstream(serve) as up, client() as c:
        with pytest.raises(httpx.RemoteProtocolError, match="not valid HTTP/1.1"):
            await c.get(up.url)


async def test_no_response_at_all():
    async def serve(up, reader, writer):
        await up.request(reader)

    async with Upstream(serve) as up, client() as c:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await c.get(up.url)


@pytest.mark.parametrize("first_event", [False, True])
async def test_silence_is_a_read_timeout_within_the_read_timeout(first_event):
    async def serve(up, reader, writer):
        await up.request(reader)
        writer.write(SSE_HEAD)
        if first_event:
            writer.write(chunked(b"data: 1\n\n")[:-5])
        await writer.drain()
        await asyncio.sleep(30)

    async with Upstream(serve) as up, client() as c:
        got = []
        began = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            async with c.stream("GET", up.url, timeout=httpx.Timeout(5, read=0.3)) as r:
                async for piece in r.aiter_bytes():
                    got.append(piece)
        waited = time.monotonic() - began
    assert got == ([b"data: 1\n\n"] if first_event else []) and 0.3 <= waited < 2


async def test_silence_before_the_head_is_a_read_timeout():
    async def serve(up, reader, writer):
        await asyncio.sleep(30)

    async with Upstream(serve) as up, client() as c:
        began = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await c.get(up.url, timeout=httpx.Timeout(5, read=0.2))
    assert 0.2 <= time.monotonic() - began < 2


async def test_closed_port_is_a_connect_error():
    port = free_port()
    async with client() as c:
        with pytest.raises(httpx.ConnectError, match=f"127.0.0.1:{port}") as e:
            await c.get(f"http://127.0.0.1:{port}/health")
    assert e.value.request.url.port == port


async def test_unknown_scheme_and_header_injection_are_refused():
    async with client() as c:
        with pytest.raises(httpx.UnsupportedProtocol):
            await c.get("ftp://127.0.0.1/")
    async with Upstream(keep_answering) as up, client() as c:
        with pytest.raises(httpx.LocalProtocolError):
            await c.get(up.url, headers={"X-A": "1\r\nX-Injected: 2"})
    assert up.requests == []


# --- TLS ----------------------------------------------------------------------------------------

def self_signed(tmp_path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jaju test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return server, ssl.create_default_context(cafile=tmp_path / "cert.pem")


async def test_https_is_verified(tmp_path):
    server, trusting = self_signed(tmp_path)
    async with Upstream(keep_answering, tls=server) as up:
        async with client(ssl_context=trusting) as c:
            replies = [await c.get(up.url) for _ in range(2)]
        async with client() as c:  # the system's trust store does not know this certificate
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await c.get(up.url)
    assert [r.json() for r in replies] == [ANSWER] * 2 and len(up.requests) == 2


async def test_egress_guard_uses_it_by_default():
    async with Upstream(keep_answering) as up:
        guard = EgressGuard({("127.0.0.1", up.port)}, None)
        async with httpx.AsyncClient(transport=guard) as c:
            replies = [await c.get(up.url) for _ in range(2)]
    assert isinstance(guard._inner, Http1Transport)
    assert [r.json() for r in replies] == [ANSWER] * 2 and up.accepts == 1
