# Sourced by up.sh: a UCP 3.2.4 fixture on one manager — images, the 14 named volumes with
# real certificates, and the UCP containers (real names, labels and mounts), with a real
# etcd in ucp-kv. Real UCP images cannot be pulled here, so images are made by `docker import`.

# Images of UCP 3.2.4 (docker/ucp-<component>); all but ucp-etcd are busybox with an idle CMD.
UCP_COMPONENTS=(agent auth auth-store calico-cni calico-node cfssl compose controller dsinfo etcd
  hyperkube interlock interlock-extension interlock-proxy kube-compose metrics pause proxy swarm)
# Exits at once on `docker stop` (no init in these images, so PID 1 must handle SIGTERM).
IDLE_CMD='["/bin/sh","-c","trap '"'"'exit 0'"'"' TERM INT; while :; do sleep 3600 & wait $!; done"]'

build_rootfs() {
  local img=$TB/images
  [[ -s $img/busybox.tar && -s $img/etcd.tar ]] && return 0
  rm -rf "$img" && mkdir -p "$img/root/bin" "$img/root/etc" "$img/root/tmp" "$img/root/root" "$img/root/var/run"
  local r=$img/root a
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list-full); do
    [[ $a == bin/busybox ]] && continue
    mkdir -p "$r/$(dirname "$a")"
    ln -sf /bin/busybox "$r/$a"
  done
  chmod 1777 "$r/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
  tar --numeric-owner -C "$r" -cf "$img/busybox.tar" .
  # ucp-etcd also carries Debian's etcd 3.4 and the two glibc files it links against (TESTBED.md).
  mkdir -p "$r/usr/bin" "$r/lib/x86_64-linux-gnu" "$r/lib64"
  cp /usr/bin/etcd /usr/bin/etcdctl "$r/usr/bin/"
  cp -L /lib/x86_64-linux-gnu/libc.so.6 "$r/lib/x86_64-linux-gnu/"
  cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
  tar --numeric-owner -C "$r" -cf "$img/etcd.tar" .
  rm -rf "$r"
}

load_images() {
  local n=$1 c tar cmd have
  have=$(dk "$n" image ls --format '{{.Repository}}:{{.Tag}}' 'docker/ucp-*')
  for c in "${UCP_COMPONENTS[@]}"; do
    grep -qx "docker/ucp-$c:$UCP_VERSION" <<<"$have" && continue
    tar=$TB/images/busybox.tar cmd=$IDLE_CMD
    if [[ $c == etcd ]]; then tar=$TB/images/etcd.tar cmd='["/usr/bin/etcd"]'; fi
    dk "$n" import -m "UCP $UCP_VERSION fixture (ucp-testbed)" \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c "CMD $cmd" "$tar" "docker/ucp-$c:$UCP_VERSION" >/dev/null
  done
}

vol_dir() { echo "$(node_dir "$1")/data/volumes/$2/_data"; }

# put N VOLUME NAME SOURCE MODE UID:GID: install one file into a volume's data directory.
put() { install -D -m "$5" -o "${6%:*}" -g "${6#*:}" "$4" "$(vol_dir "$1" "$2")/$3"; }

UCP_VOLUMES=(ucp-auth-api-certs ucp-auth-store-certs ucp-auth-store-data ucp-auth-worker-certs
  ucp-auth-worker-data ucp-client-root-ca ucp-cluster-root-ca ucp-controller-client-certs
  ucp-controller-server-certs ucp-kv ucp-kv-certs ucp-metrics-data ucp-metrics-inventory ucp-node-certs)

