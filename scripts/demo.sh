#!/usr/bin/env bash
# `npm run demo`: the extension in real VS Code (code-server) against the sandbox cluster.
# Installs what is missing, brings the test cluster up, builds and packages the extension,
# installs code-server with the packaged extension and the cluster preconfigured, starts it in
# the background on 127.0.0.1 and prints the URL to open. A second run replaces the first.
#
#   bash scripts/demo.sh          start (or restart) the demo
#   bash scripts/demo.sh --stop   stop it (the cluster stays up: npm run cluster:down)
#
#   UCP_DEMO_PORT   port for code-server (default: the first free one from 8080)
#   UCP_DEMO_DIR    profile, workspace and log (default /tmp/ucp-backup-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "demo: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

DEMO=${UCP_DEMO_DIR:-/tmp/ucp-backup-demo}
PIDFILE=$DEMO/code-server.pid

# Stops the code-server of an earlier run (its own process group, see setsid below).
stop_previous() {
  [[ -f $PIDFILE ]] || return 0
  local pid
  pid=$(<"$PIDFILE")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    log "stopping the running demo (code-server pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

if [[ ${1:-} == --stop ]]; then
  stop_previous
  log "stopped; the test cluster is still up (npm run cluster:down stops it)"
  exit 0
fi
[[ $# -eq 0 ]] || die "usage: bash scripts/demo.sh [--stop]"

bash scripts/setup.sh
bash scripts/cluster/up.sh
[[ -f .testbed/clusters.json ]] || die ".testbed/clusters.json is missing after cluster:up"
log "building and packaging the extension"
mkdir -p "$DEMO"
{ npm run --silent build && npm run --silent package; } >"$DEMO/build.log" 2>&1 \
  || { cat "$DEMO/build.log" >&2; die "npm run build / package failed (output above)"; }
[[ -f dist/ucp-backup.vsix ]] || die "npm run package did not produce dist/ucp-backup.vsix"
paths=$(bash scripts/vscode/install-code-server.sh)
CODE_SERVER=$(sed -n 's/^CODE_SERVER=//p' <<<"$paths")
NODE_BIN=$(sed -n 's/^NODE_BIN=//p' <<<"$paths")
[[ -x $CODE_SERVER && -d $NODE_BIN ]] || die "install-code-server.sh printed no usable paths"

# The demo's own history, never the test suite's: its records are a separate history in the
# sandbox swarm (UCP_BACKUP_HISTORY_SCOPE) and its local records in $DEMO/state. Seeded once
# with three weeks of nightly backups made by the real engine (scripts/demo-seed.ts).
export UCP_BACKUP_HISTORY_SCOPE=demo UCP_BACKUP_STATE_DIR="$DEMO/state"
DEMO_PASSPHRASE=demo-backup-passphrase
(umask 077 && printf '%s\n' "$DEMO_PASSPHRASE" >"$DEMO/passphrase")
log "seeding the demo's backup history (first run only; about a minute)"
node --import tsx scripts/demo-seed.ts "$DEMO/passphrase" || die "seeding the demo history failed (output above)"

stop_previous
# A fresh VS Code profile each run; the workspace folder (where local backups are saved by
# default) is kept. The cluster comes from .testbed/clusters.json through the setting.
rm -rf "$DEMO/user-data" "$DEMO/extensions"
mkdir -p "$DEMO/user-data/User" "$DEMO/extensions" "$DEMO/workspace" "$DEMO/xdg-config" "$DEMO/xdg-data"
node -e '
  const fs = require("fs");
  const clusters = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).clusters;
  fs.writeFileSync(process.argv[2], JSON.stringify({
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "extensions.ignoreRecommendations": true,
    "chat.disableAIFeatures": true,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "ucpBackup.clusters": clusters,
  }, null, 2));
' .testbed/clusters.json "$DEMO/user-data/User/settings.json"
cat >"$DEMO/workspace/README.md" <<'EOF'
# UCP Backup demo

Open the **UCP Backup** view in the activity bar: the `demo` cluster (3 managers, UCP 3.2.4)
is configured. Try **UCP: Backup Now** (F1): a local backup is saved in this folder by default.
Click a backup in the tree for its details, or right-click a `.tar` file here and choose
**Verify Backup**.

The history shows three weeks of nightly backups (one failed: a folder the nobody user
cannot write). Their passphrase is `demo-backup-passphrase`.
EOF

# code-server 4.139 runs on Node 24 (first on PATH); XDG dirs keep its config out of ~.
export PATH="$NODE_BIN:$PATH" XDG_CONFIG_HOME="$DEMO/xdg-config" XDG_DATA_HOME="$DEMO/xdg-data"
"$CODE_SERVER" --install-extension dist/ucp-backup.vsix --extensions-dir "$DEMO/extensions" --user-data-dir "$DEMO/user-data" >"$DEMO/install-extension.log" 2>&1 \
  || { cat "$DEMO/install-extension.log" >&2; die "code-server --install-extension dist/ucp-backup.vsix failed"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${UCP_DEMO_PORT:-}
if [[ -z $PORT ]]; then
  for p in $(seq 8080 8180); do port_free "$p" && { PORT=$p; break; }; done
  [[ -n $PORT ]] || die "no free port in 8080-8180; set UCP_DEMO_PORT"
fi
port_free "$PORT" || die "port $PORT is in use; set UCP_DEMO_PORT to a free one"

# Loopback only, so no password is needed (--auth none). Own session and process group:
# it outlives this script and --stop ends it with everything it started.
setsid "$CODE_SERVER" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry --disable-update-check \
  --disable-workspace-trust --user-data-dir "$DEMO/user-data" --extensions-dir "$DEMO/extensions" \
  "$DEMO/workspace" >"$DEMO/code-server.log" 2>&1 </dev/null &
CS_PID=$!
echo "$CS_PID" >"$PIDFILE"

healthy() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/healthz"; }
for _ in $(seq 1 120); do
  kill -0 "$CS_PID" 2>/dev/null || { cat "$DEMO/code-server.log" >&2; rm -f "$PIDFILE"; die "code-server exited"; }
  healthy && break
  sleep 0.5
done
healthy || die "code-server did not come up; log: $DEMO/code-server.log"

URL="http://127.0.0.1:$PORT/?folder=$DEMO/workspace"
cat <<EOF

  UCP Backup demo is running (code-server pid $CS_PID, no password: it listens on 127.0.0.1 only).
  Open:

    $URL

  From another machine: ssh -L $PORT:127.0.0.1:$PORT <this host>, then open the same URL.
  Log: $DEMO/code-server.log
  Stop: npm run demo -- --stop     (the test cluster stays up; npm run cluster:down stops it)

EOF
