#!/usr/bin/env bash
# The bundle's bin/NAME, one copy per program: sets the bundle's environment (env.sh: Open MPI's
# and PMIx's paths, the machine's CUDA libraries) and runs libexec/NAME, the real program, whose
# RPATH ($ORIGIN/../lib) finds every other library in the bundle. A wrapper rather than the
# program itself, because Open MPI and PMIx must be told where they were unpacked before they
# start, and mpirun's ranks then inherit all of it.
set -euo pipefail
self=$(readlink -f "${BASH_SOURCE[0]}")  # through any symlink to it, to the bundle
bin=$(dirname "$self")
# shellcheck source=launch/bundle/env.sh
source "$bin/../env.sh"
exec "$DPTRAIN_BUNDLE/libexec/$(basename "$self")" "$@"