make_volumes() {
  local n=$1 v p=$TB/pki have
  have=$(dk "$n" volume ls -q)
  for v in "${UCP_VOLUMES[@]}"; do
    grep -qx "$v" <<<"$have" || dk "$n" volume create --label com.docker.ucp.version="$UCP_VERSION" "$v" >/dev/null
  done
  [[ -e $(node_dir "$n")/.volumes-filled ]] && return 0
  # Same root CAs on every manager: UCP replicates them.
  local ca
  for ca in client-root-ca cluster-root-ca; do
    put "$n" "ucp-$ca" cert.pem "$p/$ca/cert.pem" 644 0:0
    put "$n" "ucp-$ca" key.pem "$p/$ca/key.pem" 600 0:0
  done
  local m=$p/manager$n empty
  empty=$(mktemp)
  # Owned by nobody like in a real backup's listing.
  put "$n" ucp-controller-server-certs ca.pem "$p/cluster-root-ca/cert.pem" 644 65534:65534
  put "$n" ucp-controller-server-certs cert.pem "$m/controller-server/cert.pem" 644 65534:65534
  put "$n" ucp-controller-server-certs client_ca.pem "$empty" 644 65534:65534
  put "$n" ucp-controller-server-certs key.pem "$m/controller-server/key.pem" 600 65534:65534
  rm -f "$empty"
  local vol src
  for vol in ucp-kv-certs:kv ucp-node-certs:node ucp-auth-api-certs:node ucp-auth-store-certs:node \
    ucp-auth-worker-certs:node ucp-controller-client-certs:client; do
    src=$m/${vol#*:}
    put "$n" "${vol%:*}" ca.pem "$src/ca.pem" 644 0:0
    put "$n" "${vol%:*}" cert.pem "$src/cert.pem" 644 0:0
    put "$n" "${vol%:*}" key.pem "$src/key.pem" 600 0:0
  done
  fill_data_volumes "$n"
  touch "$(node_dir "$n")/.volumes-filled"
}

# Plausible data: a RethinkDB data directory for the auth store, Prometheus-like metrics.
fill_data_volumes() {
  local n=$1 d t
  d=$(vol_dir "$n" ucp-auth-store-data)
  mkdir -p "$d/rethinkdb_data/tmp" "$d/export/enzi"
  openssl rand 65536 >"$d/rethinkdb_data/metadata"
  for t in 6a3f0e52-5b8c-4c8e-9a55-0d7c2b1e9f01 b2d9c0a4-1f7e-4d2b-8c3a-7e6f5d4c3b2a; do
    openssl rand 131072 >"$d/rethinkdb_data/$t"
  done
  printf '%s\n' "$(date -u +%FT%T) info: Running rethinkdb 2.3.6 (GCC 6.3.0)..." \
    "$(date -u +%FT%T) info: Listening for intracluster connections on port 29015" >"$d/rethinkdb_data/log_file"
  printf '{"id":"admin","name":"admin","fullName":"UCP Admin","isAdmin":true,"isActive":true,"isOrg":false}\n' >"$d/export/enzi/accounts.json"
  printf '{"id":"docker-datacenter","name":"docker-datacenter","isOrg":true,"membersCount":1}\n' >"$d/export/enzi/organizations.json"
  printf '{"id":"%s","name":"engineering","orgID":"docker-datacenter"}\n' "$(cat /proc/sys/kernel/random/uuid)" >"$d/export/enzi/teams.json"
  printf '{"version":"3.2.4","tables":["accounts","organizations","teams","roles","grants"]}\n' >"$d/export/enzi/schema.json"
  d=$(vol_dir "$n" ucp-auth-worker-data)
  printf '{"lastSync":"%s","ldapEnabled":false}\n' "$(date -u +%FT%TZ)" >"$d/sync-state.json"
  d=$(vol_dir "$n" ucp-metrics-data)
  mkdir -p "$d/wal" "$d/01EXAMPLEBLOCK00000000000/chunks"
  openssl rand 32768 >"$d/wal/00000000"
  openssl rand 16384 >"$d/01EXAMPLEBLOCK00000000000/chunks/000001"
  printf '{"version":1,"minTime":0,"maxTime":1}\n' >"$d/01EXAMPLEBLOCK00000000000/meta.json"
  : >"$d/lock"
  d=$(vol_dir "$n" ucp-metrics-inventory)
  printf '{"nodes":["manager1","manager2","manager3"]}\n' >"$d/inventory.json"
}

# ucp_container N NAME IMAGE-COMPONENT [docker run options...] [-- command...]
ucp_container() {
  local n=$1 name=$2 comp=$3; shift 3
  local opts=() cmd=() state
  while (($#)); do
    if [[ $1 == -- ]]; then shift; cmd=("$@"); break; fi
    opts+=("$1"); shift
  done
  state=$(dk "$n" container inspect -f '{{.State.Status}}' "$name" 2>/dev/null || true)
  case "$state" in
    running) return 0 ;;
    '') ;;
    *) dk "$n" start "$name" >/dev/null; return 0 ;;
  esac
  dk "$n" run -d --name "$name" --restart unless-stopped --stop-timeout 10 \
    --label "com.docker.ucp.version=$UCP_VERSION" --label "com.docker.ucp.InstanceID=$INSTANCE_ID" \
    "${opts[@]}" "docker/ucp-$comp:$UCP_VERSION" "${cmd[@]}" >/dev/null
}

