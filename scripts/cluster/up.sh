#!/usr/bin/env bash
# `npm run cluster:up`: the shared test cluster — 3 real dockerd managers (manager1..3) in one
# swarm, each behind a real OpenSSH sshd on 127.0.0.N:220N (and 127.0.0.N:2200), a bastion sshd on 127.0.0.10:2210,
# and a UCP 3.2.4 fixture on every manager. Idempotent: a healthy cluster is left as it is.
# State: .testbed/ (kept across down/up). Described by .testbed/clusters.json and testbed.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pki.sh"
source "$(dirname "$0")/ucp-fixture.sh"
[[ $(id -u) == 0 ]] || die "run as root (it starts dockerd and sshd)"
START=$SECONDS

for bin in dockerd docker sshd ssh-keygen etcd etcdctl busybox openssl unshare; do
  command -v "$bin" >/dev/null || [[ -x /usr/sbin/$bin ]] || { log "missing $bin: running scripts/setup.sh"; bash "$REPO/scripts/setup.sh"; break; }
done

mkdir -p "$TB" "$TB/bastion"
for n in "${NODES[@]}"; do mkdir -p "$(node_dir "$n")"; done
# UCP's instance id: one per cluster, shared by every manager's containers.
[[ -s $TB/instance-id ]] || openssl rand -hex 13 | cut -c1-25 >"$TB/instance-id"
INSTANCE_ID=$(<"$TB/instance-id")

make_pki
make_ssh_keys
build_rootfs

for n in "${NODES[@]}"; do start_docker "$n"; done
for n in "${NODES[@]}"; do wait_docker "$n"; done
for n in "${NODES[@]}"; do start_sshd "$n"; done
start_sshd bastion
log "dockerd and sshd up ($((SECONDS - START))s)"

# --- swarm: manager1 inits, manager2/3 join as managers ---
read -r state1 cluster1 _ <<<"$(swarm_state 1)"
if [[ $state1 != active ]]; then
  log "manager1: swarm init"
  dk 1 swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null
  read -r state1 cluster1 _ <<<"$(swarm_state 1)"
fi
token=$(dk 1 swarm join-token -q manager)
for n in 2 3; do
  read -r state cluster _ <<<"$(swarm_state "$n")"
  if [[ $state == active && $cluster != "$cluster1" ]]; then
    log "manager$n: in another swarm ($cluster): leaving it"
    dk "$n" swarm leave --force >/dev/null
    state=inactive
  fi
  if [[ $state != active ]]; then
    log "manager$n: swarm join"
    dk "$n" swarm join --advertise-addr "127.0.0.$n" --listen-addr "127.0.0.$n:2377" --token "$token" 127.0.0.1:2377 >/dev/null
  fi
done
# Nodes left behind by earlier joins (same hostname, now Down) would confuse node listings.
for id in $(dk 1 node ls --format '{{.ID}} {{.Status}}' | awk '$2 == "Down" {print $1}'); do
  dk 1 node demote "$id" >/dev/null 2>&1 || true
  dk 1 node rm --force "$id" >/dev/null 2>&1 || true
done
for n in "${NODES[@]}"; do wait_swarm_member "$n"; done
log "swarm has 3 managers ($((SECONDS - START))s)"

# --- UCP fixture on every manager, in parallel ---
pids=()
for n in "${NODES[@]}"; do
  (load_images "$n" && make_volumes "$n" && make_containers "$n") >"$TB/manager$n/fixture.log" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { cat "$TB/manager${NODES[$i]}/fixture.log" >&2; die "UCP fixture on manager${NODES[$i]} failed"; }
done
make_agent_service
for n in "${NODES[@]}"; do wait_etcd "$n"; done
seed_etcd 1
# The agent's global service puts one task on each manager.
for ((i = 0; i < 120; i++)); do
  ok=0
  for n in "${NODES[@]}"; do
    [[ -n $(dk "$n" ps -q --filter name=ucp-manager-agent. --filter status=running) ]] && ok=$((ok + 1))
  done
  ((ok == ${#NODES[@]})) && break
  sleep 0.5
done
((ok == ${#NODES[@]})) || die "ucp-manager-agent tasks are not running on all managers: $(dk 1 service ps ucp-manager-agent 2>&1)"
log "UCP $UCP_VERSION fixture ready ($((SECONDS - START))s)"

# --- backup folders: the spec wants them writable by nobody; one that is not, for negative tests ---
for n in "${NODES[@]}"; do
  d=$(node_dir "$n")
  mkdir -p "$d/backups" "$d/backups-root-owned"
  chown nobody:nogroup "$d/backups"
  chown root:root "$d/backups-root-owned"
  chmod 755 "$d/backups" "$d/backups-root-owned"
done

node "$(dirname "$0")/write-config.mjs"

if [[ -f $REPO/scripts/cluster/official-image.sh ]]; then
  log "running scripts/cluster/official-image.sh"
  bash "$REPO/scripts/cluster/official-image.sh"
fi
date -u +%FT%TZ >"$TB/READY"
log "cluster up in $((SECONDS - START))s: $TB/clusters.json"
