#!/bin/sh
# The baseline deploy-kit is measured against: the least a deploy can do over ssh.
# Write the compose file, pull, `up -d`, poll until the app answers 200. No lock, no
# releases, no health gate, no rollback, two ssh connections. It logs in as the same user,
# through the same sshd (and relay) and runs the same Compose ($COMPOSE: `docker compose` or
# `docker-compose`) as the action it is compared with.
set -eu
remote() { ssh -q -i "$KEY" -p "$PORT" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes -o BatchMode=yes "$SSH_USER@$HOST" "$@"; }
remote "mkdir -p '$DIR' && cat > '$DIR/docker-compose.yml'" < "$COMPOSE_FILE"
remote "cd '$DIR' && export VERSION='$VERSION' && $COMPOSE -p '$APP' pull -q && $COMPOSE -p '$APP' up -d"
until curl -fsS -o /dev/null "$URL"; do sleep 0.1; done
