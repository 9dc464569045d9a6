#!/usr/bin/env bash
# Makes a fresh Debian/Ubuntu machine ready for `npm test` and `npm run demo`:
# the real parts the sandbox runs (sshd, Docker engine, Compose, registry, busybox,
# PostgreSQL, zstd, age, and the nginx and HAProxy the zero-downtime tests put in front of the
# demo app) from Debian's packages, and the npm packages from the lockfile.
# Installs only what is missing; says exactly what is missing when it cannot install.
set -euo pipefail
cd "$(dirname "$0")/.."

need_cmds=(/usr/sbin/sshd dockerd docker docker-compose docker-registry busybox /usr/lib/postgresql/15/bin/initdb zstd age ss openssl /usr/sbin/nginx /usr/sbin/haproxy)
packages=(openssh-server docker.io docker-compose docker-registry busybox-static postgresql zstd age iproute2 openssl nginx haproxy)

missing=()
for i in "${!need_cmds[@]}"; do
  if ! command -v "${need_cmds[$i]}" >/dev/null 2>&1 && [ ! -x "${need_cmds[$i]}" ]; then
    missing+=("${packages[$i]}")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ "$(id -u)" != "0" ]; then
  echo "setup: the sandbox starts dockerd and sshd, which needs root (run as root, or in a root container)." >&2
  exit 1
fi

# npm packages: install from the lockfile when node_modules is absent or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
