#!/usr/bin/env python3
"""Tables and comparisons of polyio benchmark results (tools/bench).

    bench_report.py table DIR        one table per workload from DIR/*.json
                                     (+ DIR/status.txt: skipped rows)
    bench_report.py chart DIR        DIR/echo.png: messages/s per row,
                                     grouped by workload (gnuplot)
    bench_report.py compare OLD NEW  what changed per benchmark; OLD and NEW
                                     are result files (Google Benchmark JSON)
                                     or result directories of tools/bench

Reads Google Benchmark's JSON (--benchmark_out_format=json). Where a run has
repetitions, the median is used. Echo rows: messages/s and MB/s (10^6 bytes,
payload one way), the ratio to the matching raw baseline (raw_epoll for the
readiness servers, raw_io_uring for the completion ones) and to the best
peer of that workload. Runtime rows: ns per operation (per item where the
benchmark counts items), per polyio backend and peer. File rows
(file_bench-*.json): 4 KiB random reads/s per backend and of the pread and
raw io_uring floors, per queue depth. HTTP rows (http-*.json,
bench_http.py): requests/s of examples/http_hello under wrk per backend,
beside the raw epoll server and the peers answering with the same code, the
ratio to raw_epoll and to the best peer, and issue 13's target for epoll.
--instr rows
(instr-*.json, bench_instr.py): instructions per echoed message, the
abstraction cost over the raw baseline, the ratios to libuv and Asio, system
calls per message (strace) and issue 12's targets, met or missed;
instructions per connection (connect, accept, end of file, close), against
the same rows.
"""
import json
import os
import re
import shutil
import subprocess
import sys

POLYIO = ["epoll", "poll", "io_uring", "kqueue", "auto"]
RAW = ["raw_epoll", "raw_io_uring"]
PEERS = ["asio_epoll", "asio_io_uring", "asio_coro",  # echo
         "asio",                                        # runtime
         "libuv"]                                       # both
ECHO_ORDER = POLYIO + RAW + PEERS
COMPLETION = {"io_uring", "raw_io_uring", "asio_io_uring"}
NOISE = 0.05  # changes smaller than this are reported as noise
INSTR_NOISE = 0.01  # the same for --instr's instruction counts

# Issue 12's targets for --instr, per polyio backend (kqueue through
# libkqueue is reported, not targeted: the emulation dominates).
# Instructions per message: at most this ratio to another row's figure...
PEER_TARGETS = {  # polyio backend -> [(row, at most this ratio)]
    "epoll": [("libuv", 1.0)],  # the goal is 0.7x
    "poll": [("epoll", 1.15)],
    "io_uring": [("asio_io_uring", 0.5)],
}
# ...and at most this much above the row's raw baseline.
COST_TARGET = {"io_uring": 300}
# System calls per message: at most the raw loop's + this, for the
# readiness backends (no speculative call the readiness state already says
# will fail).
SYSCALL_TARGET = {"epoll": 0.05, "poll": 0.05}
# Issue 13's target for the HTTP table: polyio's epoll row at least this
# fraction of raw_epoll's requests/s, at every connection count.
HTTP_TARGET = 0.95

def base_name(row):
    """'auto (io_uring)' -> 'auto'."""
    return row.split(" ")[0]


def model_of(row):
    """The backend a row runs on: 'auto (io_uring)' -> 'io_uring'."""
    m = re.match(r"\S+ \((\S+)\)", row)
    return m.group(1) if m else row


def raw_of(row):
    """The raw baseline a row is compared with."""
    return "raw_io_uring" if model_of(row) in COMPLETION else "raw_epoll"


def is_peer(row):
    return base_name(row) in PEERS


def load(path):
    with open(path) as f:
        return json.load(f)


def runs(doc):
    """name -> benchmark entry, the median when there are repetitions."""
    out = {}
    for b in doc.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                out[name] = b
        elif name not in out:
            out[name] = b
    return out


