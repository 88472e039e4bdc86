#!/usr/bin/env python3
"""The playground's server through its HTTP API, as a page or a script uses it.

Starts build/examples/playground on a free port with small
seven-segment MNIST files, and checks:
- a session's defaults, and that the same config and seed give the same
  losses in two sessions (a different seed, other ones);
- the exported C++ program, compiled against this build, prints exactly the
  losses the server reported;
- the state event: 50 x 50 heat maps for the output and every neuron, the
  weights' shapes, the history appended epoch by epoch;
- one point's backpropagation: forward then backward, each pass in rising
  node ids (the backward one the forward graph's reverse order), every node
  in the SVG as g#n<ID>, and a node's value and gradient;
- the MNIST network trains, predicts a drawn digit, and refuses bad pixels;
- a thousand malformed requests each get a 4xx JSON error naming the
  problem, and the server still serves; a foreign Host header gets 403;
- the session limit, and Ctrl-C stopping the server with a stream open.

    python3 tests/examples/playground_api.py PLAYGROUND BUILD_DIR [SANITIZE]
"""
import atexit
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from seven_segment import digit, write_set


class Server:
    def __init__(self, exe, *flags, **popen):
        # The server's stderr goes to a file (a sanitizer's report can be
        # long), shown when a check fails.
        self.errors = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([exe, "--port", "0"] + list(flags), stdout=subprocess.PIPE,
                                     stderr=self.errors, text=True, **popen)
        line = self.proc.stdout.readline()
        m = re.match(r"playground: serving http://127\.0\.0\.1:(\d+)/", line)
        assert m, (line, self.stderr())
        self.port = int(m.group(1))

    def stderr(self):
        self.errors.seek(0)
        return self.errors.read()

    def request(self, method, path, body=None, headers=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        if method == "POST" and data is None:
            data = ""
        c.request(method, path, body=data, headers=headers or {})
        r = c.getresponse()
        payload = r.read()
        c.close()
        ctype = r.getheader("Content-Type", "")
        return r.status, (json.loads(payload) if ctype.startswith("application/json") else payload), r

    def ok(self, method, path, body=None):
        status, answer, _ = self.request(method, path, body)
        assert status in (200, 201), (method, path, status, answer)
        return answer

    def session(self, config=None):
        sid = self.ok("POST", "/api/sessions")["id"]
        if config:
            self.ok("POST", f"/api/sessions/{sid}/config", config)
        return sid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Events:
    """An event stream, read event by event."""

    def __init__(self, port, sid):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.sendall(f"GET /api/sessions/{sid}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        self.buffer = b""
        self.text = b""  # event text read but not yet returned
        head = self._until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert b"text/event-stream" in head, head

    def _until(self, mark):
        while mark not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the stream ended"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(mark, 1)
        return head

    def next(self, name, where=lambda data: True, deadline=60):
        """The next event called name whose data satisfies where."""
        end = time.time() + deadline
        while time.time() < end:
            while b"\n\n" in self.text:
                block, self.text = self.text.split(b"\n\n", 1)
                lines = block.decode().split("\n")
                if lines[0] == "event: " + name:
                    data = json.loads(lines[1][len("data: "):])
                    if where(data):
                        return data
            # Chunked transfer: each chunk is "<hex size>\r\n<data>\r\n".
            size = int(self._until(b"\r\n"), 16)
            while len(self.buffer) < size + 2:
                self.buffer += self.sock.recv(65536)
            self.text += self.buffer[:size]
            self.buffer = self.buffer[size + 2:]
        raise AssertionError(f"no {name} event within {deadline} s")

    def close(self):
        self.sock.close()


def check_sessions_and_determinism(s):
    sid = s.session()
    status, answer, _ = s.request("POST", f"/api/sessions/{sid}/config", {})
    assert status == 200 and answer["config"]["dataset"] == "circle", answer
    assert answer["config"]["hidden"] == [4, 2] and answer["config"]["learning_rate"] == 0.03, answer

    spiral = {"dataset": "spiral", "features": ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"],
              "hidden": [8, 8], "regularization": "l2", "regularization_rate": 0.001, "seed": 7,
              "learning_rate": 0.1, "noise": 10}
    histories = []
    for config in (spiral, spiral, dict(spiral, seed=8)):
        sid = s.session(config)
        for _ in range(5):
            s.ok("POST", f"/api/sessions/{sid}/step")
        ev = Events(s.port, sid)
        state = ev.next("state")
        ev.close()
        assert state["epoch"] == 5 and len(state["history"]["train"]) == 6, state["epoch"]
        histories.append(state["history"])
    assert histories[0] == histories[1], "the same config and seed gave other losses"
    assert histories[0] != histories[2], "another seed gave the same losses"
    assert histories[0]["train"][5] < histories[0]["train"][0], histories[0]


def check_export(s, build, sanitize):
    config = {"dataset": "xor", "features": ["x1", "x2", "x1x2"], "hidden": [3], "activation": "relu",
              "regularization": "l1", "regularization_rate": 0.003, "batch_size": 7, "seed": 3}
    sid = s.session(config)
    for _ in range(4):
        s.ok("POST", f"/api/sessions/{sid}/step")
    ev = Events(s.port, sid)
    history = ev.next("state")["history"]
    ev.close()
    status, program, r = s.request("GET", f"/api/sessions/{sid}/export.cpp")
    assert status == 200 and "attachment" in r.getheader("Content-Disposition"), status
    status, dot, _ = s.request("GET", f"/api/sessions/{sid}/export.dot")
    assert status == 200 and dot.startswith(b"digraph"), dot[:40]
    for scope in (b"hidden1", b"output", b"loss", b"penalty"):
        assert b"cluster_" + scope in dot or scope in dot, scope

    folder = tempfile.mkdtemp()
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    source = os.path.join(folder, "network.cpp")
    with open(source, "wb") as f:
        f.write(program)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(build, "meson-uninstalled"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "dagrad"], env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    extra = ["-fsanitize=" + sanitize] if sanitize and sanitize != "none" else []
    # The uninstalled .pc files name each part's own folders; the umbrella
    # header's folder and the libraries' run path are the source tree's.
    source_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    extra += ["-I" + os.path.join(source_root, "lib", "include")]
    extra += ["-Wl,-rpath," + os.path.join(os.path.abspath(build), "lib", part)
              for part in ("core", "io", "viz", "nn", "ml", "onnx", "cli")]
    exe = os.path.join(folder, "network")
    r = subprocess.run(["c++", "-std=c++20", "-O1", "-Wall", "-Wextra", "-Werror",
                        # dagrad's options structs are filled by designated initializers
                        "-Wno-missing-field-initializers", source, "-o", exe] + flags + extra,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run([exe, "4"], capture_output=True, text=True, cwd=folder)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 5, r.stdout
    for epoch, line in enumerate(lines):
        m = re.fullmatch(r"epoch (\d+): train loss (\S+), test loss (\S+)", line)
        assert m and int(m.group(1)) == epoch, line
        assert float(m.group(2)) == history["train"][epoch], (line, history["train"][epoch])
        assert float(m.group(3)) == history["test"][epoch], (line, history["test"][epoch])


def check_state_and_graph(s):
    sid = s.session({"hidden": [3, 5], "features": ["x1", "x2", "sinx1"]})
    ev = Events(s.port, sid)
    data = ev.next("data")
    assert [l["units"] for l in data["layers"]] == [3, 3, 5, 1], data["layers"]
    assert len(data["train"]) == 250 and len(data["test"]) == 250, (len(data["train"]), len(data["test"]))
    first = ev.next("state")
    assert first["epoch"] == 0 and "history" in first, first.keys()
    maps = first["heatmaps"]
    import base64
    assert len(base64.b64decode(maps["output"])) == 2500
    assert [len(layer) for layer in maps["neurons"]] == [3, 3, 5], maps["neurons"]
    assert all(len(base64.b64decode(m)) == 2500 for layer in maps["neurons"] for m in layer)
    # x1's heat map rises from left to right: byte -127 at the left edge, +127 at the right.
    x1 = [b - 256 if b > 127 else b for b in base64.b64decode(maps["neurons"][0][0])]
    assert x1[0] == -127 and x1[49] == 127, (x1[0], x1[49])
    assert [(len(w["w"]), len(w["w"][0]), len(w["b"])) for w in first["weights"]] == [(3, 3, 3), (3, 5, 5), (5, 1, 1)]
    s.ok("POST", f"/api/sessions/{sid}/step")
    second = ev.next("state", lambda d: d["epoch"] == 1)
    assert "history" not in second and second["train_loss"] != first["train_loss"], second.keys()
    s.ok("POST", f"/api/sessions/{sid}/reset")
    again = ev.next("state", lambda d: d["epoch"] == 0)
    assert again["history"]["train"] == first["history"]["train"], "a reset did not start from the seed's weights"
    ev.close()

    s.ok("POST", f"/api/sessions/{sid}/step")
    status, svg, r = s.request("GET", f"/api/sessions/{sid}/graph.svg")
    assert status == 200 and r.getheader("Content-Type") == "image/svg+xml" and b"<svg" in svg, status
    answer = s.ok("POST", f"/api/sessions/{sid}/backprop", {"point": 12})
    steps = answer["steps"]
    assert answer["point"] == data["train"][12], answer["point"]
    passes = [st["pass"] for st in steps]
    assert passes == sorted(passes, key=lambda p: p == "backward") and "backward" in passes, passes
    for p in ("forward", "backward"):
        ids = [st["node"] for st in steps if st["pass"] == p]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), (p, ids)
    for st in steps:
        assert f'id="n{st["node"]}"' in answer["svg"], st
        assert st["text"].startswith(st["name"] + " "), st
    # The backward pass is the forward graph's reverse topological order:
    # for every forward edge u -> v, v's gradient comes before u's.
    position = {st["name"]: i for i, st in enumerate(steps) if st["pass"] == "backward"}
    edges = 0
    for st in steps:
        if st["pass"] != "forward":
            continue
        for u in s.ok("GET", f"/api/sessions/{sid}/nodes/{st['node']}")["inputs"]:
            u_name = s.ok("GET", f"/api/sessions/{sid}/nodes/{u}")["name"]
            v_grad, u_grad = f"grad({st['name']})", f"grad({u_name})"
            if v_grad in position and u_grad in position:
                assert position[v_grad] < position[u_grad], (v_grad, u_grad)
                edges += 1
    assert edges >= 8, edges
    z = next(st["node"] for st in steps if st["name"] == "hidden1/z")
    node = s.ok("GET", f"/api/sessions/{sid}/nodes/{z}")
    assert node["name"] == "hidden1/z" and node["op"] == "add" and node["role"] == "forward", node
    assert len(node["value"]) == 10 and len(node["value"][0]) == 3, node["value"]  # the last batch of 10
    assert node["grad"]["name"] == "grad(hidden1/z)" and len(node["grad"]["value"]) == 10, node["grad"]
    status, answer, _ = s.request("GET", f"/api/sessions/{sid}/nodes/99999")
    assert status == 404 and "99999" in answer["error"], answer


def check_mnist(s):
    sid = s.session()
    status, answer, _ = s.request("POST", f"/api/sessions/{sid}/mnist/predict", {"pixels": [0] * 784})
    assert status == 409 and "press play" in answer["error"], answer
    ev = Events(s.port, sid)
    s.ok("POST", f"/api/sessions/{sid}/mnist/play")
    state = ev.next("mnist", lambda d: d["epoch"] >= 20, deadline=120)
    s.ok("POST", f"/api/sessions/{sid}/mnist/pause")
    ev.close()
    assert state["train_rows"] == 600 and len(state["loss_curve"]) >= 2, state
    assert state["loss_curve"][-1] < state["loss_curve"][0], state["loss_curve"]
    import base64
    assert len(base64.b64decode(state["weights"])) == 50 * 784
    rng = random.Random(5)
    right = 0
    for label in range(10):
        pixels = [b / 255 for b in digit(label, rng)]
        answer = s.ok("POST", f"/api/sessions/{sid}/mnist/predict", {"pixels": pixels})
        assert 0 <= answer["digit"] <= 9 and abs(sum(answer["probabilities"]) - 1) < 1e-6, answer
        right += answer["digit"] == label
    assert right >= 5, f"only {right} of 10 drawn digits recognised"
    for pixels, needle in (([0.5] * 783, "784 numbers"), ([2] + [0] * 783, "entry 0"), (["x"] * 784, "entry 0")):
        status, answer, _ = s.request("POST", f"/api/sessions/{sid}/mnist/predict", {"pixels": pixels})
        assert status == 400 and answer["field"] == "pixels" and needle in answer["error"], answer


def check_bad_requests(s):
    sid = s.session()
    base = f"/api/sessions/{sid}"
    named = [
        ({"hidden": [4, 9]}, "hidden", "from 1 to 8"),
        ({"hidden": [1] * 7}, "hidden", "0 to 6"),
        ({"noise": 51}, "noise", "0 to 50"),
        ({"noise": 1.5}, "noise", "whole number"),
        ({"learning_rate": 0}, "learning_rate", "greater than 0"),
        ({"learning_rate": "fast"}, "learning_rate", "number"),
        ({"dataset": "moons"}, "dataset", '"spiral"'),
        ({"features": []}, "features", "non-empty"),
        ({"features": ["x1", "x1"]}, "features", "twice"),
        ({"activation": "elu"}, "activation", '"relu"'),
        ({"batch_sise": 3}, "batch_sise", 'did you mean "batch_size"'),
        ({"seed": -1}, "seed", "0 to 4294967295"),
        ({"seed": 2 ** 64}, "seed", "0 to 4294967295"),
    ]
    for body, field, words in named:
        status, answer, _ = s.request("POST", base + "/config", body)
        assert status == 400 and answer["field"] == field and words in answer["error"], (body, answer)
    for body, words in (("{", "not JSON"), ("[1]", "JSON object")):
        status, answer, _ = s.request("POST", base + "/config", body)
        assert status == 400 and words in answer["error"], (body, answer)
    status, answer, _ = s.request("POST", base + "/backprop", {"point": 100000})
    assert status == 400 and answer["field"] == "point" and "0 to 249" in answer["error"], answer
    status, answer, _ = s.request("POST", base + "/config", "{" + " " * 70000 + "}")
    assert status == 413 and "over" in answer["error"], (status, answer)
    status, answer, _ = s.request("GET", "/api/sessions/" + "0" * 32 + "/graph.svg")
    assert status == 404 and "no session" in answer["error"], answer
    for path in ("/../etc/passwd", "/%2e%2e/etc/passwd", "/assets/app.js", "/index.html/", "/appxjs"):
        status, answer, _ = s.request("GET", path)
        assert status == 404, (path, status)
    status, answer, _ = s.request("GET", "/", headers={"Host": f"attacker.example:{s.port}"})
    assert status == 403 and answer["field"] == "Host", answer
    s.ok("POST", base + "/play")
    status, answer, _ = s.request("POST", base + "/step")
    assert status == 409 and "pause" in answer["error"], answer
    s.ok("POST", base + "/pause")

    # A thousand malformed requests: random fields, types, bodies, paths.
    rng = random.Random(11)
    junk = [None, -1, 0, 1e308, float("inf"), "x" * 300, [], {"": 0}, [[1]], True, 2 ** 70, "\u2603", [-3, 2]]
    fields = ["dataset", "noise", "train_ratio", "batch_size", "features", "hidden", "activation",
              "learning_rate", "regularization", "regularization_rate", "seed", "point", "pixels", ""]
    actions = ["config", "backprop", "mnist/predict", "nodes/7", "step", "nodes/x", "../config", "events/.."]
    for i in range(1000):
        kind = i % 4
        if kind == 0:
            body = json.dumps({rng.choice(fields): rng.choice(junk)}, allow_nan=True)
        elif kind == 1:
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        elif kind == 2:
            body = json.dumps(rng.choice(junk), allow_nan=True)
        else:
            body = "{" * rng.randrange(1, 5000)
        action = rng.choice(actions)
        target = rng.choice([base, "/api/sessions/" + "f" * 32, "/api/sessions/zz", "/api"]) + "/" + action
        status, answer, _ = s.request("POST", target, body, headers={"Content-Type": "application/json"})
        assert 400 <= status < 500, (target, body[:80], status, answer)
        assert isinstance(answer, dict) and answer.get("error"), (target, status, answer)
    status, page, _ = s.request("GET", "/")
    assert status == 200 and b"<html" in page, status
    s.ok("POST", base + "/step")


def check_limit_and_stop(exe, data):
    s = Server(exe, "--max-sessions", "2", "--data", data)
    try:
        a, b = s.session(), s.session()
        status, answer, _ = s.request("POST", "/api/sessions")
        assert status == 503 and "--max-sessions" in answer["error"], answer
        s.ok("POST", f"/api/sessions/{a}/close")
        c = s.session()
        ev = Events(s.port, c)
        ev.next("state")
        s.ok("POST", f"/api/sessions/{c}/play")
        ev.next("state", lambda d: d["epoch"] >= 3)
        start = time.time()
        s.proc.send_signal(signal.SIGINT)
        out, err = s.proc.communicate(timeout=20)
        assert s.proc.returncode == 0, (s.proc.returncode, err)
        assert "playground: stopped" in out, out
        assert time.time() - start < 10, time.time() - start
        ev.close()
        del b
    finally:
        s.stop()
    p = subprocess.Popen([exe, "--port", "0", "--host", "0.0.0.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=20)
    assert line.startswith("playground: serving http://0.0.0.0:"), line
    assert "warning: listening on 0.0.0.0" in err, err
    r = subprocess.run([exe, "--port", "70000"], capture_output=True, text=True)
    assert r.returncode == 2 and "--port" in r.stderr, r


def main(exe, build, sanitize=""):
    data = tempfile.mkdtemp()
    atexit.register(shutil.rmtree, data, ignore_errors=True)
    rng = random.Random(1)
    write_set(data, "train", 600, rng)
    write_set(data, "t10k", 100, rng)
    s = Server(exe, "--data", data, "--threads", "1")
    try:
        checks = [("sessions and determinism", lambda: check_sessions_and_determinism(s)),
                  ("state, graph and backprop", lambda: check_state_and_graph(s)),
                  ("export", lambda: check_export(s, build, sanitize)),
                  ("MNIST", lambda: check_mnist(s)),
                  ("bad requests", lambda: check_bad_requests(s))]
        for name, check in checks:
            start = time.time()
            try:
                check()
            except BaseException:
                time.sleep(0.5)
                print(f"{name}: FAILED; the server's stderr:\n{s.stderr()}", file=sys.stderr)
                raise
            print(f"{name}: ok ({time.time() - start:.1f} s)", flush=True)
    finally:
        s.stop()
    check_limit_and_stop(exe, data)
    print("session limit and Ctrl-C: ok")


if __name__ == "__main__":
    main(*sys.argv[1:])
