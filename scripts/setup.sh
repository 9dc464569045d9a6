#!/usr/bin/env bash
# Makes a fresh Debian or Ubuntu machine ready for `npm test`, `npm run demo` and `npm run bench`:
# the real parts the sandbox runs, from the distribution's packages, and the npm packages from
# the lockfile. Installs only what is missing; says exactly what is missing when it cannot.
#
# Written for Debian 12 (bookworm) and 13 (trixie) and Ubuntu 22.04 and 24.04. Only Debian 12
# is run here (this machine and ../shared/fresh-machine); the others follow their package names.
set -euo pipefail
cd "$(dirname "$0")/.."

# One row per thing the sandbox needs: how to tell it is there (a command on PATH, an absolute
# path, or a glob), and the package that brings it. One table, so the two cannot drift apart.
# Rows marked `bench` are for `npm run bench` only (Ubuntu 24.04 has no awscli package): when
# the distribution has no such package, setup says so and goes on.
requirements=$(cat <<'TABLE'
/usr/sbin/sshd                          openssh-server
dockerd                                 docker.io
docker                                  docker.io
docker-registry                         docker-registry
busybox                                 busybox-static
/usr/lib/postgresql/*/bin/initdb        postgresql
zstd                                    zstd
age                                     age
ip                                      iproute2
ss                                      iproute2
openssl                                 openssl
/usr/sbin/nginx                         nginx
/usr/sbin/haproxy                       haproxy
caddy                                   caddy
zsh                                     zsh
fish                                    fish
sudo                                    sudo
runuser                                 util-linux
setsid                                  util-linux
curl                                    curl
git                                     git
/usr/bin/aws                            awscli        bench
TABLE
)

present() {
  local probe=$1 match
  if [[ $probe == /* ]]; then
    for match in $probe; do [ -x "$match" ] && return 0; done
    return 1
  fi
  command -v "$probe" >/dev/null 2>&1
}

if [ "$(id -u)" != "0" ]; then
  echo "setup: the sandbox starts dockerd and sshd and adds a 'deploy' user, which needs root (run as root, or in a root container)." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: this script installs with apt-get (Debian 12/13, Ubuntu 22.04/24.04); install the packages in its table by hand elsewhere." >&2
  exit 1
fi

apt_updated=0
apt_install() {
  [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }

missing=()
while read -r probe package use; do
  [ -n "$probe" ] || continue
  present "$probe" && continue
  [[ " ${missing[*]} " == *" $package "* ]] && continue
  if [ "${use:-}" = bench ]; then
    [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }
    case "$(candidate "$package")" in ''|'(none)') echo "setup: no package $package here; the bench leaves out what needs it"; continue ;; esac
  fi
  missing+=("$package")
done <<<"$requirements"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi

# Docker Compose v2 (`docker compose`), what users run, and v1 (`docker-compose`) where the
# distribution still ships it, for the suite's second pass.
#  - Debian 13, Ubuntu: the distribution's package is v2 (docker-compose on Debian 13,
#    docker-compose-v2 on Ubuntu).
#  - Debian 12: its docker-compose package is v1 1.29; v2 comes from Debian 13's docker-compose
#    package (2.26), whose plugin binary runs on Debian 12 (it needs glibc >= 2.34). It is
#    fetched with a source list given to these apt commands only: the machine's sources stay
#    as they are.
compose_v2() { docker compose version --short 2>/dev/null | grep -q '^v\?2\.'; }
compose_v1() { command -v docker-compose >/dev/null 2>&1 && docker-compose version --short 2>/dev/null | grep -q '^1\.'; }
if ! compose_v2; then
  [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }
  if [ -n "$(candidate docker-compose-v2)" ] && [ "$(candidate docker-compose-v2)" != "(none)" ]; then
    echo "setup: installing Compose v2 (docker-compose-v2)"
    apt_install docker-compose-v2
  elif [[ "$(candidate docker-compose)" == 2.* ]]; then
    echo "setup: installing Compose v2 (docker-compose)"
    apt_install docker-compose
  else
    echo "setup: installing Compose v2 from Debian 13's docker-compose package (the plugin only)"
    work=$(mktemp -d)
    echo 'deb http://deb.debian.org/debian trixie main' >"$work/sources.list"
    mkdir -p "$work/lists/partial"
    # Downloaded as root into a private temp dir (apt's _apt user could not write there).
    trixie=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists" -o APT::Sandbox::User=root)
    apt-get "${trixie[@]}" update -qq
    (cd "$work" && apt-get "${trixie[@]}" download -qq docker-compose/trixie)
    dpkg-deb -x "$work"/docker-compose_*.deb "$work/root"
    install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" /usr/libexec/docker/cli-plugins/docker-compose
    rm -rf "$work"
  fi
  compose_v2 || { echo "setup: 'docker compose version' still does not answer with v2 after the install" >&2; exit 1; }
fi
if ! compose_v1 && [[ "$(candidate docker-compose)" == 1.* ]]; then
  echo "setup: installing Compose v1 (docker-compose), for the suite's second pass"
  apt_install docker-compose
fi

# npm packages: install from the lockfile when node_modules is absent or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
