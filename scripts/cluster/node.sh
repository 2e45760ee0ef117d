#!/usr/bin/env bash
# Per-node control for disruptive tests (test/helpers/testbed.ts calls it):
#   node.sh start|stop docker|sshd managerN     start waits until healthy (dockerd: rejoined the swarm)
#   node.sh rekey|restore-key sshd managerN     new host key (known_hosts keeps the original) / put it back
#   node.sh status docker|sshd managerN         exit 0 when running
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
action=${1:-} what=${2:-} name=${3:-}
[[ $name =~ ^manager([1-3])$ || ( $name == bastion && $what == sshd ) ]] || die "usage: node.sh <start|stop|rekey|restore-key|status> <docker|sshd> <manager1|manager2|manager3>"
n=${BASH_REMATCH[1]:-bastion}
key=$(sshd_name_dir "$n")/ssh/ssh_host_ed25519_key

case "$action:$what" in
  start:docker)
    start_docker "$n"; wait_docker "$n"; wait_swarm_member "$n"
    # UCP containers come back by their restart policy; wait for the etcd member too.
    for ((i = 0; i < 180; i++)); do
      dk "$n" exec ucp-kv etcdctl endpoint health >/dev/null 2>&1 && exit 0
      sleep 0.5
    done
    die "manager$n: ucp-kv did not become healthy after dockerd start" ;;
  stop:docker) stop_docker "$n" ;;
  status:docker) live_pid "$(node_dir "$n")/dockerd.pid" >/dev/null && docker_healthy "$n" ;;
  start:sshd) start_sshd "$n" ;;
  stop:sshd) stop_sshd "$n" ;;
  status:sshd) live_pid "$(sshd_name_dir "$n")/sshd.pid" >/dev/null ;;
  rekey:sshd)
    if [[ ! -s $key.orig ]]; then mv "$key" "$key.orig"; mv "$key.pub" "$key.orig.pub"; fi
    rm -f "$key" "$key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "$name-rekeyed" -f "$key"
    stop_sshd "$n"; start_sshd "$n" ;;
  restore-key:sshd)
    if [[ -s $key.orig ]]; then mv -f "$key.orig" "$key"; mv -f "$key.orig.pub" "$key.pub"; fi
    stop_sshd "$n"; start_sshd "$n" ;;
  *) die "unknown: node.sh $action $what $name" ;;
esac
