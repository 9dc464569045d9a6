#!/bin/sh
# The baseline deploy-kit is measured against: the least a deploy can do over ssh.
# Write the compose file, pull, `up -d`, poll until the app answers 200. No lock, no
# releases, no health gate, no rollback, three ssh connections.
set -eu
remote() { ssh -q -i "$KEY" -p "$PORT" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes -o BatchMode=yes "$SSH_USER@127.0.0.1" "$@"; }
remote "mkdir -p '$DIR' && cat > '$DIR/docker-compose.yml'" < "$COMPOSE"
remote "cd '$DIR' && export VERSION='$VERSION' && docker-compose -p '$APP' pull -q && docker-compose -p '$APP' up -d"
until curl -fsS -o /dev/null "$URL"; do sleep 0.1; done
