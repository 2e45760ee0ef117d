#!/usr/bin/env bash
# `npm run cluster:down`: stops everything cluster:up started — sshd, dockerd with their
# containerd, shims and containers — and removes the /var/run/docker.sock link. Keeps the
# state in .testbed/ (the next up reuses it); afterwards `rm -rf .testbed` works.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || die "run as root"

stop_sshd bastion
for n in "${NODES[@]}"; do stop_sshd "$n"; done
# All three at once: each stops its own containers (their SIGTERM handlers exit at once).
for n in "${NODES[@]}"; do stop_docker "$n" & done
wait

# Whatever is still in a node's namespace (ssh sessions, stray shims or container processes).
left=$(testbed_pids | tr '\n' ' ')
if [[ -n ${left// } ]]; then
  log "killing leftover processes: $left"
  kill -KILL $left 2>/dev/null || true
  sleep 0.5
fi
# Mounts made in the host namespace (none are expected: dockerd mounts in its own namespace).
{ findmnt -rn -o TARGET | grep -F "$TB/" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done

[[ -L /var/run/docker.sock && $(readlink /var/run/docker.sock) == "$RUNDIR/self/docker.sock" ]] && rm -f /var/run/docker.sock
rm -rf "$RUNDIR" "$AUTH_KEYS_DIR"
rm -f "$TB/READY"
log "cluster down"
