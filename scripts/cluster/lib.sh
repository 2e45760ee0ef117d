# Shared by up.sh, down.sh and node.sh: where the test cluster lives and how one node's
# dockerd / sshd is started and stopped. Sourced, not run.
#
# Node N (1..3) is "managerN": dockerd + sshd in their own UTS namespace (hostname managerN)
# and their own mount namespace, in which /run/ucp-testbed/self points at .testbed/managerN.
# /var/run/docker.sock is a symlink to /run/ucp-testbed/self/docker.sock, so on every node
# the default socket reaches that node's own dockerd — for ssh sessions, for ssh
# stream-local forwarding, and for `docker run -v /var/run/docker.sock:...` (the spec's
# backup command), exactly as on a real manager. On the host it is manager1's.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TB="$REPO/.testbed"
RUNDIR=/run/ucp-testbed
NODES=(1 2 3)
UCP_VERSION=3.2.4
export DOCKER_CLI_HINTS=false

log() { printf '[cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

node_dir() { echo "$TB/manager$1"; }
node_ip() { echo "127.0.0.$1"; }
ssh_port() { echo "220$1"; }
# Every node's sshd also listens on this one port at its own address, like real managers that
# all listen on 22: a manager found in the swarm is reached at its swarm address, same port.
COMMON_SSH_PORT=2200
# sshd reads authorized_keys as the user logging in, and the clone may sit where only root can
# enter (root's home is 0700 on Debian): publish the testbed's keys outside it, readable by all,
# one folder per clone (the path's hash) so two clones never share one file.
AUTH_KEYS_DIR=/var/lib/ucp-testbed/$(printf '%s' "$TB" | sha256sum | cut -c1-12)
docker_sock() { echo "$TB/manager$1/docker.sock"; }
dk() { local n=$1; shift; docker -H "unix://$(docker_sock "$n")" "$@"; }

# pid from a pidfile if that process is alive and its command line mentions our testbed.
live_pid() {
  local f=$1 pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$TB" || return 1
  echo "$pid"
}

# Waits for a pid to exit: SIGTERM, then SIGKILL after $2 seconds.
stop_pid() {
  local pid=$1 grace=${2:-20} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid $pid ignored SIGTERM for ${grace}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

ensure_rundir() {
  mkdir -p "$RUNDIR" /run/sshd
  [[ -L $RUNDIR/self ]] || ln -sfn "$TB/manager1" "$RUNDIR/self"
  # Replace a real socket (a dockerd started by hand) or stale link with the per-node link.
  if [[ ! -L /var/run/docker.sock || $(readlink /var/run/docker.sock) != "$RUNDIR/self/docker.sock" ]]; then
    rm -f /var/run/docker.sock
    ln -s "$RUNDIR/self/docker.sock" /var/run/docker.sock
  fi
}

# Runs "$@" as node N: own hostname, own view of /run/ucp-testbed/self.
in_node_ns() {
  local n=$1; shift
  # setsid: its own session, so killing the caller's process group (a test runner's timeout,
  # a CI job's cleanup) never takes a node down with it.
  setsid unshare --uts --mount --propagation private -- /bin/sh -c '
    hostname "manager$1" && mount -t tmpfs -o size=1m,mode=755 ucp-testbed "$2" &&
    ln -s "$3" "$2/self" && shift 3 && exec "$@"' sh "$n" "$RUNDIR" "$(node_dir "$n")" "$@"
}

docker_healthy() { timeout 10 docker -H "unix://$(docker_sock "$1")" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_docker() {
  local n=$1 d; d=$(node_dir "$n")
  ensure_rundir
  if live_pid "$d/dockerd.pid" >/dev/null && docker_healthy "$n"; then return 0; fi
  stop_docker "$n"
  mkdir -p "$d/data" "$d/exec"
  [[ -f $d/daemon.json ]] || echo '{}' >"$d/daemon.json"
  log "manager$n: starting dockerd"
  # No --containerd: each dockerd runs its own containerd under its exec-root (TESTBED.md).
  # No iptables on these machines, hence no bridge; containers use --network none/host.
  in_node_ns "$n" dockerd \
    --config-file "$d/daemon.json" \
    -H "unix://$(docker_sock "$n")" \
    --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
    --iptables=false --ip-masq=false --bridge=none \
    --label "ucp-testbed.node=manager$n" \
    >>"$d/dockerd.log" 2>&1 </dev/null &
  disown $! 2>/dev/null || true
}

wait_docker() {
  local n=$1 t=${2:-90} i d; d=$(node_dir "$n")
  for ((i = 0; i < t * 4; i++)); do
    docker_healthy "$n" && return 0
    sleep 0.25
  done
  echo "---- tail of $d/dockerd.log ----" >&2
  tail -n 40 "$d/dockerd.log" >&2 || true
  die "manager$n: dockerd did not answer on $(docker_sock "$n") within ${t}s"
}

# Kills what a dead or stuck dockerd left behind: its containerd, shims and container
# processes (all in that node's mount namespace, so their mounts vanish with them).
kill_leftovers() {
  local pattern=$1 pid cmd
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [[ -r /proc/$pid/cmdline ]] || continue
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    case "$cmd" in
      *"$pattern"*) case "$cmd" in containerd*|*/containerd*|dockerd*|*/dockerd*|*sshd*) kill -KILL "$pid" 2>/dev/null || true ;; esac ;;
    esac
  done
}

stop_docker() {
  local n=$1 d pid; d=$(node_dir "$n")
  if pid=$(live_pid "$d/dockerd.pid"); then
    log "manager$n: stopping dockerd (pid $pid)"
    # dockerd stops its containers (up to their stop timeout) and its containerd itself.
    stop_pid "$pid" 45
  fi
  kill_leftovers "$d/exec"
  rm -f "$d/dockerd.pid"
}

sshd_conf() {
  local n=$1 d; d=$(node_dir "$n")
  cat <<EOF
# Written by scripts/cluster/up.sh: sshd of manager$n (key-only, like a hardened manager).
ListenAddress $(node_ip "$n"):$(ssh_port "$n")
ListenAddress $(node_ip "$n"):$COMMON_SSH_PORT
HostKey $d/ssh/ssh_host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile $AUTH_KEYS_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
# The host keys live under the repository, whose modes sshd's StrictModes would reject.
StrictModes no
# Tests open many connections at once.
MaxStartups 200:30:400
MaxSessions 64
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
}

bastion_conf() {
  cat <<EOF
# Written by scripts/cluster/up.sh: jump host; forwards only to the managers' sshd.
ListenAddress 127.0.0.10:2210
HostKey $TB/bastion/ssh/ssh_host_ed25519_key
PidFile $TB/bastion/sshd.pid
AuthorizedKeysFile $AUTH_KEYS_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
AllowStreamLocalForwarding no
PermitOpen 127.0.0.1:2201 127.0.0.2:2202 127.0.0.3:2203 127.0.0.1:$COMMON_SSH_PORT 127.0.0.2:$COMMON_SSH_PORT 127.0.0.3:$COMMON_SSH_PORT
StrictModes no
MaxStartups 200:30:400
LogLevel VERBOSE
EOF
}

sshd_name_dir() { if [[ $1 == bastion ]]; then echo "$TB/bastion"; else node_dir "$1"; fi; }

publish_authorized_keys() {
  install -d -m 0755 /var/lib/ucp-testbed "$AUTH_KEYS_DIR"
  install -m 0644 "$TB/ssh/authorized_keys" "$AUTH_KEYS_DIR/authorized_keys"
}

start_sshd() {
  local n=$1 d; d=$(sshd_name_dir "$n")
  ensure_rundir
  publish_authorized_keys
  if live_pid "$d/sshd.pid" >/dev/null; then return 0; fi
  rm -f "$d/sshd.pid"
  if [[ $n == bastion ]]; then bastion_conf >"$d/sshd_config"; else sshd_conf "$n" >"$d/sshd_config"; fi
  /usr/sbin/sshd -t -f "$d/sshd_config" || die "sshd config $d/sshd_config is invalid"
  # sshd daemonizes itself and writes its PidFile.
  if [[ $n == bastion ]]; then
    /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
  else
    in_node_ns "$n" /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
  fi
  local i
  for ((i = 0; i < 100; i++)); do
    live_pid "$d/sshd.pid" >/dev/null && return 0
    sleep 0.1
  done
  tail -n 20 "$d/sshd.log" >&2 || true
  die "sshd $n did not start"
}

stop_sshd() {
  local n=$1 d pid; d=$(sshd_name_dir "$n")
  if pid=$(live_pid "$d/sshd.pid"); then stop_pid "$pid" 10; fi
  # Session processes of this sshd (sshd: root@...) are children; the listener is gone now.
  rm -f "$d/sshd.pid"
}

# Manager N's swarm state: "active" when it is in the cluster manager1 leads.
swarm_state() { timeout 20 docker -H "unix://$(docker_sock "$1")" info --format '{{.Swarm.LocalNodeState}} {{.Swarm.Cluster.ID}} {{.Swarm.ControlAvailable}}' 2>/dev/null; }

# Waits until manager N shows as a Ready, Reachable/Leader manager of the swarm.
wait_swarm_member() {
  local n=$1 t=${2:-90} i ask out
  for ((i = 0; i < t * 2; i++)); do
    for ask in "${NODES[@]}"; do
      out=$(timeout 10 docker -H "unix://$(docker_sock "$ask")" node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' 2>/dev/null) || continue
      grep -qE "^manager$n Ready (Leader|Reachable)$" <<<"$out" && return 0
      break
    done
    sleep 0.5
  done
  die "manager$n did not become a Ready manager of the swarm within ${t}s; node ls: ${out:-<no answer>}"
}

# Processes still inside a node's mount namespace (their mountinfo shows our tmpfs at
# /run/ucp-testbed) or in a container of ours: what down must leave no trace of.
testbed_pids() {
  local pid cg ids
  ids=$(ls "$TB"/manager*/data/containers 2>/dev/null | grep -E '^[0-9a-f]{64}$' | sort -u || true)
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    ((pid == $$ || pid == BASHPID)) && continue
    if grep -qs " $RUNDIR rw" "/proc/$pid/mountinfo" 2>/dev/null; then echo "$pid"; continue; fi
    if [[ -n $ids ]] && cg=$(grep -so 'docker[/-][0-9a-f]\{64\}' "/proc/$pid/cgroup" 2>/dev/null | head -n1) && [[ -n $cg ]]; then
      grep -qx "${cg: -64}" <<<"$ids" && echo "$pid"
    fi
  done
}