# Inside ucp-kv a plain `etcdctl snapshot save <file>` works: the container's env names the
# endpoint and client certificate (the real ucp-kv listens on host ports 12379/12380).
etcd_env() {
  local n=$1
  echo "ETCDCTL_API=3"
  echo "ETCDCTL_ENDPOINTS=https://127.0.0.$n:12379"
  echo "ETCDCTL_CACERT=/etc/docker/ssl/ca.pem"
  echo "ETCDCTL_CERT=/etc/docker/ssl/cert.pem"
  echo "ETCDCTL_KEY=/etc/docker/ssl/key.pem"
}

make_containers() {
  local n=$1 ip=127.0.0.$1 sock=/var/run/docker.sock l=/var/lib/docker/ucp
  local none=(--network none)
  ucp_container "$n" ucp-proxy proxy "${none[@]}" -v ucp-node-certs:/etc/docker/ssl:ro -v "$sock:$sock"
  ucp_container "$n" ucp-controller controller "${none[@]}" -v "$sock:$sock" \
    -v "ucp-controller-server-certs:$l/ucp-controller-server-certs" \
    -v "ucp-controller-client-certs:$l/ucp-controller-client-certs" \
    -v "ucp-client-root-ca:$l/ucp-client-root-ca" -v "ucp-cluster-root-ca:$l/ucp-cluster-root-ca" \
    -v "ucp-node-certs:$l/ucp-node-certs" -v "ucp-kv-certs:$l/ucp-kv-certs:ro"
  local cluster="manager1=https://127.0.0.1:12380,manager2=https://127.0.0.2:12380,manager3=https://127.0.0.3:12380"
  local envs=() e
  for e in $(etcd_env "$n"); do envs+=(-e "$e"); done
  # A real 3-member etcd cluster across the managers, TLS with client-certificate auth.
  # Generous timeouts: 2 shared cores run three dockerds and swarm raft besides.
  ucp_container "$n" ucp-kv etcd --network host "${envs[@]}" -v ucp-kv:/data -v ucp-kv-certs:/etc/docker/ssl:ro -- \
    /usr/bin/etcd --name "manager$n" --data-dir /data/datav3 \
    --listen-client-urls "https://$ip:12379" --advertise-client-urls "https://$ip:12379" \
    --listen-peer-urls "https://$ip:12380" --initial-advertise-peer-urls "https://$ip:12380" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "ucp-kv-$INSTANCE_ID" \
    --cert-file /etc/docker/ssl/cert.pem --key-file /etc/docker/ssl/key.pem \
    --trusted-ca-file /etc/docker/ssl/ca.pem --client-cert-auth \
    --peer-cert-file /etc/docker/ssl/cert.pem --peer-key-file /etc/docker/ssl/key.pem \
    --peer-trusted-ca-file /etc/docker/ssl/ca.pem --peer-client-cert-auth \
    --heartbeat-interval 250 --election-timeout 5000 --logger zap --log-outputs stderr
  ucp_container "$n" ucp-auth-store auth-store "${none[@]}" -v ucp-auth-store-data:/var/data -v ucp-auth-store-certs:/tls
  ucp_container "$n" ucp-auth-api auth "${none[@]}" -v ucp-auth-api-certs:/tls
  ucp_container "$n" ucp-auth-worker auth "${none[@]}" -v ucp-auth-worker-certs:/tls -v ucp-auth-worker-data:/data
  ucp_container "$n" ucp-swarm-manager swarm "${none[@]}" -v ucp-node-certs:/etc/docker/ssl:ro
  ucp_container "$n" ucp-client-root-ca cfssl "${none[@]}" -v ucp-client-root-ca:/etc/cfssl
  ucp_container "$n" ucp-cluster-root-ca cfssl "${none[@]}" -v ucp-cluster-root-ca:/etc/cfssl
  local k
  for k in kube-apiserver kube-controller-manager kubelet kube-proxy kube-scheduler; do
    ucp_container "$n" "ucp-$k" hyperkube "${none[@]}" -v ucp-node-certs:/etc/kubernetes/ssl:ro
  done
}

