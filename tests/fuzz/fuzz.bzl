"""polyio_fuzz_target: a libFuzzer binary and a replay test of its corpus.

    polyio_fuzz_target(
        name = "timer_wheel_fuzz",
        srcs = ["timer_wheel_fuzz.cc"],
        deps = [...],
    )

creates
    timer_wheel_fuzz               the libFuzzer binary (tags: manual, fuzz);
                                   build it with --config=fuzz (clang):
                                   bazel build --config=fuzz //tests/fuzz:all
    timer_wheel_fuzz_corpus_test   a cc_test that feeds every file of
                                   corpus/timer_wheel/ to the same code, built
                                   by whatever compiler the config has (g++
                                   too), so that `bazel test //...` keeps the
                                   seeds as regression cases in every config

The corpus directory is corpus/<name without "_fuzz">/. The target's code
defines LLVMFuzzerTestOneInput and reports a model mismatch by abort()ing
(check.h), which libFuzzer and the replay test both treat as a failure.
"""

def polyio_fuzz_target(name, srcs, deps = [], size = "small"):
    base = name[:-len("_fuzz")] if name.endswith("_fuzz") else name
    corpus = "corpus/" + base
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = deps + [":check"],
        # The entry point is found by name, by libFuzzer or replay_main.
        alwayslink = True,
        visibility = ["//visibility:private"],
    )
    native.cc_binary(
        name = name,
        testonly = True,
        linkopts = ["-fsanitize=fuzzer"],
        deps = [":" + name + "_lib"],
        tags = ["manual", "fuzz"],
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = size,
        # The test runs in its runfiles tree, where the files keep their
        # workspace-relative paths.
        args = [native.package_name() + "/" + corpus],
        data = native.glob([corpus + "/**"]),
        deps = [":" + name + "_lib", ":replay_main"],
    )
