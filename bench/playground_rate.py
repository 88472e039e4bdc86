#!/usr/bin/env python3
"""How many state updates a second the playground streams while training.

Starts build/examples/playground, sets the largest network the page allows
(6 hidden layers of 8, all 7 features, the spiral, batch size 10), presses
play, and reads the event stream for --seconds: each state event is one
epoch (25 SGD steps over 250 points) plus the heat maps of the output and
all 55 units (50 x 50 points, one batched run) and the weights. Prints the
updates a second (the server sends at most 30; the target is at least 20),
the intervals' median and 95th percentile, and the bytes per update. Then
times the parts of one update through the API while paused: an epoch
(POST step) and the graph's SVG (GET graph.svg).

    python3 bench/playground_rate.py [--exe build/examples/playground] [--seconds 10]
"""
import argparse
import http.client
import json
import re
import socket
import statistics
import subprocess
import time


def request(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, path, body=json.dumps(body) if body is not None else ("" if method == "POST" else None))
    r = c.getresponse()
    data = r.read()
    c.close()
    assert r.status in (200, 201), (path, r.status, data[:200])
    return json.loads(data) if r.getheader("Content-Type", "").startswith("application/json") else data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exe", default="build/examples/playground")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    server = subprocess.Popen([args.exe, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+)/", server.stdout.readline()).group(1))
        sid = request(port, "POST", "/api/sessions")["id"]
        features = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]
        request(port, "POST", f"/api/sessions/{sid}/config",
                {"dataset": "spiral", "features": features, "hidden": [8] * 6, "batch_size": 10})

        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(f"GET /api/sessions/{sid}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        request(port, "POST", f"/api/sessions/{sid}/play")
        arrivals, sizes, buffer, epoch = [], [], b"", 0
        start = time.time()
        while time.time() - start < args.seconds:
            buffer += sock.recv(1 << 20)
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                if b"event: state\r\n" in block or b"event: state\n" in block:
                    text = block[block.index(b"data: ") + 6:]
                    text = text[:text.index(b"\r\n")] if b"\r\n" in text else text
                    state = json.loads(text)
                    if state["playing"] and state["epoch"] > epoch:
                        epoch = state["epoch"]
                        arrivals.append(time.time())
                        sizes.append(len(text))
        request(port, "POST", f"/api/sessions/{sid}/pause")
        sock.close()
        gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
        rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        print(f"network: spiral, 7 features, 6 x 8 tanh, batch 10 (250 training points)")
        print(f"state updates: {len(arrivals)} in {arrivals[-1] - arrivals[0]:.2f} s = {rate:.1f} a second "
              f"(target >= 20; the server sends at most 30)")
        print(f"interval: median {1000 * statistics.median(gaps):.1f} ms, "
              f"95th percentile {1000 * sorted(gaps)[int(0.95 * len(gaps))]:.1f} ms")
        print(f"bytes per update: {statistics.median(sizes):.0f}")

        for name, method, path in (("epoch (POST step)", "POST", "step"), ("graph (GET graph.svg)", "GET", "graph.svg")):
            times = []
            for _ in range(20):
                t = time.perf_counter()
                request(port, method, f"/api/sessions/{sid}/{path}")
                times.append(time.perf_counter() - t)
            print(f"{name}: median {1000 * statistics.median(times):.1f} ms over 20")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
