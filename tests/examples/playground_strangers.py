#!/usr/bin/env python3
"""The playground's server against strangers: bytes, origins and sockets that
must not stop it, answered by the running program over real TCP.

Checks, each against the same server:
- request paths, headers and bodies that are not UTF-8 or are cut
  mid-character, and request lines that are not HTTP, each get a 4xx JSON
  error, and the server still serves;
- a request from another origin (a foreign Origin, "null", another loopback
  name) is refused before it can take a session or touch one;
- a 500 MB chunked body, streamed, is refused at 64 KiB while the server's
  peak memory stays within 100 MB of its start; so is a Content-Length of
  500 MB;
- 300 idle connections, 50 event streams and 30 slow-loris connections (a
  header byte every half second) open at once, while a page and an API
  request are each answered in under a second;
- a session whose event stream leaves stops training MNIST and is freed
  after its grace period;
- a server out of descriptors (RLIMIT_NOFILE 200) closes the connections
  that have waited longest for a request to make room for a new client.

    python3 tests/examples/playground_strangers.py PLAYGROUND [SANITIZE]
"""
import atexit
import http.client
import json
import os
import random
import resource
import select
import shutil
import socket
import sys
import tempfile
import threading
import time

from playground_api import Events, Server
from seven_segment import write_set

GRACE = 2  # --session-grace for this server, in seconds


def answer_of(sock):
    """The status and JSON object of the response on sock."""
    r = http.client.HTTPResponse(sock)
    r.begin()
    body = r.read()
    assert r.getheader("Content-Type", "").startswith("application/json"), (r.status, body[:200])
    return r.status, json.loads(body.decode("utf-8"))  # strict: the answer is valid UTF-8


