"""polyio_backend_test: one test per backend, all in one `bazel test //...`.

    polyio_backend_test(
        name = "conformance_test",
        srcs = ["conformance_test.cc"],
        deps = ["//runtime", "@com_google_googletest//:gtest_main"],
    )

creates
    conformance_test_epoll, conformance_test_poll, conformance_test_io_uring,
    conformance_test_kqueue, conformance_test_auto      one test per backend
    conformance_test                                     test_suite of them all
    conformance_test_bin                                 the cc_binary (manual)

How it works. The test code is a single cc_binary (testonly, tagged manual so
that //... does not build it in the command line's configuration). Each
per-backend test is a small Starlark test rule, `_backend_test`, whose
`binary` attribute has an outgoing configuration transition that sets the
build setting //backends:backend to that backend. So the binary, and
everything below it that reads the setting (//backends:selected and whatever
depends on it), is built once per backend, each in its own configuration;
the test rule just re-exports the binary as its executable (a symlink) with
its runfiles, and adds POLYIO_EXPECT_BACKEND=<backend> to the test's
environment. To Bazel's test runner it is an ordinary test: gtest output,
test.xml (gtest writes $XML_OUTPUT_FILE), sharding (TEST_SHARD_INDEX etc.),
--test_filter (TESTBRIDGE_TEST_ONLY), --test_env, size/timeout/flaky all
behave as for cc_test. Command-line flags other than the backend (--config=
asan/ubsan/tsan/clang, -c opt) carry through the transition unchanged.

Fault injection. `fault = True` makes the transition also set
//backends:fault=on (backends/fault/): the binary's polyio::Backend is then
FaultBackend<...>. For epoll, poll and io_uring (Linux) the layer's inner
backend is chosen at run time (POLYIO_FAULT_INNER, which the test rule
sets), so the three share ONE build: the transition sets the backend flag
to epoll for all of them, and a fault binary is compiled once, whatever
backends, seeds and runtimes its tests cover. (kqueue and auto under faults
are a build of their own each: FaultBackend<KqueueBackend>, ...) Tests
without `fault` pass the command line's value through, so `--config=fault`
puts every per-backend test under faults.

Backends the host cannot run are incompatible (target_compatible_with), so
`bazel test //...` skips them instead of failing them:
    epoll, io_uring, auto   Linux only
    poll                    everywhere
    kqueue                  macOS/FreeBSD/OpenBSD, and Linux with libkqueue
                            (//backends:kqueue_available)
A backend that builds but cannot run here (io_uring refused by seccomp) is
the test's business: it should GTEST_SKIP.

Bazel 4.2.3 still loads and analyzes the dependencies of an incompatible
target (it only skips building and running it), so every backend package
that //backends:selected can name (//backends/epoll, poll, io_uring, kqueue,
auto) must exist and load everywhere; a backend that cannot build on a host
marks its cc_library with target_compatible_with (as @libkqueue//:libkqueue
does when libkqueue is absent) rather than failing.

Note: an explicitly requested incompatible target is an error in Bazel 4.2.3
("Target ... is incompatible and cannot be built"). `bazel test //...`,
`//tests/...`, `//pkg:all` and the test_suite `name` skip it (reported as
SKIPPED, never as passed).

Consumed as an external repository (@polyio): the transition names the flag
by its canonical label, str(Label("//backends:backend")), which is resolved
relative to this .bzl file's repository, so it is "@polyio//backends:backend"
there and "//backends:backend" here; the flag is always found.

Cost: code that does not depend on //backends:selected (Abseil stand-ins,
platform/) is still compiled once per backend configuration, because Bazel
4.2.3 does not trim configurations; ccache-like savings come only from the
--disk_cache.
"""

_BACKEND_FLAG = str(Label("//backends:backend"))

_FAULT_FLAG = str(Label("//backends:fault"))

ALL_BACKENDS = ["epoll", "poll", "io_uring", "kqueue", "auto"]

_LINUX_ONLY = ["@platforms//os:linux"]

_INCOMPATIBLE = str(Label("//tools/bazel:incompatible"))

def _compatible_with(backend):
    """target_compatible_with for the test of `backend` on the target OS."""
    if backend in ("epoll", "io_uring", "auto"):
        return _LINUX_ONLY
    if backend == "poll":
        return []
    if backend == "kqueue":
        return select({
            str(Label("//backends:kqueue_available")): [],
            "//conditions:default": [_INCOMPATIBLE],
        })
    fail("unknown backend %r; known: %s" % (backend, ALL_BACKENDS))

