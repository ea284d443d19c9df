"""200 malformed or hostile requests against the real `sieve serve`: bad
JSON, wrong types, 10 MB bodies (declared and chunked), broken HTTP, slow
clients, clients that leave mid-stream or before their answer. Every one
must be answered (a 4xx, or a 200 for a stream) or closed cleanly, never
left hanging; a stream whose client left must stop generating early; the
server must still answer normally afterwards, with its memory flat.

usage: hostile_test.py SIEVE MODEL [--no-rss]
(--no-rss: a sanitizer build, whose allocator keeps freed memory on purpose;
LeakSanitizer checks for leaks at exit instead)"""

import concurrent.futures
import json
import random
import socket
import sys
import threading
import time

from serve_process import Checks, ServeProcess

TIMEOUT = 2          # the server's --timeout: slow clients are dropped after this
HANG = 20            # no answer and no close within this many seconds is a hang
TEN_MB = 10 * 1024 * 1024


def exchange(server, raw, body_chunks=(), read=True, close_early=False, shut_write=False):
    """Sends `raw` (and then each of body_chunks), reads until the server
    closes. Returns the HTTP status, 'closed' (closed or reset without an
    answer) or 'hang'."""
    s = socket.create_connection((server.host, server.port), timeout=HANG)
    try:
        try:
            s.sendall(raw)
            for chunk in body_chunks:
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused the rest; its answer may still be there to read
        if shut_write:
            s.shutdown(socket.SHUT_WR)
        if close_early:
            return "closed"
        if not read:
            return None
        data = b""
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                data += got
        except ConnectionResetError:
            pass
        except socket.timeout:
            return "hang"
        if data.startswith(b"HTTP/1.1 "):
            return int(data[9:12])
        return "closed"
    finally:
        s.close()


def post(path, body, extra_headers=b""):
    if isinstance(body, str):
        body = body.encode()
    return (b"POST /v1/" + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n" + extra_headers +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


CHAT = {"messages": [{"role": "user", "content": "Tell me a story"}], "max_tokens": 8}


def malformed_json(rng):
    valid = json.dumps(CHAT)
    cases = [valid[:rng.randrange(1, len(valid) - 1)] for _ in range(20)]
    cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(10)]
    cases += ["", "null", "[]", "42", "\"str\"", '{"messages": [{"role": "user", "content": "\xff"}]}'.encode("latin-1"),
              b'{"messages": "\xc3\x28"}', "{" * 5000, "[" * 200000, '{"a":' * 100000]
    return [(post("chat/completions", c), {400}) for c in cases]