def send_raw(port, data, timeout=10):
    """Sends bytes as they are (half-closing after them) and returns the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return answer_of(sock)
    finally:
        sock.close()


def refused(answer, status=None):
    code, body = answer
    assert 400 <= code < 500 and (status is None or code == status), answer
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], answer
    return body


def check_bytes(s):
    host = f"Host: 127.0.0.1:{s.port}\r\n".encode()
    sid = s.session()
    for path in (b"/%ff", b"/%c3", b"/%c0%ae", b"/%c0%ae%c0%ae/etc/passwd", b"/\xff", b"/\xc3",
                 b"/api/sessions/\xff\xfe/config", b"/" + b"\xe2\x98\x83" * 300, b"/%ff" * 2000):
        body = refused(send_raw(s.port, b"GET " + path + b" HTTP/1.1\r\n" + host + b"\r\n"), 404)
        assert "no such path" in body["error"], (path[:40], body)
    for method in (b"POST", b"PUT", b"DELETE"):
        refused(send_raw(s.port, method + b" /%ff%c3 HTTP/1.1\r\n" + host + b"Content-Length: 0\r\n\r\n"))
    # A path longer than the header limit.
    refused(send_raw(s.port, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n" + host + b"\r\n"), 431)
    for value in (b"127.0.0.1:\xc3", b"\xff\xfe", b"\xe2\x98\x83" * 40 + b"\xe2", b""):
        body = refused(send_raw(s.port, b"GET / HTTP/1.1\r\nHost: " + value + b"\r\n\r\n"))
        assert body["field"] == "Host", body
    refused(send_raw(s.port, b"GET / HTTP/1.1\r\n\r\n"), 400)
    for header in (b"X-\xff: 1\r\n", b"Origin: \xc3\r\n", b"Origin: http://\xe2\x98\x83\r\n",
                   b"Content-Length: \xff\r\n", b"Content-Length: -1\r\n", b"Transfer-Encoding: \xc3\r\n"):
        refused(send_raw(s.port, b"POST /api/sessions HTTP/1.1\r\n" + host + header + b"\r\n"))
    # JSON keys and values cut mid-character where the server quotes them.
    snowmen = "\u2603" * 30
    for target, body in ((f"/api/sessions/{sid}/config", {snowmen: 1}),
                         (f"/api/sessions/{sid}/config", {"dataset": snowmen}),
                         (f"/api/sessions/{sid}/play", {snowmen: 1}),
                         (f"/api/sessions/{sid}/mnist/predict", {"pixels": [snowmen] + [0] * 783})):
        data = json.dumps(body, ensure_ascii=False).encode()
        request = (f"POST {target} HTTP/1.1\r\n".encode() + host +
                   f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        refused(send_raw(s.port, request), 400)
    # Bodies that are not UTF-8 JSON.
    for data in (b'{"\xff": 1}', b'{"dataset": "\xc3"}', b'{"dataset": "\xed\xa0\x80"}', b"\x00" * 100):
        request = (f"POST /api/sessions/{sid}/config HTTP/1.1\r\n".encode() + host +
                   f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        refused(send_raw(s.port, request), 400)
    # A chunked body a byte at a time: its last chunk split as TCP may split it.
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(f"POST /api/sessions/{sid}/pause HTTP/1.1\r\n".encode() + host + b"Transfer-Encoding: chunked\r\n\r\n")
    for byte in b"2\r\n{}\r\n0\r\n\r\n":
        sock.sendall(bytes([byte]))
        time.sleep(0.01)
    assert answer_of(sock) == (200, {}), "a chunked body sent a byte at a time"
    sock.close()
    # Lines that are not HTTP, and random bytes.
    for data in (b"GET\r\n\r\n", b"\x00\x01\x02\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET / HTTP/1.1\r\n",
                 b"POST /api/sessions HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"):
        refused(send_raw(s.port, data))
    rng = random.Random(31)
    for _ in range(200):
        refused(send_raw(s.port, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))))
    status, page, _ = s.request("GET", "/")
    assert status == 200 and b"<html" in page, status
    s.ok("POST", f"/api/sessions/{sid}/close")


def check_origins(s):
    own = f"http://127.0.0.1:{s.port}"
    foreign = ["http://evil", "null", f"http://localhost:{s.port}", f"https://127.0.0.1:{s.port}",
               f"http://127.0.0.1:{s.port + 1}", own + "/", own + ".evil"]
    for origin in foreign * 2:
        status, answer, _ = s.request("POST", "/api/sessions", headers={"Origin": origin})
        assert status == 403 and answer["field"] == "Origin", (origin, status, answer)
    # The foreign requests took no session: all eight are the page's.
    sids = []
    for _ in range(8):
        status, answer, _ = s.request("POST", "/api/sessions", headers={"Origin": own})
        assert status == 201, (status, answer)
        sids.append(answer["id"])
    status, answer, _ = s.request("POST", "/api/sessions", headers={"Origin": own})
    assert status == 503, (status, answer)
    for path in ("play", "step", "config", "close", "mnist/play"):
        status, answer, _ = s.request("POST", f"/api/sessions/{sids[0]}/{path}", "{}",
                                      headers={"Origin": "http://evil"})
        assert status == 403 and answer["field"] == "Origin", (path, status, answer)
    for path in (f"/api/sessions/{sids[0]}/events", f"/api/sessions/{sids[0]}/export.cpp", "/"):
        status, answer, _ = s.request("GET", path, headers={"Origin": "http://evil"})
        assert status == 403 and answer["field"] == "Origin", (path, status, answer)
    # The same origin under another loopback name is this server's own.
    status, answer, _ = s.request("POST", f"/api/sessions/{sids[0]}/step",
                                  headers={"Host": f"localhost:{s.port}", "Origin": f"http://localhost:{s.port}"})
    assert status == 200, (status, answer)
    for sid in sids:
        s.ok("POST", f"/api/sessions/{sid}/close")


def memory_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


def check_big_body(s):
    sid = s.session()
    start = memory_kib(s.proc.pid, "VmRSS")
    with open(f"/proc/{s.proc.pid}/clear_refs", "w") as f:
        f.write("5")  # starts the peak (VmHWM) again from here
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=20)
    sock.sendall(f"POST /api/sessions/{sid}/config HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n"
                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    sent = 0
    try:
        while sent < 500 * 2 ** 20 and not select.select([sock], [], [], 0)[0]:
            sock.sendall(chunk)
            sent += 0x10000
    except (BrokenPipeError, ConnectionResetError):
        pass
    body = refused(answer_of(sock), 413)
    sock.close()
    assert "65536 bytes" in body["error"], body
    assert sent < 100 * 2 ** 20, f"the server read {sent >> 20} MB before refusing"
    peak = memory_kib(s.proc.pid, "VmHWM")
    assert peak - start < 100 * 1024, f"{start} KiB at the start, {peak} KiB at the peak"
    head = f"POST /api/sessions/{sid}/config HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Length: 500000000\r\n\r\n"
    refused(send_raw(s.port, head.encode() + b"{"), 413)
    s.ok("POST", f"/api/sessions/{sid}/config", {"noise": 5})
    s.ok("POST", f"/api/sessions/{sid}/close")
    return sent >> 10, peak - start


def timed(s, method, path):
    start = time.time()
    status, _, _ = s.request(method, path, timeout=30)
    assert status == 200, (method, path, status)
    return time.time() - start


def check_crowd(s):
    sids = [s.session() for _ in range(5)]
    idle = [socket.create_connection(("127.0.0.1", s.port), timeout=30) for _ in range(300)]
    streams = [Events(s.port, sids[i % 5]) for i in range(50)]
    loris = [socket.create_connection(("127.0.0.1", s.port), timeout=30) for _ in range(30)]
    stop = threading.Event()

    def drip():
        partial = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nX-Slow: ".encode()
        for sock in loris:
            sock.sendall(partial)
        while not stop.wait(0.5):
            for sock in loris:
                sock.sendall(b"a")

    dripper = threading.Thread(target=drip)
    dripper.start()
    try:
        times = []
        for i in range(10):
            times.append(timed(s, "GET", "/"))
            times.append(timed(s, "POST", f"/api/sessions/{sids[i % 5]}/step"))
            time.sleep(0.2)
        # Every stream is live: its first state event has come.
        for ev in streams:
            ev.next("state", deadline=20)
        assert max(times) < 1, f"answers took up to {max(times):.2f} s with the crowd open"
    finally:
        stop.set()
        dripper.join()
        for sock in idle + loris:
            sock.close()
        for ev in streams:
            ev.close()
    return max(times)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy(pid, seconds=1.0):
    """The server's CPU use over the next seconds, in cores."""
    before, start = cpu_seconds(pid), time.time()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.time() - start)