def ns_per_op(b):
    if b.get("items_per_second"):
        return 1e9 / b["items_per_second"]
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def fmt_rate(x):
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.1f}{unit}"
    return f"{x:.0f}"


def result_files(directory):
    return sorted(f for f in os.listdir(directory) if f.endswith(".json"))


def backend_of(doc, fallback):
    return doc.get("context", {}).get("polyio_backend", fallback)


def read_status(directory):
    status = {}
    path = os.path.join(directory, "status.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "\t" in line:
                    job, text = line.rstrip("\n").split("\t", 1)
                    status[job] = text
    return status


def print_table(header, rows):
    """A Markdown table: the first and the last column (the row's name and
    its notes) left-aligned, the figures right-aligned."""
    widths = [max(len(str(r[i])) for r in [header] + rows)
              for i in range(len(header))]
    left = lambda i: i == 0 or (i == len(header) - 1 and
                                header[i] in ("", "targets"))
    line = lambda r: "| " + " | ".join(
        str(c).ljust(w) if left(i) else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(r, widths))) + " |"
    print(line(header))
    print("|" + "|".join(("-" * (w + 2)) if left(i) else ("-" * (w + 1) + ":")
                         for i, w in enumerate(widths)) + "|")
    for r in rows:
        print(line(r))
    print()


def fmt_ratio(x):
    return f"{x:.2f}x" if x is not None else "-"


def ordered(rows):
    rank = lambda b: (ECHO_ORDER.index(base_name(b))
                      if base_name(b) in ECHO_ORDER else 99)
    return sorted(rows, key=lambda b: (rank(b), b))


def load_dir(directory):
    """{kind: {row: {benchmark name: entry}}}, the first context."""
    kinds, context = {}, None
    for f in result_files(directory):
        doc = load(os.path.join(directory, f))
        kind, _, label = f[:-5].partition("-")
        # Rows are named by the build (auto says what it chose at start-up).
        chosen = backend_of(doc, label)
        row = label if chosen == label or label != "auto" else \
            f"{label} ({chosen})"
        if kind != "instr":
            context = context or doc.get("context", {})
        kind = ("echo" if kind.endswith("echo_bench") else
                "instr" if kind == "instr" else
                "http" if kind == "http" else
                "file" if kind == "file_bench" else "runtime")
        kinds.setdefault(kind, {})[row] = runs(doc)
        if kind == "instr":
            context = context or doc.get("context", {})
    return kinds, context


def skipped_rows(status, kind):
    """{row: reason} of the status lines for jobs of this kind."""
    prefix = {"echo": "echo_bench-", "runtime": "runtime_bench-",
              "instr": "instr-", "file": "file_bench-", "http": "http-"}[kind]
    return {job[len(prefix):]: text for job, text in status.items()
            if job.startswith(prefix) and text.startswith("skipped")}


def workload_title(name):
    m = re.search(r"conns:(\d+)/size:(\d+)", name)
    return (f"{m.group(1)} connection(s), {m.group(2)} B messages"
            if m else name)


def names_of(rows):
    names = []
    for rs in rows.values():
        names += [n for n in rs if n not in names]
    return names


def echo_tables(echo, skipped):
    order = ordered(set(echo) | set(skipped))
    for name in names_of(echo):
        print(f"**echo ping-pong, {workload_title(name)}**\n")
        value = {b: echo[b][name]["messages"] for b in echo
                 if name in echo[b] and "messages" in echo[b][name]}
        peers = {b: v for b, v in value.items() if is_peer(b)}
        best = max(peers, key=peers.get) if peers else None
        rows = []
        for b in order:
            e = echo.get(b, {}).get(name)
            if b not in value:
                why = skipped.get(b, e.get("error_message", "no result")
                                  if e else "no result")
                rows.append((b, "-", "-", "-", "-", why))
                continue
            raw = value.get(raw_of(b))
            rows.append((
                b, fmt_rate(value[b]), f"{e['bytes'] / 1e6:.2f}",
                fmt_ratio(value[b] / raw if raw else None),
                fmt_ratio(value[b] / value[best] if best else None), ""))
        print_table(("server", "messages/s", "MB/s", "vs raw",
                     f"vs best peer ({best or 'none'})", ""), rows)