def wrong_types():
    bad = [{"messages": 5}, {"messages": [1]}, {"messages": [{"role": "user", "content": 5}]},
           {"messages": [{"role": ["user"], "content": "x"}]}, {"messages": [{"role": "robot", "content": "x"}]},
           {**CHAT, "temperature": "1"}, {**CHAT, "temperature": 1e308}, {**CHAT, "temperature": -1},
           {**CHAT, "top_p": [1]}, {**CHAT, "max_tokens": -5}, {**CHAT, "max_tokens": 10**15},
           {**CHAT, "max_tokens": 10**40}, {**CHAT, "max_tokens": "8"}, {**CHAT, "stop": {"a": 1}},
           {**CHAT, "stop": [None]}, {**CHAT, "seed": 1.5}, {**CHAT, "seed": "x"}, {**CHAT, "stream": 1},
           {**CHAT, "n": 3}, {**CHAT, "stream_options": "yes"}, {**CHAT, "messages": []},
           {**CHAT, "messages": [{"role": "assistant", "content": "only me"}]},
           {**CHAT, "messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "late"}]}]
    cases = [(post("chat/completions", json.dumps(b)), {400}) for b in bad]
    text_bad = [{"prompt": 1}, {"prompt": None}, {"prompt": ["a", "b"]}, {"prompt": [[1, 2]]}, {"prompt": "x", "echo": 1},
                {"prompt": "x", "max_tokens": 0}, {"prompt": "x", "suffix": 2}]
    cases += [(post("completions", json.dumps(b)), {400}) for b in text_bad]
    return cases  # 30


def huge_bodies():
    head = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(TEN_MB).encode() + b"\r\n\r\n")
    declared = [(head, [b"[" * (1 << 20)] * 10) for _ in range(6)]
    chunked_head = (b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = hex(1 << 20)[2:].encode() + b"\r\n" + b"a" * (1 << 20) + b"\r\n"
    chunked = [(chunked_head, [chunk] * 10 + [b"0\r\n\r\n"]) for _ in range(4)]
    return [(raw, {413, 400, "closed"}, chunks) for raw, chunks in declared + chunked]  # 10


def broken_http():
    cases = [b"GARBAGE\r\n\r\n", b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"POST /v1/completions\r\n\r\n",
             b"POST /v1/completions HTTP/9.9\r\n\r\n",
             b"POST /v1/completions HTTP/1.1\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
             b"POST /v1/completions HTTP/1.1\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
             b"POST /v1/completions HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\nConnection: close\r\n\r\n",
             b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nConnection: close\r\n\r\n",
             b"GET /v1/models HTTP/1.1\r\nX-Big: " + b"b" * 100000 + b"\r\nConnection: close\r\n\r\n",
             b"POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
             b"DELETE /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n",
             b"GET /v1/models/nope HTTP/1.1\r\nConnection: close\r\n\r\n",
             b"GET /../../etc/passwd HTTP/1.1\r\nConnection: close\r\n\r\n",
             b"POST /v1/models HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
             b"GET /v1/chat/completions HTTP/1.1\r\nConnection: close\r\n\r\n",
             b"OPTIONS /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n",
             b"POST /v1/chat/completions HTTP/1.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
             b"POST /v1/completions HTTP/1.1\r\nConnection: close\r\nContent-Type: text/plain\r\n"
             b"Content-Length: 5\r\n\r\nhello"]
    cases.append(b"GET /v1/models/stories260K HTTP/1.1\r\nConnection: close\r\n\r\n")
    errors = [(raw, {400, 404, 405, 413, 414, 431, 501, 505, "closed"}) for raw in cases]
    # 40 KB of small headers is legal HTTP: answered normally
    many_headers = b"GET /v1/models HTTP/1.1\r\n" + b"X-H: 1\r\n" * 5000 + b"Connection: close\r\n\r\n"
    return errors[:-1] + [(errors[-1][0], {200}), (many_headers, {200, 400, 431, "closed"})]  # 21


def slow_client(server, results, i):
    """Sends half a request, then nothing: the server must drop it after its timeout."""
    start = time.monotonic()
    s = socket.create_connection((server.host, server.port), timeout=HANG)
    try:
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":")
        data = s.recv(65536)  # waits for the server to answer or close
        outcome = int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else "closed"
    except ConnectionResetError:
        outcome = "closed"
    except socket.timeout:
        outcome = "hang"
    finally:
        s.close()
    results[i] = (outcome, time.monotonic() - start)


def trickling_client(server, results, i):
    """Sends its headers a byte at a time, slower than the timeout allows between them."""
    s = socket.create_connection((server.host, server.port), timeout=HANG)
    outcome = "hang"
    try:
        for b in b"GET /v1/models HTTP/1.1\r\nHost: x\r\n":
            s.sendall(bytes([b]))
            time.sleep(TIMEOUT + 0.5)
            break  # one byte, then silence longer than the timeout
        data = s.recv(65536)
        outcome = int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else "closed"
    except (ConnectionResetError, BrokenPipeError):
        outcome = "closed"
    except socket.timeout:
        outcome = "hang"
    finally:
        s.close()
    results[i] = (outcome, 0)


def leave_mid_stream(server, max_tokens, events=3):
    """Starts a long stream, reads its first `events` events or comments, leaves. 200 expected."""
    body = json.dumps({"messages": [{"role": "user", "content": "Tell me a long story"}], "stream": True,
                       "max_tokens": max_tokens})
    s = socket.create_connection((server.host, server.port), timeout=HANG)
    try:
        s.sendall(post("chat/completions", body))
        data = b""
        while data.count(b"data: ") + data.count(b"\n: ") < events:
            got = s.recv(4096)
            if not got:
                break
            data += got
        return int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else "closed"
    except socket.timeout:
        return "hang"
    finally:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset, at once
        s.close()


def normal_request_works(server):
    status, body = server.request("/chat/completions", CHAT, timeout=HANG)
    return status == 200 and body["usage"]["completion_tokens"] > 0


def main(sieve, model, check_rss=True):
    rng = random.Random(19)
    c = Checks()
    with ServeProcess(sieve, model, "--timeout", str(TIMEOUT), "--max-waiting", "64") as server:
        for _ in range(5):  # warm up: buffers, threads, the chat template
            normal_request_works(server)
        rss_before = server.rss_kib()
        outcomes = []

        def record(kind, outcome, allowed):
            outcomes.append((kind, outcome, outcome in allowed))

        # Slow clients first, in the background: the rest must be served meanwhile.
        slow_results = {}
        slow_threads = [threading.Thread(target=slow_client, args=(server, slow_results, i)) for i in range(8)]
        slow_threads += [threading.Thread(target=trickling_client, args=(server, slow_results, 8 + i)) for i in range(2)]
        for t in slow_threads:
            t.start()
        started = time.monotonic()
        c.check(normal_request_works(server), "a normal request is answered while 10 slow clients hold connections")
        c.check(time.monotonic() - started < TIMEOUT, "... without waiting for them")

        # The requests that each get one answer, eight at a time.
        batch = [("malformed JSON", raw, allowed, ()) for raw, allowed in malformed_json(rng)]
        batch += [("wrong type", raw, allowed, ()) for raw, allowed in wrong_types()]
        batch += [("10 MB body", raw, allowed, chunks) for raw, allowed, chunks in huge_bodies()]
        batch += [("broken HTTP", raw, allowed, ()) for raw, allowed in broken_http()]
        # half a body, then the write side shut: the server must not wait for the rest forever
        half = post("completions", json.dumps({"prompt": "x" * 50}))[:-20]
        batch += [("half a body", half, {400, "closed"}, ()) for _ in range(9)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            done = pool.map(lambda case: (case[0], exchange(server, case[1], case[3], shut_write=case[0] == "half a body"),
                                          case[2]), batch)
            for kind, outcome, allowed in done:
                record(kind, outcome, allowed)
        for i in range(40):
            record("leaves mid-stream", leave_mid_stream(server, 1500), {200})
        for i in range(20):  # sends a whole request, leaves before the answer
            body = json.dumps({**CHAT, "max_tokens": 200, "stream": i % 2 == 0})
            record("leaves before the answer", exchange(server, post("chat/completions", body), close_early=True),
                   {"closed"})
        # 20 streams at once: most wait in the queue (sending comment lines), and each leaves
        # after its first bytes, so the queue must skip the places given up.
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            for outcome in pool.map(lambda i: leave_mid_stream(server, 400, events=1), range(20)):
                record("leaves while queued", outcome, {200})
        for t in slow_threads:
            t.join(HANG + 5)
        for i, (outcome, seconds) in sorted(slow_results.items()):
            record("slow client", outcome, {400, 408, "closed"})

        total = len(outcomes)
        bad = [(k, o) for k, o, ok in outcomes if not ok]
        hangs = [(k, o) for k, o, _ in outcomes if o == "hang"]
        c.check(total == 200, f"{total} hostile requests sent")
        c.check(not hangs, f"none left hanging ({len(hangs)} hung: {hangs[:5]})")
        c.check(not bad, f"each answered as expected or closed ({len(bad)} not: {bad[:8]})")
        c.check(server.alive(), "the server is still running")
        time.sleep(0.5)  # the last streams' cancellations reach the log
        cancelled = [int(line.split()[-2]) for line in server.log() if line.startswith("client left")]
        c.check(len(cancelled) >= 30 and max(cancelled) < 1500,
                f"streams whose client left stopped early: {len(cancelled)} cancelled, after at most "
                f"{max(cancelled) if cancelled else '-'} of 1500 tokens")
        c.check(normal_request_works(server), "a normal request still works afterwards")
        rss_after = server.rss_kib()
        c.check(not check_rss or rss_after - rss_before < 16 * 1024,
                f"memory flat: RSS {rss_before // 1024} MiB before, {rss_after // 1024} MiB after (bound +16 MiB)")
        c.check(server.stop() == 0, "SIGTERM: exit code 0")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], check_rss="--no-rss" not in sys.argv[3:])
