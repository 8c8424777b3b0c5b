#!/usr/bin/env python3
"""tools/bench's HTTP table: requests/s of examples/http_hello under wrk.

    bench_http.py run BIN_DIR OUT_DIR [--rows a,b] [--conns 64,256]
                      [--repeat K] [--seconds S]

BIN_DIR holds one <row>_http_server binary per row: polyio's rows are
//examples:http_hello itself, built once per backend and named by it
(epoll_http_server, ...); raw_epoll_http_server (benchmarks/) and the peers
(benchmarks/peers: asio_epoll, asio_io_uring, libuv) answer with the same
code (examples/http_hello_handler.h) on their own I/O. Every server prints
"listening on 127.0.0.1:PORT (NAME...)" once it listens: the port is read
from there, and polyio's rows name the backend they run on (auto: the one it
chose).

For each repetition, each row, and each connection count: the server is
started pinned to the server core, wrk (one thread, pinned to the client
core: the cores of benchmarks/affinity.h) runs `wrk -t1 -cC -dSs` against
it, and the server is killed. Besides wrk's requests/s, the server's CPU
time per request is taken: the CPU time its threads ran during the wrk run
(/proc/PID/task/*/schedstat, nanoseconds) over the requests wrk completed.
On a shared machine requests/s moves with whatever else runs on the cores;
CPU time per request is what the server itself spends, and moves less. Repetitions are interleaved — every row once,
then every row again — so that a slow minute of this shared machine falls
on all rows alike; a row's figure is the median of its repetitions.

Writes OUT_DIR/http-<row>.json (Google Benchmark's JSON layout, as
bench_instr.py does, so that bench_report.py table/compare read it; the
figure is "requests_per_second", the repetitions' figures are
"repeat_figures", the median CPU time per request "server_cpu_ns_per_request",
wrk's error counts "errors") and wrk's output in
OUT_DIR/http/. A row whose server does not start (io_uring refused, ...) is
written to OUT_DIR/status.txt as skipped with the reason; epoll, poll and
raw_epoll must start, or the row failed.
"""
import argparse
import datetime
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import time

ROWS = ["epoll", "poll", "io_uring", "kqueue", "auto", "raw_epoll",
        "asio_epoll", "asio_io_uring", "libuv"]
REQUIRED = {"epoll", "poll", "raw_epoll"}
POLYIO = {"epoll", "poll", "io_uring", "kqueue", "auto"}
CONNS = [64, 256]
START_TIMEOUT_S = 30


class Skip(Exception):
    """The server cannot run here; the message says why."""


def cores():
    """(server core, client core): the first and the second allowed core,
    as benchmarks/affinity.h picks them; None where there is one core."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None, None
    return allowed[0], allowed[1]


def pinned(core):
    """A preexec_fn that pins the child to `core` (nothing if None)."""
    if core is None:
        return None
    return lambda: os.sched_setaffinity(0, {core})


class Server:
    """A server process; its port and the name it gives itself."""

    def __init__(self, row, binary, core):
        args = [binary] + (["--port", "0"] if row in POLYIO else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     preexec_fn=pinned(core))
        line = self._first_line()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+) \(([^,)]+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"unexpected first line: {line!r}")
        self.port, self.name = int(m.group(1)), m.group(2)

    def _first_line(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        fd = self.proc.stdout.fileno()
        buf = b""
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise RuntimeError(f"no 'listening on' line in "
                                   f"{START_TIMEOUT_S} s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1)
            if not chunk:  # it exited before listening
                self.proc.wait()
                err = self.proc.stderr.read().decode(errors="replace")
                last = (err.strip().splitlines() or [""])[-1]
                raise Skip(f"exit {self.proc.returncode}: {last}")
            buf += chunk
        return buf.decode().strip()

    def cpu_ns(self):
        """CPU time of all the server's threads so far, in nanoseconds."""
        total = 0
        task_dir = f"/proc/{self.proc.pid}/task"
        for tid in os.listdir(task_dir):
            try:
                with open(f"{task_dir}/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that just ended
        return total

    def stop(self):
        """Killed: the servers serve until killed. Its exit status says
        whether it was still running."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        alive = self.proc.returncode == -signal.SIGTERM
        self.proc.stdout.close()
        self.proc.stderr.close()
        return alive


def parse_wrk(text):
    """(requests/s, requests, error count) from wrk's report."""
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    total = re.search(r"^\s*(\d+) requests in", text, re.M)
    if not m or not total:
        raise RuntimeError("wrk printed no Requests/sec: " + text[-300:])
    errors = 0
    s = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", text)
    if s:
        errors += sum(int(g) for g in s.groups())
    n = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if n:
        errors += int(n.group(1))
    return float(m.group(1)), int(total.group(1)), errors


def run_wrk(port, conns, seconds, core, log_path):
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s",
           f"http://127.0.0.1:{port}/"]
    done = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, preexec_fn=pinned(core),
                          timeout=seconds + 60)
    text = done.stdout.decode(errors="replace")
    with open(log_path, "w") as f:
        f.write(" ".join(cmd) + "\n" + text)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exit {done.returncode}: {text[-300:]}")
    return parse_wrk(text)


