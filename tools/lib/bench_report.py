#!/usr/bin/env python3
"""Tables and comparisons of polyio benchmark results (tools/bench).

    bench_report.py table DIR        one table per workload from DIR/*.json
                                     (+ DIR/status.txt: skipped rows)
    bench_report.py compare OLD NEW  what changed per benchmark; OLD and NEW
                                     are result files (Google Benchmark JSON)
                                     or result directories of tools/bench

Reads Google Benchmark's JSON (--benchmark_out_format=json). Where a run has
repetitions, the median is used. Echo rows: messages/s and MB/s (10^6 bytes,
payload one way) and the ratio to the raw epoll server. Runtime rows: ns per
operation (per item where the benchmark counts items).
"""
import json
import os
import re
import sys

ECHO_ORDER = ["epoll", "poll", "io_uring", "auto", "raw_epoll", "raw_io_uring"]
NOISE = 0.05  # changes smaller than this are reported as noise


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
    widths = [max(len(str(r[i])) for r in [header] + rows)
              for i in range(len(header))]
    line = lambda r: "| " + " | ".join(
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(r, widths))) + " |"
    print(line(header))
    print("|" + "|".join(("-" * (w + 1) + ":") if i else ("-" * (w + 2))
                         for i, w in enumerate(widths)) + "|")
    for r in rows:
        print(line(r))
    print()


def table(directory):
    status = read_status(directory)
    echo, runtime = {}, {}  # backend -> {name: entry}
    context = None
    for f in result_files(directory):
        doc = load(os.path.join(directory, f))
        kind, _, label = f[:-5].partition("-")
        # Rows are named by the build (auto says what it chose at start-up).
        chosen = backend_of(doc, label)
        backend = label if chosen == label else f"{label} ({chosen})"
        context = context or doc.get("context", {})
        (echo if kind.endswith("echo_bench") else runtime)[backend] = runs(doc)
    if context:
        print(f"date {context.get('polyio_date', context.get('date'))}, "
              f"host {context.get('polyio_host', context.get('host_name'))}, "
              f"{context.get('polyio_kernel', '')}, "
              f"{context.get('num_cpus')} CPUs, "
              f"cores {context.get('polyio_cores', '?')}\n")
    skipped = {job.split("-", 1)[1]: text for job, text in status.items()
               if text.startswith("skipped")}

    names = []
    for rs in echo.values():
        names += [n for n in rs if n not in names]
    def ordered(rows):
        rank = lambda b: (ECHO_ORDER.index(b.split(" ")[0])
                          if b.split(" ")[0] in ECHO_ORDER else 99)
        return sorted(rows, key=rank)
    order = ordered(set(echo) | set(skipped))
    for name in names:
        m = re.search(r"conns:(\d+)/size:(\d+)", name)
        title = (f"echo ping-pong, {m.group(1)} connection(s), "
                 f"{m.group(2)} B messages" if m else name)
        print(f"**{title}**\n")
        base = echo.get("raw_epoll", {}).get(name, {}).get("messages")
        rows = []
        for b in order:
            e = echo.get(b, {}).get(name)
            if e is None or "messages" not in e:
                why = skipped.get(b, e.get("error_message", "no result")
                                  if e else "no result")
                rows.append((b, "-", "-", why))
                continue
            ratio = f"{e['messages'] / base:.2f}x" if base else "-"
            rows.append((b, fmt_rate(e["messages"]),
                         f"{e['bytes'] / 1e6:.2f}", ratio))
        print_table(("server", "messages/s", "MB/s", "vs raw_epoll"), rows)

    if runtime:
        backends = ordered(runtime)
        names = []
        for rs in runtime.values():
            names += [n for n in rs if n not in names]
        print("**runtime overheads, ns per operation**\n")
        rows = []
        for name in names:
            row = [name]
            for b in backends:
                e = runtime[b].get(name)
                row.append(f"{ns_per_op(e):.1f}" if e and "real_time" in e
                           and not e.get("error_occurred") else "-")
            rows.append(row)
        print_table(["benchmark"] + backends, rows)
        for b, text in skipped.items():
            if b not in runtime:
                print(f"runtime_bench on {b}: {text}")
    for job, text in status.items():
        if text.startswith("failed"):
            print(f"{job}: {text}")


def metric(b):
    """(value, higher_is_better, label)"""
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
            verdict = ("noise" if abs(change) < NOISE else
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
          f"{NOISE * 100:.0f}% (smaller changes are within this machine's "
          f"noise).")


def main(argv):
    if len(argv) == 3 and argv[1] == "table":
        table(argv[2])
    elif len(argv) == 4 and argv[1] == "compare":
        compare(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
