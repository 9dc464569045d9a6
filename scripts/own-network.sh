#!/usr/bin/env bash
# Runs a command in a network namespace of its own, with only its loopback up: the sandbox of
# the tests, the demo or the bench (Docker engine, registry, sshd, PostgreSQL, API servers)
# then lives and talks on a loopback nobody else uses. A Docker engine rebuilds its iptables chains when it
# starts, so an engine started beside another one in the same namespace (the machine's own
# Docker, or the test suite's sandbox) would wipe that one's rules.
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 command [args...]" >&2
  exit 2
fi
exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' own-network "$@"