def context(row, server_core, client_core):
    u = os.uname()
    now = datetime.datetime.now().astimezone()
    return {"date": now.isoformat(timespec="seconds"),
            "host_name": socket.gethostname(),
            "num_cpus": os.cpu_count(),
            "polyio_date": now.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "polyio_host": socket.gethostname(),
            "polyio_kernel": f"{u.sysname} {u.release}",
            "polyio_backend": row,
            "polyio_tool": "wrk -t1, one server process",
            "polyio_cores": f"server={server_core if server_core is not None else -1} "
                            f"client={client_core if client_core is not None else -1}"}


def run(args):
    bins, out = args.bin_dir, args.out_dir
    logs = os.path.join(out, "http")
    os.makedirs(logs, exist_ok=True)
    rows = [r for r in (args.rows.split(",") if args.rows else ROWS)
            if os.path.exists(os.path.join(bins, f"{r}_http_server"))]
    conns = [int(c) for c in args.conns.split(",")]
    server_core, client_core = cores()
    total = len(rows) * len(conns) * args.repeat
    start = time.monotonic()
    done = 0
    failed = False
    figures = {r: {c: [] for c in conns} for r in rows}
    cpu = {r: {c: [] for c in conns} for r in rows}  # ns per request
    errors = {r: {c: 0 for c in conns} for r in rows}
    chosen = {}
    dead = {}  # row -> why it is not measured any more
    status = open(os.path.join(out, "status.txt"), "a")

    def log(text):
        e = int(time.monotonic() - start)
        print(f"[http {e // 60}:{e % 60:02d}] {done:3d}/{total}  {text}",
              flush=True)

    for rep in range(args.repeat):
        for row in rows:
            if row in dead:
                done += len(conns)
                continue
            binary = os.path.join(bins, f"{row}_http_server")
            try:
                server = Server(row, binary, server_core)
            except Skip as e:
                kind = "failed" if row in REQUIRED else "skipped"
                dead[row] = f"{kind}: {e}"
                failed |= kind == "failed"
                log(f"{row} {kind}: {e}")
                done += len(conns)
                continue
            except (RuntimeError, OSError) as e:
                dead[row] = f"failed: {e}"
                failed = True
                log(f"{row} FAILED: {e}")
                done += len(conns)
                continue
            chosen[row] = server.name
            try:
                for c in conns:
                    path = os.path.join(logs, f"{row}.c{c}.r{rep}.txt")
                    before = server.cpu_ns()
                    rps, requests, errs = run_wrk(server.port, c,
                                                  args.seconds, client_core,
                                                  path)
                    per_request = ((server.cpu_ns() - before) / requests
                                   if requests else 0.0)
                    figures[row][c].append(rps)
                    cpu[row][c].append(per_request)
                    errors[row][c] += errs
                    done += 1
                    log(f"{row:<14} conns:{c:<4} {rps:10.0f} requests/s, "
                        f"server {per_request / 1e3:5.2f} us CPU/request" +
                        (f"  ({errs} errors)" if errs else ""))
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                dead[row] = f"failed: {e}"
                failed = True
                log(f"{row} FAILED: {e}")
            finally:
                if not server.stop() and row not in dead:
                    dead[row] = "failed: the server died during the run"
                    failed = True
                    log(f"{row} FAILED: the server died during the run")

    for row in rows:
        if row in dead:
            status.write(f"http-{row}\t{dead[row]}\n")
            continue
        entries = []
        for c in conns:
            values = figures[row][c]
            value = statistics.median(values)
            spread = (max(values) - min(values)) / value if value else 0.0
            name = f"BM_HttpHello/conns:{c}"
            entries.append({
                "name": name, "run_name": name, "run_type": "iteration",
                "repetitions": len(values), "iterations": 1,
                "real_time": 0, "cpu_time": 0, "time_unit": "ns",
                "requests_per_second": value, "repeat_figures": values,
                "server_cpu_ns_per_request": statistics.median(cpu[row][c]),
                "repeat_cpu_ns_per_request": cpu[row][c],
                "repeat_spread": spread, "errors": errors[row][c],
                "seconds": args.seconds})
        # auto: the backend it chose at start-up.
        ctx = context(chosen.get(row, row) if row == "auto" else row,
                      server_core, client_core)
        with open(os.path.join(out, f"http-{row}.json"), "w") as f:
            json.dump({"context": ctx, "benchmarks": entries}, f, indent=1)
    status.close()
    e = int(time.monotonic() - start)
    print(f"[http {e // 60}:{e % 60:02d}] done", flush=True)
    return 1 if failed else 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("bin_dir")
    r.add_argument("out_dir")
    r.add_argument("--rows", default="")
    r.add_argument("--conns", default=",".join(map(str, CONNS)))
    r.add_argument("--repeat", type=int, default=3)
    r.add_argument("--seconds", type=int, default=3)
    args = p.parse_args(argv[1:])
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
