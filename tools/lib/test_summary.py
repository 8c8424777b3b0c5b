#!/usr/bin/env python3
"""Prints tools/test's summary from the Build Event Protocol files of its steps.

usage: test_summary.py STEP... where STEP is "name|status|seconds|bep.json"
(bep.json may be empty for steps that run no bazel command).

For every step: pass/fail and time. For every test target of a step: its
Bazel status and the gtest case counts read from its test.xml files (one per
shard; the last attempt of each shard when tests are retried). Incompatible
targets (a backend this host cannot run) are listed as SKIPPED with no cases;
a test target that failed to build counts as one failed case, so that the
totals never hide it. Then the total over all steps, "N passed, N failed,
N skipped", and last, what failed: every failed gtest case (or target) of
every step with the first lines of its failure message — last, because a
log is often read from its end (CI shows only its tail).
"""

import json
import os
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET


def xml_counts(path, failed=None):
    """(tests, failures, skipped) of one test.xml (gtest's or Bazel's).

    Appends (case name, failure message) of each failed case to `failed`.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    tests = failures = skipped = 0
    for case in root.iter("testcase"):
        tests += 1
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failures += 1
            if failed is not None:
                name = ".".join(x for x in (case.get("classname"), case.get("name")) if x)
                failed.append((name, problem.get("message") or problem.text or ""))
        elif (case.get("result") == "skipped" or case.get("status") == "notrun"
              or case.find("skipped") is not None):
            skipped += 1
    return tests, failures, skipped


def file_path(uri):
    if uri.startswith("file://"):
        return urllib.request.url2pathname(urllib.parse.urlparse(uri).path)
    return None


def read_bep(path):
    """{label: {"status", "cached", "counts"}} for the test targets in a BEP file."""
    targets = {}
    results = {}  # (label, run, shard) -> (attempt, xml path)
    test_labels = set()
    if not path or not os.path.exists(path):
        return targets
    with open(path) as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            eid = event.get("id", {})
            if "started" in eid:
                if event.get("started", {}).get("command") != "test":
                    return {}  # a build: no test targets to report
            elif "targetConfigured" in eid:
                label = eid["targetConfigured"]["label"]
                if "testSize" in event.get("configured", {}):
                    test_labels.add(label)
            elif "targetCompleted" in eid:
                label = eid["targetCompleted"]["label"]
                if label not in test_labels:
                    continue
                entry = targets.setdefault(label, {"cached": False})
                aborted = event.get("aborted", {})
                if aborted.get("reason") == "SKIPPED":
                    entry["status"] = "SKIPPED (incompatible)"
                elif aborted or not event.get("completed", {}).get("success", False):
                    entry.setdefault("status", "FAILED TO BUILD")
            elif "testResult" in eid:
                rid = eid["testResult"]
                key = (rid["label"], rid.get("run", 1), rid.get("shard", 1))
                attempt = rid.get("attempt", 1)
                payload = event.get("testResult", {})
                xml = None
                for out in payload.get("testActionOutput", []):
                    if out.get("name") == "test.xml":
                        xml = file_path(out.get("uri", ""))
                if key not in results or results[key][0] <= attempt:
                    results[key] = (attempt, xml)
                if payload.get("cachedLocally") or payload.get(
                        "executionInfo", {}).get("cachedRemotely"):
                    targets.setdefault(rid["label"], {})["cached"] = True
            elif "testSummary" in eid:
                label = eid["testSummary"]["label"]
                entry = targets.setdefault(label, {"cached": False})
                entry["status"] = event.get("testSummary", {}).get(
                    "overallStatus", "NO_STATUS")
    for (label, _, _), (_, xml) in results.items():
        entry = targets.setdefault(label, {"cached": False})
        failed = entry.setdefault("failed", [])
        counts = xml_counts(xml, failed) if xml else None
        if counts is None:
            counts = (1, 1, 0)  # ran, but no readable test.xml
            failed.append(("(no readable test.xml: crashed or timed out?)", ""))
        old = entry.get("counts", (0, 0, 0))
        entry["counts"] = tuple(a + b for a, b in zip(old, counts))
    for entry in targets.values():
        if entry.get("status") == "FAILED TO BUILD" and "counts" not in entry:
            entry["counts"] = (1, 1, 0)
            entry["failed"] = [("(did not build)", "")]
    return targets


def first_lines(text, lines=4, width=160):
    out = [l.rstrip()[:width] for l in text.strip().splitlines() if l.strip()]
    return out[:lines]


def main(argv):
    total_passed = total_failed = total_skipped = 0
    what_failed = []  # (step, label, case, message)
    steps = [arg.split("|", 3) for arg in argv]
    print("=" * 78)
    print("Summary")
    print("=" * 78)
    for name, status, seconds, _ in steps:
        print(f"  {status:<5} {name:<56} {int(float(seconds or 0)):>5}s")
    for name, status, _, bep in steps:
        targets = read_bep(bep)
        if not targets:
            continue
        print()
        print(f"{name}: gtest cases per test target (tests / failures / skipped)")
        for label in sorted(targets):
            entry = targets[label]
            tests, failures, skipped = entry.get("counts", (0, 0, 0))
            state = entry.get("status", "NO_STATUS")
            if entry.get("cached") and state == "PASSED":
                state = "PASSED (cached)"
            counts = f"{tests:>4} / {failures:>3} / {skipped:>3}" if "counts" in entry else ""
            print(f"  {label:<56} {state:<22} {counts}")
            total_failed += failures
            total_skipped += skipped
            total_passed += tests - failures - skipped
            for case, message in entry.get("failed", []):
                what_failed.append((name, label, case, message))
    print()
    line = f"{total_passed} passed, {total_failed} failed"
    if total_skipped:
        line += f", {total_skipped} skipped"
    print(line)
    if what_failed:
        print()
        print("What failed (step: target: case, then the start of its message):")
        shown = 40
        for step, label, case, message in what_failed[:shown]:
            print(f"  {step}: {label}: {case}")
            for l in first_lines(message):
                print(f"      {l}")
        if len(what_failed) > shown:
            print(f"  ... and {len(what_failed) - shown} more (see each step's list above)")


if __name__ == "__main__":
    main(sys.argv[1:])