# ucp-manager-agent is a global swarm service on the managers, so its task containers get
# the real name form ucp-manager-agent.<node id>.<task id>.
make_agent_service() {
  dk 1 service inspect ucp-manager-agent >/dev/null 2>&1 && return 0
  dk 1 service create -d --name ucp-manager-agent --mode global --constraint node.role==manager \
    --network host --no-resolve-image --stop-grace-period 5s \
    --label "com.docker.ucp.version=$UCP_VERSION" \
    --container-label "com.docker.ucp.version=$UCP_VERSION" \
    --container-label "com.docker.ucp.InstanceID=$INSTANCE_ID" \
    --mount type=volume,source=ucp-node-certs,target=/etc/docker/ssl,readonly \
    --mount type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock \
    "docker/ucp-agent:$UCP_VERSION" >/dev/null
}

wait_etcd() {
  local n=$1 t=${2:-90} i
  for ((i = 0; i < t * 2; i++)); do
    dk "$n" exec ucp-kv etcdctl endpoint health >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  dk "$n" logs --tail 30 ucp-kv >&2 || true
  die "manager$n: etcd in ucp-kv is not healthy after ${t}s"
}

# A few dozen Kubernetes-like and UCP keys, once.
seed_etcd() {
  local n=$1
  [[ $(dk "$n" exec ucp-kv etcdctl get --prefix --keys-only --count-only / -w fields 2>/dev/null | awk '/"Count"/{print $3}') =~ ^[1-9] ]] && return 0
  dk "$n" exec -e IID="$INSTANCE_ID" ucp-kv sh -ec '
    for ns in default kube-system kube-public ucp-system; do
      etcdctl put /registry/namespaces/$ns "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
      etcdctl put /registry/serviceaccounts/$ns/default "{\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"default\",\"namespace\":\"$ns\"}}" >/dev/null
    done
    for i in 1 2 3 4 5 6 7 8; do
      etcdctl put /registry/deployments/default/web-$i "{\"kind\":\"Deployment\",\"spec\":{\"replicas\":$i}}" >/dev/null
      etcdctl put /registry/secrets/default/token-$i "$(head -c 48 /dev/urandom | base64)" >/dev/null
    done
    for k in manager1 manager2 manager3; do
      etcdctl put /registry/minions/$k "{\"kind\":\"Node\",\"metadata\":{\"name\":\"$k\"}}" >/dev/null
    done
    etcdctl put /ucp/config/instance_id "$IID" >/dev/null
    etcdctl put /ucp/config/version 3.2.4 >/dev/null
    etcdctl put /ucp/config/license "{\"key\":\"testbed\",\"tier\":\"Production\"}" >/dev/null
    etcdctl put /ucp/config/auth "{\"backend\":\"managed\",\"defaultNewUserRole\":\"restrictedcontrol\"}" >/dev/null
    etcdctl put /ucp/config/scheduling "{\"enableAdminUCPScheduling\":false}" >/dev/null
  '
}