def runtime_table(runtime, skipped):
    columns = ordered(runtime)
    polyio = [b for b in columns if not is_peer(b)]
    peers = [b for b in columns if is_peer(b)]
    print("**runtime overheads, ns per operation**\n")
    rows = []
    # polyio's benchmarks first, in their order; then the peers' own.
    memory = {}
    for name in names_of({b: runtime[b] for b in columns}):
        if any("bytes_per_idle_task" in runtime[b].get(name, {})
               for b in columns):
            memory[name] = name
            continue
        row = [name]
        value = {}
        for b in columns:
            e = runtime[b].get(name)
            if e and "real_time" in e and not e.get("error_occurred"):
                value[b] = ns_per_op(e)
            row.append(f"{value[b]:.1f}" if b in value else "-")
        best = min((b for b in peers if b in value), key=value.get,
                   default=None)
        row.append(f"{best} {value[best]:.1f}" if best else "-")
        # polyio's default backend first, else the first one measured.
        mine = next((b for b in polyio if b in value), None)
        row.append(fmt_ratio(value[mine] / value[best])
                   if mine and best else "-")
        rows.append(row)
    mine_name = polyio[0] if polyio else "polyio"
    print_table(["benchmark"] + columns +
                ["best peer", f"{mine_name} vs best peer"], rows)
    for b, text in skipped.items():
        if b not in runtime:
            print(f"runtime_bench on {b}: {text}")
    print()
    for name in memory:
        memory_table(runtime, columns, name)


# Issue 12: runtime state per idle task (parked in Read), at most this.
IDLE_TASK_BYTES_TARGET = 256


def memory_table(runtime, columns, name):
    """Heap bytes per idle task (memory_bench.cc), per backend."""
    print(f"**heap bytes per idle task: a spawned task parked in Read on a "
          f"stream of its own, beyond the user's buffer ({name})**\n")
    rows = []
    for b in columns:
        e = runtime[b].get(name)
        if not e or "bytes_per_idle_task" not in e:
            continue
        total = e["bytes_per_idle_task"]
        target = ("met" if total <= IDLE_TASK_BYTES_TARGET else
                  f"MISSED: {total:.0f} > {IDLE_TASK_BYTES_TARGET}")
        rows.append((b, f"{e['stream_bytes']:.0f}", f"{e['task_bytes']:.0f}",
                     f"{total:.0f}", target))
    print_table(("backend", "stream bytes", "task bytes", "bytes per idle task",
                 "target (issue 12)"), rows)
    print()


# The file rows: which benchmark of which result file each row reads. The
# raw binary holds both floors.
FILE_BENCH = {"raw_pread": ("raw", "BM_RawPreadRead"),
              "raw_io_uring": ("raw", "BM_RawIoUringRead")}


def file_entry(files, row, depth):
    """(result file's row, its entry for `depth` or None)."""
    source, bench = FILE_BENCH.get(row, (row, "BM_PolyioFileRead"))
    return source, files.get(source, {}).get(f"{bench}/qd:{depth}/real_time")


def file_tables(files, skipped):
    """Per queue depth: reads/s and MB/s of every backend and of the two
    floors; each backend against the floor of its model (io_uring's reads
    against raw io_uring, the readiness backends' against the pread loop)."""
    rows_in_order = ordered([b for b in files if b != "raw"] +
                            [b for b in skipped
                             if b != "raw" and b not in files])
    rows_in_order += list(FILE_BENCH)
    ok = lambda e: e and e.get("ops") and not e.get("error_occurred")
    for depth in (1, 32):
        print(f"**4 KiB random reads, 256 MiB file in the page cache, "
              f"queue depth {depth}**\n")
        found = {row: file_entry(files, row, depth) for row in rows_in_order}
        rows = []
        for row, (source, e) in found.items():
            if not ok(e):
                why = skipped.get(source, (e or {}).get("error_message",
                                                        "no result"))
                rows.append((row, "-", "-", "-", why))
                continue
            _, floor = found["raw_io_uring" if model_of(row) in COMPLETION
                             else "raw_pread"]
            rows.append((row, fmt_rate(e["ops"]), f"{e['bytes'] / 1e6:.0f}",
                         fmt_ratio(e["ops"] / floor["ops"] if ok(floor)
                                   else None), ""))
        print_table(("reader", "reads/s", "MB/s", "vs raw", ""), rows)


