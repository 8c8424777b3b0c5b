"""Module extension for MODULE.bazel (bzlmod, Bazel 7+): the repositories of
polyio's that no Bazel Central Registry module provides under polyio's
labels, from the host's system libraries (third_party/repositories.bzl):

  @liburing    Debian's liburing-dev (/usr/include/liburing.h, -luring)
  @libkqueue   libkqueue if installed (libkqueue/repository.bzl); on Linux
               without it the kqueue backend is incompatible, as in WORKSPACE

Not loaded by Bazel 4.2.3 (WORKSPACE mode), and untested here: this
environment has no Bazel with bzlmod.
"""

load(":repositories.bzl", "polyio_system_libraries")

def _system_libraries_impl(_module_ctx):
    polyio_system_libraries()

system_libraries = module_extension(implementation = _system_libraries_impl)
