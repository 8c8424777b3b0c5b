#!/usr/bin/env python3
"""tools/bench --instr: instructions per echoed message, counted by callgrind.

    bench_instr.py run BIN_DIR OUT_DIR [--rows a,b] [--sizes 64,4096]
                       [--conns 1,64,1000] [--repeat K] [--conn-count N]

BIN_DIR holds <row>_instr_server binaries (benchmarks/instr: one echo server
as a process of its own; for polyio, one per backend, named by the backend),
instr_load (the lockstep echo client) and instr_connect (the client that
opens and closes connections).

For each row and workload (connections x message size) the server runs
twice under `valgrind --tool=callgrind`, each time driven by instr_load in a
separate, uninstrumented process: once for a small and once for a large
number of messages. Callgrind's total of the server process's user-space
instructions (Ir) in each run gives

    instructions/message = (I_big - I_small) / (M_big - M_small)

where M is the exact number of messages the server echoed (instr_load
reports it). Everything that is not per message — valgrind's start-up, the
server's own start-up, accepting the connections, stopping — is the same in
both runs and cancels. Both runs end the same way: instr_load drives echo
round trips in lockstep rounds (a message on every connection, then every
reply) and stops at the end of a round, so nothing is in flight; then the
server is stopped with every connection still open.

Instructions per connection (when BIN_DIR has instr_connect; --conn-count
N, 0 for none): the server runs under callgrind once more, driven by
instr_connect, which opens connections one at a time that send nothing —
connect, wait until the server has accepted and is idle, shut down the
sending side, read the server's end of file, close, wait until the server
is idle with the socket gone. After a warm-up of CONN_WARMUP connections
callgrind dumps the counters; then N connections and a second dump, I_conn;
then the server stays idle for a moment and a third dump, I_idle (what a
dump itself costs the server: a wake-up, the same in every interval). So

    instructions/connection = (I_conn - I_idle) / N

the server's whole work for one connection: the wake-up, accept, spawning
or registering whatever serves it, the wait for data, end of file, close.

System calls per message (when strace is installed): each workload runs
twice more, without valgrind, under `strace -f -c` (the server process
only, every thread), once to the small and once to the big message count,
each run ending with the server idle; strace's per-call counts then give

    system calls/message = (S_big - S_small) / (M_big - M_small)

in all, per call (recvfrom, sendto, epoll_wait, io_uring_enter, ...) and
for the calls that failed (a recv answered EAGAIN is one). The server is
killed at the end of each run (strace then writes its summary), so stopping
costs nothing either. Issue 12 asks the readiness backends for their raw
loop's figure + 0.05: no speculative call the readiness state already says
will fail.

Writes OUT_DIR/instr-<row>.json (Google Benchmark's JSON layout, so that
bench_report.py table/compare read it like the other results; the figures
are "instructions_per_message" of each BM_EchoInstr/conns:C/size:S entry,
with "syscalls_per_message", "failed_syscalls_per_message" and
"syscalls_per_message_by_call" beside it when strace ran, and "instructions_per_connection" of BM_ConnInstr/conns:N) and keeps
callgrind's output files in OUT_DIR/callgrind/ (read them with
callgrind_annotate) and strace's summaries in OUT_DIR/strace/. A row whose
server
cannot run here (exit 3, as echo_bench) or does not run under valgrind is
written to OUT_DIR/status.txt as skipped, with the reason.
"""
import argparse
import datetime
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

# Row order of the table; bench_report.py knows which raw baseline and which
# peers each row is compared with. A row is run when BIN_DIR has its binary.
ROWS = ["epoll", "poll", "io_uring", "kqueue", "auto", "raw_epoll",
        "raw_io_uring", "asio_epoll", "asio_io_uring", "asio_coro", "libuv"]
CONNS = [1, 64, 1000]
SIZES = [64]
# Messages per run, per connection count: (small, big). The small run is
# long enough for every connection to be in its steady state; the
# difference is what the figure is averaged over. Chosen so that the whole
# --instr run stays within ~10 minutes on this 2-core machine (measured in
# docs/benchmarks.md) while repeat runs agree within 1%.
MESSAGES = {1: (2_000, 12_000), 64: (4_000, 24_000), 1000: (10_000, 40_000)}

