# Stand-in for @rules_cc//cc:defs.bzl (bazelbuild/rules_cc).
#
# Why: @bazel_tools of Bazel 4.2.3 loads @rules_cc//cc:defs.bzl, and Debian's
# bazel-rules-cc 0.0.4 does not load in 4.2.3 (it needs use_cpp_toolchain,
# which 4.2.3's @bazel_tools lacks). The native C++ rules are what rules_cc
# wraps anyway, so this file just forwards to them.

def cc_binary(**kwargs):
    native.cc_binary(**kwargs)

def cc_import(**kwargs):
    native.cc_import(**kwargs)

def cc_library(**kwargs):
    native.cc_library(**kwargs)

def cc_proto_library(**kwargs):
    native.cc_proto_library(**kwargs)

def cc_test(**kwargs):
    native.cc_test(**kwargs)

def fdo_prefetch_hints(**kwargs):
    native.fdo_prefetch_hints(**kwargs)

def fdo_profile(**kwargs):
    native.fdo_profile(**kwargs)

def objc_import(**kwargs):
    native.objc_import(**kwargs)

def objc_library(**kwargs):
    native.objc_library(**kwargs)

def cc_toolchain(**kwargs):
    native.cc_toolchain(**kwargs)

def cc_toolchain_suite(**kwargs):
    native.cc_toolchain_suite(**kwargs)