def check_left_session(s):
    sid = s.session()
    ev = Events(s.port, sid)
    s.ok("POST", f"/api/sessions/{sid}/mnist/play")
    ev.next("mnist", lambda d: d["epoch"] >= 1, deadline=60)
    playing = busy(s.proc.pid)
    ev.close()
    time.sleep(0.3)
    left = busy(s.proc.pid)
    assert left < 0.2, f"with its page gone the session still uses {left:.2f} cores ({playing:.2f} while playing)"
    # Within the grace period the session is still there, paused.
    ev = Events(s.port, sid)
    assert ev.next("mnist")["playing"] is False
    ev.close()
    time.sleep(GRACE + 1.5)
    status, answer, _ = s.request("POST", f"/api/sessions/{sid}/step")
    assert status == 404 and "no session" in answer["error"], (status, answer)
    return playing, left


def check_full(exe):
    """Idle sockets past the descriptor limit make room for a real client."""
    limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))
    s = Server(exe, preexec_fn=limit)
    try:
        idle = [socket.create_connection(("127.0.0.1", s.port), timeout=10) for _ in range(300)]
        time.sleep(0.3)
        answer_time = timed(s, "GET", "/")
        closed = 0
        for sock in idle:
            sock.setblocking(False)
            try:
                closed += sock.recv(1) == b""
            except BlockingIOError:
                pass
            sock.close()
        assert answer_time < 1, f"the page took {answer_time:.2f} s with the descriptors used up"
        # 200 descriptors less a reserve of 128 for the program's own files
        # leave 72 connections: about 229 of the 301 made room (a few FINs
        # may still be on their way).
        assert closed >= 200, f"only {closed} of 300 idle connections were closed to make room"
        assert s.proc.poll() is None, s.stderr()
        return closed, answer_time
    finally:
        s.stop()


def main(exe, sanitize=""):
    data = tempfile.mkdtemp()
    atexit.register(shutil.rmtree, data, ignore_errors=True)
    rng = random.Random(1)
    write_set(data, "train", 600, rng)
    write_set(data, "t10k", 100, rng)
    s = Server(exe, "--data", data, "--threads", "1", "--session-grace", str(GRACE))
    try:
        checks = [("bytes", lambda: check_bytes(s)),
                  ("origins", lambda: check_origins(s)),
                  ("500 MB chunked body (KiB sent before the refusal, KiB peak growth)", lambda: check_big_body(s)),
                  ("crowd (slowest answer, s)", lambda: check_crowd(s)),
                  ("left session (cores playing, after)", lambda: check_left_session(s))]
        for name, check in checks:
            start = time.time()
            try:
                figures = check()
            except BaseException:
                time.sleep(0.5)
                print(f"{name}: FAILED; the server's stderr:\n{s.stderr()}", file=sys.stderr)
                raise
            assert s.proc.poll() is None, f"the server stopped: {s.stderr()}"
            shown = f" {figures}" if figures is not None else ""
            print(f"{name}: ok{shown} ({time.time() - start:.1f} s)", flush=True)
    finally:
        s.stop()
    start = time.time()
    figures = check_full(exe)
    print(f"out of descriptors (idle connections closed, answer s): ok {figures} ({time.time() - start:.1f} s)")


if __name__ == "__main__":
    main(*sys.argv[1:])
