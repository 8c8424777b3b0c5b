#!/bin/bash
# Part of the offline @remote_coverage_tools stand-in: see its BUILD file.
echo "polyio: coverage tools are not available offline (stand-in for @remote_coverage_tools)" >&2
exit 1