def http_tables(http, skipped):
    """Per connection count: requests/s of every row, against raw_epoll (the
    floor: a hand-written epoll loop with the same answers) and the best
    peer; the server's CPU time per request, against raw_epoll's; epoll's
    row against issue 13's target."""
    order = ordered(set(http) | set(skipped))
    for name in names_of(http):
        m = re.search(r"conns:(\d+)", name)
        conns = m.group(1) if m else name
        print(f"**HTTP hello (wrk -t1), {conns} connections**\n")
        value = {b: http[b][name]["requests_per_second"] for b in http
                 if name in http[b]}
        peers = {b: v for b, v in value.items() if is_peer(b)}
        best = max(peers, key=peers.get) if peers else None
        raw = value.get("raw_epoll")
        cpu = {b: http[b][name].get("server_cpu_ns_per_request")
               for b in value}
        raw_cpu = cpu.get("raw_epoll")
        rows = []
        for b in order:
            if b not in value:
                rows.append((b, "-", "-", "-", "-", "-", "-",
                             skipped.get(b, "no result")))
                continue
            e = http[b][name]
            notes = []
            if e.get("errors"):
                notes.append(f"{e['errors']} wrk errors")
            if b == "epoll" and raw:
                r = value[b] / raw
                notes.append(f"target met (>= {HTTP_TARGET}x raw_epoll)"
                             if r >= HTTP_TARGET else
                             f"MISSED: {r:.2f}x raw_epoll < {HTTP_TARGET}x")
            spread = (f"{e['repeat_spread'] * 100:.1f}%"
                      if e.get("repetitions", 1) > 1 else "-")
            rows.append((b, fmt_rate(value[b]),
                         fmt_ratio(value[b] / raw if raw else None),
                         fmt_ratio(value[b] / value[best] if best else None),
                         spread,
                         f"{cpu[b] / 1e3:.2f}" if cpu.get(b) else "-",
                         fmt_ratio(cpu[b] / raw_cpu)
                         if cpu.get(b) and raw_cpu else "-",
                         "; ".join(notes)))
        print_table(("server", "requests/s", "vs raw_epoll",
                     f"vs best peer ({best or 'none'})", "repeat spread",
                     "server us CPU/request", "CPU vs raw_epoll", ""),
                    rows)


def instr_targets(row, value, cost, syscalls):
    """'met', or which of issue 12's targets the row misses and by how
    much; '' for rows without targets (raw baselines, peers, kqueue).
    `value`: instructions per message of every row; `syscalls`: system
    calls per message of every row that has the figure."""
    backend = model_of(row)
    if is_peer(row) or base_name(row) in RAW:
        return ""
    missed = []
    limit = COST_TARGET.get(backend)
    if limit is not None and cost is not None and cost > limit:
        missed.append(f"cost {cost:.0f} > {limit}")
    for other, ratio in PEER_TARGETS.get(backend, []):
        if value.get(other):
            r = value[row] / value[other]
            if r > ratio:
                missed.append(f"{r:.2f}x {other} > {ratio}x")
    extra = SYSCALL_TARGET.get(backend)
    raw = syscalls.get(raw_of(row))
    if extra is not None and row in syscalls and raw is not None:
        if syscalls[row] > raw + extra:
            missed.append(f"{syscalls[row]:.2f} syscalls > {raw:.2f} + "
                          f"{extra}")
    if not missed and backend not in PEER_TARGETS:
        return ""
    return "met" if not missed else "MISSED: " + "; ".join(missed)