# Under faults on Linux, epoll, poll and io_uring are one build: the layer's
# inner backend is chosen at run time (backends/fault/chosen_backend.h).
_CHOSEN_AT_RUN_TIME = ["epoll", "poll", "io_uring"]

def _backend_transition_impl(settings, attr):
    if attr.fault:
        backend = attr.backend
        if backend in _CHOSEN_AT_RUN_TIME:
            backend = "epoll"
        return {_BACKEND_FLAG: backend, _FAULT_FLAG: "on"}

    # The others keep what the command line says (--config=fault runs
    # every per-backend test under faults).
    return {_BACKEND_FLAG: attr.backend, _FAULT_FLAG: settings[_FAULT_FLAG]}

_backend_transition = transition(
    implementation = _backend_transition_impl,
    inputs = [_FAULT_FLAG],
    outputs = [_BACKEND_FLAG, _FAULT_FLAG],
)

def _backend_test_impl(ctx):
    binary = ctx.attr.binary[0]
    info = binary[DefaultInfo]
    executable = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(
        output = executable,
        target_file = info.files_to_run.executable,
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [executable]).merge(info.default_runfiles)
    env = dict(ctx.attr.env)
    env["POLYIO_EXPECT_BACKEND"] = ctx.attr.backend
    if ctx.attr.fault and ctx.attr.backend in _CHOSEN_AT_RUN_TIME:
        env["POLYIO_FAULT_INNER"] = ctx.attr.backend
    return [
        DefaultInfo(executable = executable, runfiles = runfiles),
        testing.TestEnvironment(env),
        coverage_common.instrumented_files_info(
            ctx,
            dependency_attributes = ["binary"],
        ),
    ]

_backend_test = rule(
    implementation = _backend_test_impl,
    test = True,
    attrs = {
        "backend": attr.string(mandatory = True, values = ALL_BACKENDS),
        "binary": attr.label(
            mandatory = True,
            executable = True,
            cfg = _backend_transition,
        ),
        "env": attr.string_dict(),
        "fault": attr.bool(default = False),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def polyio_backend_test(
        name,
        srcs = [],
        deps = [],
        binary_of = None,
        backends = ALL_BACKENDS,
        size = "medium",
        timeout = None,
        shard_count = None,
        tags = [],
        data = [],
        env = {},
        fault = False,
        **kwargs):
    """One test target per backend (`<name>_<backend>`) + test_suite `name`.

    Args:
      name: the test_suite's name, and the prefix of the per-backend tests.
      srcs, deps, data: as for cc_test (deps usually include gtest_main and
        something that depends on //backends:selected).
      binary_of: instead of srcs/deps, the name of another
        polyio_backend_test in this package whose binary to run (with other
        `env`): the code is compiled once for both.
      backends: the backends to test; incompatible ones are skipped.
      size, timeout, shard_count, tags: as for cc_test, for every backend.
      env: extra test environment; POLYIO_EXPECT_BACKEND is added.
      fault: build the binary with the fault layer on (//backends:fault=on,
        backends/fault/). With binary_of, the other test's code is compiled
        once more, in the fault configuration, and shared by every fault
        test of that binary (epoll, poll and io_uring, seeds and runtimes
        differ by environment only). Linux only for those three.
      **kwargs: passed to the cc_binary (copts, defines, linkopts, ...).
    """
    if binary_of != None:
        binary = binary_of + "_bin"
    else:
        binary = name + "_bin"
        native.cc_binary(
            name = binary,
            srcs = srcs,
            deps = deps,
            data = data,
            testonly = True,
            tags = ["manual"],
            visibility = ["//visibility:private"],
            **kwargs
        )
    tests = []
    for backend in backends:
        test_name = "%s_%s" % (name, backend)
        extra = {}
        if timeout != None:
            extra["timeout"] = timeout
        if shard_count != None:
            extra["shard_count"] = shard_count
        _backend_test(
            name = test_name,
            backend = backend,
            binary = ":" + binary,
            env = env,
            fault = fault,
            size = size,
            tags = tags + ["backend_" + backend],
            target_compatible_with = (
                _LINUX_ONLY if fault and backend in _CHOSEN_AT_RUN_TIME else _compatible_with(backend)
            ),
            **extra
        )
        tests.append(":" + test_name)
    native.test_suite(
        name = name,
        tests = tests,
        tags = tags,
    )
