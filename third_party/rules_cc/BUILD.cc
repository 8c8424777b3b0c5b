#Package @rules_cc  // cc of the local stand-in: only defs.bzl lives here.
package(default_visibility = ["//visibility:public"])

    exports_files(["defs.bzl"])