def instr_tables(instr, skipped):
    """The --instr tables: instructions per echoed message per workload,
    then instructions per connection."""
    order = ordered(set(instr) | set(skipped))
    print("**instructions per echoed message (callgrind, server process "
          "only)**\n")
    for name in names_of(instr):
        if not name.startswith("BM_EchoInstr"):
            continue
        print(f"**--instr, {workload_title(name)}**\n")
        value = {b: instr[b][name]["instructions_per_message"]
                 for b in instr if name in instr[b]}
        syscalls = {b: instr[b][name]["syscalls_per_message"]
                    for b in value
                    if "syscalls_per_message" in instr[b][name]}
        rows = []
        for b in order:
            if b not in value:
                rows.append((b, "-", "-", "-", "-", "-", "-", "-",
                             skipped.get(b, "no result")))
                continue
            e = instr[b][name]
            raw = value.get(raw_of(b))
            cost = (value[b] - raw if raw is not None and
                    base_name(b) not in RAW else None)
            asio = ("asio_io_uring" if model_of(b) in COMPLETION
                    else "asio_epoll")
            spread = (f"{e['repeat_spread'] * 100:.2f}%"
                      if e.get("repetitions", 1) > 1 else "-")
            sc = "-"
            if b in syscalls:
                sc = f"{syscalls[b]:.2f}"
                if raw_of(b) in syscalls and base_name(b) not in RAW:
                    sc += f" ({syscalls[b] - syscalls[raw_of(b)]:+.2f})"
            failed = (f"{e['failed_syscalls_per_message']:.2f}"
                      if "failed_syscalls_per_message" in e else "-")
            rows.append((
                b, f"{value[b]:.1f}",
                f"{cost:+.1f}" if cost is not None else "-",
                fmt_ratio(value[b] / value["libuv"]
                          if value.get("libuv") else None),
                fmt_ratio(value[b] / value[asio] if value.get(asio)
                          else None) + (f" ({asio})" if value.get(asio)
                                        else ""),
                spread, sc, failed,
                instr_targets(b, value, cost, syscalls)))
        print_table(("server", "instr/msg", "abstraction cost (- raw)",
                     "vs libuv", "vs Asio", "repeat spread",
                     "syscalls/msg (- raw)", "failed syscalls/msg",
                     "targets (issue 12)"),
                    rows)
    conn_table(instr, skipped, order)


def conn_table(instr, skipped, order):
    """Instructions per connection (BM_ConnInstr): against the raw baseline
    of the row's model, libuv and Asio, and in echoed messages at 64
    connections (what one connection costs in units of the hot path)."""
    for name in names_of(instr):
        if not name.startswith("BM_ConnInstr"):
            continue
        m = re.search(r"conns:(\d+)", name)
        count = m.group(1) if m else "?"
        print(f"**instructions per connection: connect + accept + EOF + "
              f"close (callgrind, server process only; {count} connections, "
              f"one at a time, none sends a byte)**\n")
        value = {b: instr[b][name]["instructions_per_connection"]
                 for b in instr if name in instr[b]}
        per_msg = {b: e["instructions_per_message"]
                   for b in instr for n, e in instr[b].items()
                   if n.startswith("BM_EchoInstr/conns:64/size:64")}
        rows = []
        for b in order:
            if b not in value:
                rows.append((b, "-", "-", "-", "-", "-", "-", "-",
                             skipped.get(b, "no result")))
                continue
            e = instr[b][name]
            raw = value.get(raw_of(b))
            cost = (value[b] - raw if raw is not None and
                    base_name(b) not in RAW else None)
            asio = ("asio_io_uring" if model_of(b) in COMPLETION
                    else "asio_epoll")
            spread = (f"{e['repeat_spread'] * 100:.2f}%"
                      if e.get("repetitions", 1) > 1 else "-")
            rss = (f"{e['rss_bytes_per_idle_connection']:.0f}"
                   if "rss_bytes_per_idle_connection" in e else "-")
            rows.append((
                b, f"{value[b]:.0f}",
                f"{cost:+.0f}" if cost is not None else "-",
                fmt_ratio(value[b] / value["libuv"]
                          if value.get("libuv") else None),
                fmt_ratio(value[b] / value[asio] if value.get(asio)
                          else None) + (f" ({asio})" if value.get(asio)
                                        else ""),
                f"{value[b] / per_msg[b]:.1f}" if per_msg.get(b) else "-",
                spread, rss, conn_target(b, value)))
        print_table(("server", "instr/conn", "- raw", "vs libuv", "vs Asio",
                     "= messages (64 conns)", "repeat spread",
                     "RSS bytes/idle conn", "target (issue 12)"), rows)


