#!/usr/bin/env python3
"""The soak's client and judge (tools/stress runs it).

usage: soak_client.py --port P --pid PID --seconds S [--workers W] [--seed N]

Drives the echo server on 127.0.0.1:P for S seconds with W concurrent
workers, each looping over sessions chosen at random:
  echo       send 1 B..64 KiB, read it all back, check it, close
  half-close send, shutdown(SHUT_WR), read to EOF, check, close
  reset      send part of a message, close with SO_LINGER 0 (an RST)
  timeout    connect, send a little or nothing, give up after 0-300 ms
while sampling the server's RSS (/proc/PID/status VmRSS) and open fds
(/proc/PID/fd) every 0.5 s.

The verdict (exit 1 on any failure):
  - every echo and half-close session got its bytes back intact;
  - fds: once the load stops and the server has seen every connection
    close, its fd count is back to what it was before the load (exact:
    a leaked fd is a leaked connection);
  - RSS: the first 30% of the run is warm-up (the allocator and the
    runtime's pools fill up). Growth is the median RSS of the last 20% of
    the samples minus the median of the 20% right after warm-up; it fails
    above 4 MiB + 5% of the warm RSS. A leak of a few hundred bytes per
    session (tens of thousands of sessions) exceeds that; allocator noise
    does not.
Loopback only; every loop is bounded by the deadline.
"""

import argparse
import os
import random
import socket
import statistics
import struct
import sys
import threading
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Worker(threading.Thread):
    def __init__(self, port, deadline, seed, stats, lock):
        super().__init__(daemon=True)
        self.port, self.deadline = port, deadline
        self.rng = random.Random(seed)
        self.stats, self.lock = stats, lock

    def count(self, key):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.settimeout(10)
        return s

    def payload(self, n):
        return self.rng.randbytes(n)

    def echo(self, half_close):
        data = self.payload(self.rng.randint(1, 64 * 1024))
        with self.connect() as s:
            got = bytearray()
            # Writes and reads interleave so that neither side's buffers fill.
            sent = 0
            while sent < len(data):
                sent += s.send(data[sent:sent + 16384])
                while len(got) < sent - 65536:
                    got += s.recv(65536)
            if half_close:
                s.shutdown(socket.SHUT_WR)
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            else:
                while len(got) < len(data):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
        if bytes(got) != data:
            self.count("corrupt")
            with self.lock:
                self.stats.setdefault("errors", []).append(
                    f"{'half-close' if half_close else 'echo'}: sent "
                    f"{len(data)} bytes, got {len(got)} back, differing")
        else:
            self.count("half-close" if half_close else "echo")

    def reset(self):
        s = self.connect()
        s.send(self.payload(self.rng.randint(1, 8192)))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()
        self.count("reset")

    def timeout(self):
        with self.connect() as s:
            if self.rng.random() < 0.5:
                s.send(self.payload(self.rng.randint(1, 512)))
            time.sleep(self.rng.random() * 0.3)
        self.count("timeout")

    def run(self):
        sessions = [lambda: self.echo(False), lambda: self.echo(True),
                    self.reset, self.timeout]
        weights = [5, 3, 1, 1]
        while time.monotonic() < self.deadline:
            try:
                self.rng.choices(sessions, weights)[0]()
            except OSError as e:  # a reset racing our own reads, etc.
                self.count("client-error")
                with self.lock:
                    self.stats.setdefault("os_errors", set()).add(type(e).__name__)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()

    baseline_fds = fd_count(args.pid)
    baseline_rss = rss_kib(args.pid)
    start = time.monotonic()
    deadline = start + args.seconds
    stats, lock = {}, threading.Lock()
    workers = [Worker(args.port, deadline, args.seed * 1000 + i, stats, lock)
               for i in range(args.workers)]
    for w in workers:
        w.start()
    samples = []  # (seconds, rss KiB, fds)
    while time.monotonic() < deadline:
        samples.append((time.monotonic() - start, rss_kib(args.pid),
                        fd_count(args.pid)))
        time.sleep(0.5)
    for w in workers:
        w.join(timeout=30)
    # Quiesce: the server closes its side of every connection it has seen
    # end; give it up to 10 s to get back to its baseline.
    quiet_deadline = time.monotonic() + 10
    end_fds = fd_count(args.pid)
    while end_fds != baseline_fds and time.monotonic() < quiet_deadline:
        time.sleep(0.1)
        end_fds = fd_count(args.pid)
    end_rss = rss_kib(args.pid)

    failures = []
    warm = [s for s in samples if s[0] >= 0.3 * args.seconds]
    if len(warm) < 5:
        failures.append(f"only {len(warm)} samples after warm-up: run longer")
        growth = 0
        warm_rss = baseline_rss
    else:
        k = max(1, len(warm) // 5)
        warm_rss = statistics.median(s[1] for s in warm[:k])
        late_rss = statistics.median(s[1] for s in warm[-k:])
        growth = late_rss - warm_rss
        if growth > 4096 + 0.05 * warm_rss:
            failures.append(f"RSS grew by {growth} KiB after warm-up "
                            f"({warm_rss} -> {late_rss} KiB)")
    if end_fds != baseline_fds:
        failures.append(f"fds: {end_fds} open after the load, {baseline_fds} "
                        "before (a leak)")
    if stats.get("corrupt", 0):
        failures.extend(stats["errors"][:5])
    sessions = sum(stats.get(k, 0) for k in ("echo", "half-close", "reset",
                                              "timeout"))
    if sessions == 0:
        failures.append("no session completed")

    peak_fds = max(s[2] for s in samples) if samples else 0
    print(f"soak: {args.seconds:.0f} s, {args.workers} workers, {sessions} "
          f"sessions (echo {stats.get('echo', 0)}, half-close "
          f"{stats.get('half-close', 0)}, reset {stats.get('reset', 0)}, "
          f"timeout {stats.get('timeout', 0)}, client-side errors "
          f"{stats.get('client-error', 0)} "
          f"{sorted(stats.get('os_errors', []))})")
    print(f"soak: RSS {baseline_rss} KiB at start, {warm_rss:.0f} KiB after "
          f"warm-up, {end_rss} KiB at the end (growth after warm-up "
          f"{growth:+.0f} KiB)")
    print(f"soak: fds {baseline_fds} at start, peak {peak_fds}, {end_fds} at "
          "the end")
    for f in failures:
        print(f"soak: FAIL: {f}")
    print("soak: PASS" if not failures else "soak: FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