# Deterministic and as cheap as callgrind gets: no cache or branch
# simulation, no per-instruction or per-line dumps (only the totals are
# read), no system-call time. The whole process is counted from its start;
# the difference of two runs removes the fixed costs.
VALGRIND = ["valgrind", "--tool=callgrind", "--dump-instr=no",
            "--dump-line=no", "--cache-sim=no", "--branch-sim=no",
            "--collect-systime=no", "--compress-strings=no"]

RUN_TIMEOUT_S = 300

# Instructions per connection: connections before the first dump (the
# server's first connection allocates what later ones reuse), then the
# default N; the idle interval after them.
CONN_WARMUP = 20
CONN_COUNT = 1000
IDLE_S = 0.5


class Skip(Exception):
    """The server cannot run here; the message says why."""


def read_line(proc, what, timeout):
    """One line from proc's stdout, or an error that names `what`."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{what}: no answer within {timeout} s")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1)
        if not chunk:
            return None  # exited
        buf += chunk
    return buf.decode().strip()


def last_line(path):
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return ""
    # Valgrind's own lines start with ==pid==; prefer the program's.
    own = [l for l in lines if not l.startswith("==")]
    return (own or lines or [""])[-1]


def total_ir(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError(f"{path}: no totals line")


def listening_port(proc, err_file, pid=None):
    """The TCP port proc listens on, read from /proc.

    Not from the server's "port" line: under valgrind 3.19 a thread blocked
    in io_uring_enter keeps valgrind's lock, so an io_uring server's main
    thread may not get to print it until a first connection arrives.
    """
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Skip(f"does not run under valgrind (exit {proc.returncode})"
                       f": {last_line(err_file)}")
        inodes = set()
        pid = pid or proc.pid
        fd_dir = f"/proc/{pid}/fd"
        try:
            for fd in os.listdir(fd_dir):
                try:
                    link = os.readlink(os.path.join(fd_dir, fd))
                except OSError:
                    continue
                m = re.match(r"socket:\[(\d+)\]", link)
                if m:
                    inodes.add(m.group(1))
            with open(f"/proc/{pid}/net/tcp") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    # local_address is hex ip:port; st 0A is LISTEN.
                    if fields[3] == "0A" and fields[9] in inodes:
                        return int(fields[1].split(":")[1], 16)
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server start: not listening within 120 s")


def server_name(server):
    """Runs the server once without valgrind: the name it gives itself
    (auto: the backend it chose), or Skip when it cannot run here."""
    proc = subprocess.Popen([server], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(input=b"", timeout=60)
    if proc.returncode == 3:
        raise Skip(err.decode().strip().splitlines()[-1])
    if proc.returncode != 0 or not out.startswith(b"port "):
        raise RuntimeError(f"{server}: exit {proc.returncode}: "
                           f"{err.decode().strip()[-200:]}")
    return out.decode().split(maxsplit=2)[2].strip()


def dump_totals(pid, out_file, index):
    """Has callgrind dump the server's counters now; their total."""
    done = subprocess.run(["callgrind_control", "--dump", str(pid)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60)
    path = f"{out_file}.{index}"
    if done.returncode != 0 or not os.path.exists(path):
        raise RuntimeError("callgrind_control --dump failed: "
                           + done.stdout.decode().strip()[-200:])
    return total_ir(path)


def stop_client(proc):
    """Ends a client process (instr_load, instr_connect), if one was
    started: its stdin closed, then 30 s to exit before it is killed."""
    if proc is None:
        return
    if not proc.stdin.closed:
        proc.stdin.close()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure_once(server, load, conns, size, counts, out_file, err_file):
    """One server process: [(instructions, messages echoed)] at each count.

    instr_load stops after each count with the server idle; callgrind then
    dumps (and zeroes) the server's counters, so the instructions up to a
    count are the sum of the dumps so far.
    """
    with open(err_file, "w") as err:
        srv = subprocess.Popen(
            VALGRIND + [f"--callgrind-out-file={out_file}", server],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    load_proc = None
    try:
        port = listening_port(srv, err_file)
        load_proc = subprocess.Popen(
            [load, str(port), str(conns), str(size)] + [str(n) for n in counts],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        points, total = [], 0
        for i in range(len(counts)):
            line = read_line(load_proc, "instr_load", RUN_TIMEOUT_S)
            if line is None:
                load_proc.wait()
                raise RuntimeError("instr_load failed: " +
                                   load_proc.stderr.read().decode().strip())
            _, echoed, seconds = line.split()
            total += dump_totals(srv.pid, out_file, i + 1)
            points.append((total, int(echoed), float(seconds)))
            load_proc.stdin.write(b"next\n")
            load_proc.stdin.flush()
        return points
    finally:
        # Killed, not stopped: under valgrind 3.19 a thread blocked in
        # io_uring_enter keeps valgrind's lock, so an io_uring server's
        # main thread could not run to stop it. The counters are dumped.
        srv.kill()
        srv.wait()
        stop_client(load_proc)


STRACE = ["strace", "-f", "-c", "-U", "name,calls,errors"]


def strace_summary(path):
    """{call: (calls, errors)} from the table `strace -c -U
    name,calls,errors` writes."""
    counts = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if (len(fields) < 2 or not fields[1].isdigit()
                    or fields[0] == "total"):
                continue
            errors = int(fields[2]) if len(fields) > 2 else 0
            counts[fields[0]] = (int(fields[1]), errors)
    if not counts:
        raise RuntimeError(f"{path}: no strace summary")
    return counts


def traced_child(tracer, server, timeout=30):
    """The pid of the program strace started, once it runs `server` (strace
    forks short-lived children of its own first, to probe ptrace)."""
    deadline = time.monotonic() + timeout
    path = f"/proc/{tracer.pid}/task/{tracer.pid}/children"
    while time.monotonic() < deadline:
        if tracer.poll() is not None:
            raise RuntimeError(f"strace exited ({tracer.returncode})")
        try:
            with open(path) as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            children = []
        for child in children:
            try:
                with open(f"/proc/{child}/cmdline", "rb") as f:
                    argv0 = f.read().split(b"\0")[0].decode()
            except OSError:
                continue
            if argv0 == server:
                return child
        time.sleep(0.01)
    raise RuntimeError("strace: the server did not start")


def syscalls_once(server, load, conns, size, count, out_file, err_file):
    """One server process under strace, echoing `count` messages in
    lockstep rounds: ({call: (calls, errors)}, messages echoed)."""
    with open(err_file, "w") as err:
        tracer = subprocess.Popen(STRACE + ["-o", out_file, server],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=err)
    load_proc = None
    child = None
    try:
        child = traced_child(tracer, server)
        port = listening_port(tracer, err_file, pid=child)
        load_proc = subprocess.Popen(
            [load, str(port), str(conns), str(size), str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        line = read_line(load_proc, "instr_load", RUN_TIMEOUT_S)
        if line is None:
            load_proc.wait()
            raise RuntimeError("instr_load failed: " +
                               load_proc.stderr.read().decode().strip())
        echoed = int(line.split()[1])
    finally:
        # Killed with the server idle: strace writes its summary once the
        # last traced thread is gone.
        if child is not None:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            tracer.kill()
        tracer.wait(timeout=60)
        stop_client(load_proc)
    return strace_summary(out_file), echoed


def measure_syscalls(row, server, load, conns, size, small, big, out_dir):
    """System calls per message of one row and workload: the fields added
    to its BM_EchoInstr entry."""
    st = os.path.join(out_dir, "strace")
    os.makedirs(st, exist_ok=True)
    stem = os.path.join(st, f"{row}.c{conns}.s{size}")
    (c1, m1), (c2, m2) = (
        syscalls_once(server, load, conns, size, n, f"{stem}.n{n}.txt",
                      f"{stem}.n{n}.err") for n in (small, big))
    per_call, failed = {}, 0.0
    for name in set(c1) | set(c2):
        calls = (c2.get(name, (0, 0))[0] - c1.get(name, (0, 0))[0]) / (m2 - m1)
        errors = (c2.get(name, (0, 0))[1] - c1.get(name, (0, 0))[1]) / (m2 - m1)
        failed += errors
        if abs(calls) >= 0.005:
            per_call[name] = round(calls, 4)
    return {"syscalls_per_message": round(sum(per_call.values()), 4),
            "failed_syscalls_per_message": round(failed, 4),
            "syscalls_per_message_by_call": dict(
                sorted(per_call.items(), key=lambda kv: -kv[1])),
            "syscall_messages": [m1, m2]}


def measure_conns_once(server, connect, warmup, count, out_file, err_file):
    """One server process under callgrind, driven by instr_connect:
    (instructions for `count` connections, for an idle interval after them,
    client seconds for the connections)."""
    with open(err_file, "w") as err:
        srv = subprocess.Popen(
            VALGRIND + [f"--callgrind-out-file={out_file}", server],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    client = None
    try:
        port = listening_port(srv, err_file)
        client = subprocess.Popen(
            [connect, str(port), str(srv.pid), str(warmup),
             str(warmup + count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        seconds = []
        for i in range(2):
            line = read_line(client, "instr_connect", RUN_TIMEOUT_S)
            if line is None:
                client.wait()
                raise RuntimeError("instr_connect failed: " +
                                   client.stderr.read().decode().strip())
            seconds.append(float(line.split()[2]))
            # instr_connect has seen the server idle after the last close.
            instructions = dump_totals(srv.pid, out_file, i + 1)
            client.stdin.write(b"next\n")
            client.stdin.flush()
        time.sleep(IDLE_S)
        idle = dump_totals(srv.pid, out_file, 3)
        return instructions, idle, seconds[1] - seconds[0]
    finally:
        srv.kill()  # as in measure_once
        srv.wait()
        stop_client(client)


RSS_CONNS = 1000  # idle connections for the RSS figure


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status: no VmRSS")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_settled(pid, fds, timeout=60):
    """Waits until `pid` holds at least `fds` descriptors and its RSS has
    stopped moving."""
    deadline = time.monotonic() + timeout
    while open_fds(pid) < fds:
        if time.monotonic() > deadline:
            raise RuntimeError(f"server holds {open_fds(pid)} fds, not {fds}")
        time.sleep(0.02)
    last = -1
    while True:
        rss = vm_rss_kib(pid)
        if rss == last or time.monotonic() > deadline:
            return rss
        last = rss
        time.sleep(0.2)


def measure_rss(server, count=RSS_CONNS):
    """Bytes of resident memory per idle connection: the server natively
    (no valgrind), its RSS before and after `count` connections that send
    nothing, once it has accepted them all (whatever serves a connection —
    a task and its frame, a buffer, the runtime's per-fd state — is then
    allocated and waiting for data). Pages of a buffer the server has not
    touched are not resident, so an uninitialized 64 KiB buffer costs what
    its allocator touched of it, a zero-filled one all of it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(hard, count + 1024), hard))
    srv = subprocess.Popen([server], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    socks = []
    try:
        port = listening_port(srv, os.devnull)
        # One connection first: what the first one allocates once (a
        # buffer pool, a table's first block) is not per connection.
        socks.append(socket.create_connection(("127.0.0.1", port)))
        base_fds = open_fds(srv.pid)
        before = wait_settled(srv.pid, base_fds)
        for _ in range(count):
            socks.append(socket.create_connection(("127.0.0.1", port)))
        after = wait_settled(srv.pid, base_fds + count)
        return (after - before) * 1024 / count
    finally:
        for s in socks:
            s.close()
        srv.kill()
        srv.wait()


def measure_conns(row, server, connect, count, out_dir, repeat, log):
    """The BM_ConnInstr entry of one row: instructions per connection."""
    cg = os.path.join(out_dir, "callgrind")
    os.makedirs(cg, exist_ok=True)
    figures, runs = [], []
    for r in range(repeat):
        stem = os.path.join(cg, f"{row}.connect{count}.r{r}")
        started = time.monotonic()
        try:
            conn, idle, secs = measure_conns_once(
                server, connect, CONN_WARMUP, count, stem + ".out",
                stem + ".err")
        except RuntimeError as e:
            log(f"{row} connections: {e}; trying once more")
            conn, idle, secs = measure_conns_once(
                server, connect, CONN_WARMUP, count, stem + ".retry.out",
                stem + ".retry.err")
        figures.append((conn - idle) / count)
        runs.append({"connections": count, "instructions": conn,
                     "instructions_idle": idle, "idle_seconds": IDLE_S,
                     "client_seconds": secs,
                     "wall_seconds": round(time.monotonic() - started, 2)})
    value = statistics.median(figures)
    spread = (max(figures) - min(figures)) / value if value else 0.0
    log(f"{row:<14} {count} connections    {value:9.1f} instr/conn "
        f"(idle interval {runs[-1]['instructions_idle']})" +
        (f"  (repeats {', '.join(f'{f:.1f}' for f in figures)}; "
         f"spread {spread * 100:.2f}%)" if repeat > 1 else ""))
    try:
        rss = measure_rss(server)
        log(f"{row:<14} {RSS_CONNS} idle connections {rss:9.0f} bytes RSS "
            f"per connection")
    except (RuntimeError, OSError) as e:
        rss = None
        log(f"{row}: RSS per idle connection not measured: {e}")
    name = f"BM_ConnInstr/conns:{count}"
    extra = {} if rss is None else {"rss_bytes_per_idle_connection": rss,
                                    "rss_connections": RSS_CONNS}
    return {**extra, "name": name, "run_name": name, "run_type": "iteration",
            "repetitions": repeat, "iterations": 1,
            "real_time": 0, "cpu_time": 0, "time_unit": "ns",
            "instructions_per_connection": value,
            "repeat_figures": figures, "repeat_spread": spread,
            "runs": runs}


def measure(row, server, load, conns, size, out_dir, repeat, log):
    """The benchmark entry of one row and workload."""
    small, big = MESSAGES.get(conns, (max(2_000, 10 * conns),
                                      max(12_000, 40 * conns)))
    cg = os.path.join(out_dir, "callgrind")
    os.makedirs(cg, exist_ok=True)
    figures, runs = [], []
    for r in range(repeat):
        stem = os.path.join(cg, f"{row}.c{conns}.s{size}.r{r}")
        started = time.monotonic()
        try:
            points = measure_once(server, load, conns, size, [small, big],
                                  stem + ".out", stem + ".err")
        except RuntimeError as e:
            # Seen here: libuv at 1,000 connections under valgrind now and
            # then stops answering for 5 s during start-up, which the load
            # generator treats as an error. One more try; the log says so.
            log(f"{row} conns:{conns}: {e}; trying once more")
            points = measure_once(server, load, conns, size, [small, big],
                                  stem + ".retry.out", stem + ".retry.err")
        (i1, m1, _), (i2, m2, secs) = points
        figures.append((i2 - i1) / (m2 - m1))
        runs.append({"messages_small": m1, "instructions_small": i1,
                     "messages_big": m2, "instructions_big": i2,
                     "client_seconds": secs,
                     "wall_seconds": round(time.monotonic() - started, 2)})
    value = statistics.median(figures)
    spread = (max(figures) - min(figures)) / value if value else 0.0
    log(f"{row:<14} conns:{conns:<4} size:{size:<5} "
        f"{value:9.1f} instr/msg" +
        (f"  (repeats {', '.join(f'{f:.1f}' for f in figures)}; "
         f"spread {spread * 100:.2f}%)" if repeat > 1 else ""))
    name = f"BM_EchoInstr/conns:{conns}/size:{size}"
    entry = {"name": name, "run_name": name, "run_type": "iteration",
             "repetitions": repeat, "iterations": 1,
             "real_time": 0, "cpu_time": 0, "time_unit": "ns",
             "instructions_per_message": value,
             "repeat_figures": figures, "repeat_spread": spread,
             "runs": runs}
    if not shutil.which("strace"):
        return entry
    try:
        sc = measure_syscalls(row, server, load, conns, size, small, big,
                              out_dir)
    except (RuntimeError, OSError, ValueError,
            subprocess.TimeoutExpired) as e:
        # The instruction figure stands; the table shows no syscall figure.
        log(f"{row} conns:{conns}: system calls not counted: {e}")
        return entry
    top = ", ".join(f"{k} {v:.2f}" for k, v in
                    list(sc["syscalls_per_message_by_call"].items())[:4])
    log(f"{row:<14} conns:{conns:<4} size:{size:<5} "
        f"{sc['syscalls_per_message']:9.2f} syscalls/msg ({top}; "
        f"{sc['failed_syscalls_per_message']:.2f} failed)")
    entry.update(sc)
    return entry


def context(row):
    u = os.uname()
    now = datetime.datetime.now().astimezone()
    return {"date": now.isoformat(timespec="seconds"),
            "host_name": socket.gethostname(),
            "num_cpus": os.cpu_count(),
            "polyio_date": now.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "polyio_host": socket.gethostname(),
            "polyio_kernel": f"{u.sysname} {u.release}",
            "polyio_backend": row,
            "polyio_tool": "callgrind (valgrind --tool=callgrind), "
                           "server process only",
            "polyio_cores": cores()}


def cores():
    """Where affinity.h pins the server and the client: the first and the
    second allowed core."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return "server=-1 client=-1"
    return f"server={allowed[0]} client={allowed[1]}"


def run(args):
    bins, out = args.bin_dir, args.out_dir
    os.makedirs(out, exist_ok=True)
    load = os.path.join(bins, "instr_load")
    connect = os.path.join(bins, "instr_connect")
    conn_count = args.conn_count if os.path.exists(connect) else 0
    rows = [r for r in (args.rows.split(",") if args.rows else ROWS)
            if os.path.exists(os.path.join(bins, f"{r}_instr_server"))]
    conns = [int(c) for c in args.conns.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    per_row = len(conns) * len(sizes) + (1 if conn_count else 0)
    total = len(rows) * per_row
    start = time.monotonic()
    done = 0
    failed = False
    status = open(os.path.join(out, "status.txt"), "a")

    def log(text):
        e = int(time.monotonic() - start)
        print(f"[instr {e // 60}:{e % 60:02d}] {done:3d}/{total}  {text}",
              flush=True)

    for row in rows:
        server = os.path.join(bins, f"{row}_instr_server")
        entries = []
        try:
            chosen = server_name(server)
            for size in sizes:
                for c in conns:
                    log(f"{row} conns:{c} size:{size} ...")
                    entry = measure(row, server, load, c, size, out,
                                            args.repeat, log)
                    entries.append(entry)
                    done += 1
            if conn_count:
                log(f"{row} {conn_count} connections ...")
                entries.append(measure_conns(row, server, connect,
                                             conn_count, out, args.repeat,
                                             log))
                done += 1
        except Skip as e:
            status.write(f"instr-{row}\tskipped: {e}\n")
            log(f"{row} skipped: {e}")
            done += per_row - len(entries)
            continue
        except (RuntimeError, OSError, ValueError,
                subprocess.TimeoutExpired) as e:
            status.write(f"instr-{row}\tfailed: {e}\n")
            log(f"{row} FAILED: {e}")
            failed = True
            done += per_row - len(entries)
        if entries:
            # auto: the backend it chose at start-up.
            ctx = context(chosen if row == "auto" else row)
            with open(os.path.join(out, f"instr-{row}.json"), "w") as f:
                json.dump({"context": ctx, "benchmarks": entries}, f,
                          indent=1)
    status.close()
    e = int(time.monotonic() - start)
    print(f"[instr {e // 60}:{e % 60:02d}] done", flush=True)
    return 1 if failed else 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("bin_dir")
    r.add_argument("out_dir")
    r.add_argument("--rows", default="")
    r.add_argument("--conns", default=",".join(map(str, CONNS)))
    r.add_argument("--sizes", default=",".join(map(str, SIZES)))
    r.add_argument("--repeat", type=int, default=1)
    r.add_argument("--conn-count", type=int, default=CONN_COUNT,
                   help="connections for instructions per connection "
                        "(0: not measured)")
    args = p.parse_args(argv[1:])
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