def conn_target(row, value):
    """Issue 12: polyio's epoll row at most libuv's instructions per
    connection."""
    if model_of(row) != "epoll" or is_peer(row) or not value.get("libuv"):
        return ""
    if value[row] <= value["libuv"]:
        return "met"
    return f"MISSED: {value[row] / value['libuv']:.2f}x libuv > 1.0x"


def table(directory):
    status = read_status(directory)
    kinds, context = load_dir(directory)
    if context:
        print(f"date {context.get('polyio_date', context.get('date'))}, "
              f"host {context.get('polyio_host', context.get('host_name'))}, "
              f"{context.get('polyio_kernel', '')}, "
              f"{context.get('num_cpus')} CPUs, "
              f"cores {context.get('polyio_cores', '?')}\n")
    if "echo" in kinds or skipped_rows(status, "echo"):
        echo_tables(kinds.get("echo", {}), skipped_rows(status, "echo"))
    if "runtime" in kinds:
        runtime_table(kinds["runtime"], skipped_rows(status, "runtime"))
    if "file" in kinds or skipped_rows(status, "file"):
        file_tables(kinds.get("file", {}), skipped_rows(status, "file"))
    if "http" in kinds or skipped_rows(status, "http"):
        http_tables(kinds.get("http", {}), skipped_rows(status, "http"))
    if "instr" in kinds or skipped_rows(status, "instr"):
        instr_tables(kinds.get("instr", {}), skipped_rows(status, "instr"))
    for job, text in status.items():
        if text.startswith("failed"):
            print(f"{job}: {text}")


# Bar colours by row, so that a skipped row shifts no other colour:
# polyio's backends in blues, greens and purples, the raw baselines in
# greys, the peers in warm colours; black for a row not listed here.
COLORS = {"epoll": "#1f77b4", "poll": "#2ca02c", "io_uring": "#17becf",
          "kqueue": "#9467bd", "auto": "#393b79",
          "raw_epoll": "#7f7f7f", "raw_io_uring": "#c7c7c7",
          "asio_epoll": "#ff7f0e", "asio_io_uring": "#d62728",
          "asio_coro": "#e377c2", "libuv": "#8c564b"}


def chart(directory):
    """echo.png: messages/s of every row, one group of bars per workload."""
    kinds, context = load_dir(directory)
    echo = kinds.get("echo")
    if not echo:
        return
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("chart: gnuplot is not installed (Debian: gnuplot-nox); "
              "no echo.png")
        return
    rows = ordered(echo)
    names = names_of(echo)
    data = os.path.join(directory, "echo.dat")
    with open(data, "w") as f:
        f.write("workload " + " ".join(f'"{r}"' for r in rows) + "\n")
        for name in names:
            m = re.search(r"conns:(\d+)/size:(\d+)", name)
            label = (f"{m.group(1)} conn, {int(m.group(2)) // 1024} KiB"
                     if m and int(m.group(2)) >= 1024 else
                     f"{m.group(1)} conn, {m.group(2)} B" if m else name)
            cells = []
            for r in rows:
                e = echo[r].get(name)
                cells.append(f"{e['messages'] / 1e3:.3f}"
                             if e and "messages" in e else "NaN")
            f.write(f'"{label}" ' + " ".join(cells) + "\n")
    when = (context or {}).get("polyio_date", "")
    host = (context or {}).get("polyio_host", "")
    png = os.path.join(directory, "echo.png")
    script = f"""
set terminal pngcairo noenhanced size 1400,700 font "DejaVu Sans,11"
set output "{png}"
array colors[{len(rows)}] = [{", ".join(f'"{COLORS.get(base_name(r), "#000000")}"' for r in rows)}]
set title "TCP echo ping-pong on loopback: messages/s per server ({host}, {when})"
set ylabel "thousand messages/s (higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics
set yrange [0:*]
set xtics nomirror
plot for [i=2:{len(rows) + 1}] "{data}" using i:xtic(1) title columnheader(i) \\
  lc rgb colors[i - 1]
"""
    done = subprocess.run([gnuplot], input=script.encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        print("chart: gnuplot failed: " +
              done.stdout.decode().strip()[-300:])
        return
    print(f"chart: {png}")


def metric(b):
    """(value, higher_is_better, label)"""
    if "instructions_per_message" in b:
        return b["instructions_per_message"], False, "instr/msg"
    if "instructions_per_connection" in b:
        return b["instructions_per_connection"], False, "instr/conn"
    if "requests_per_second" in b:
        return b["requests_per_second"], True, "requests/s"
    if "messages" in b:
        return b["messages"], True, "messages/s"
    if b.get("items_per_second"):
        return b["items_per_second"], True, "items/s"
    return ns_per_op(b), False, "ns/op"


def pairs(old, new):
    if os.path.isdir(old) and os.path.isdir(new):
        for f in result_files(new):
            if os.path.exists(os.path.join(old, f)):
                yield f, os.path.join(old, f), os.path.join(new, f)
    else:
        yield os.path.basename(new), old, new


def compare(old, new):
    changed = 0
    for label, o, n in pairs(old, new):
        od, nd = load(o), load(n)
        oc, nc = od.get("context", {}), nd.get("context", {})
        print(f"== {label}: {backend_of(od, '?')} "
              f"({oc.get('polyio_date', oc.get('date'))}) -> "
              f"{backend_of(nd, '?')} ({nc.get('polyio_date', nc.get('date'))})")
        for key in ("polyio_host", "polyio_kernel", "polyio_backend"):
            if oc.get(key) != nc.get(key):
                print(f"   note: {key} differs: {oc.get(key)} -> {nc.get(key)}")
        orun, nrun = runs(od), runs(nd)
        rows = []
        for name in nrun:
            if name not in orun:
                rows.append((name, "-", "new", "", ""))
                continue
            ov, higher, unit = metric(orun[name])
            nv, _, _ = metric(nrun[name])
            change = (nv - ov) / ov if ov else 0.0
            better = change > 0 if higher else change < 0
            # Instruction counts repeat within 1%; timings within ~5%.
            noise = INSTR_NOISE if unit.startswith("instr/") else NOISE
            verdict = ("noise" if abs(change) < noise else
                       "better" if better else "WORSE")
            changed += verdict != "noise"
            show = fmt_rate if higher else (lambda x: f"{x:.1f}")
            rows.append((name, f"{show(ov)} {unit}", f"{show(nv)} {unit}",
                         f"{change * 100:+.1f}%", verdict))
        for name in orun:
            if name not in nrun:
                rows.append((name, "", "gone", "", ""))
        print_table(("benchmark", "old", "new", "change", ""), rows)
    print(f"{changed} benchmark(s) changed by more than "
          f"{NOISE * 100:.0f}% ({INSTR_NOISE * 100:.0f}% for instructions per "
          f"message; smaller changes are within this machine's noise).")


def main(argv):
    if len(argv) == 3 and argv[1] == "table":
        table(argv[2])
    elif len(argv) == 3 and argv[1] == "chart":
        chart(argv[2])
    elif len(argv) == 4 and argv[1] == "compare":
        compare(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
