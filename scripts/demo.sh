#!/usr/bin/env bash
# `npm run demo`: the extension in real VS Code (code-server) against the sandbox cluster.
# Installs what is missing, builds and packages the extension, brings the test cluster up,
# starts code-server on 127.0.0.1 with the packaged extension installed and the cluster
# preconfigured, prints the URL and stays in the foreground until Ctrl-C.
#
#   UCP_DEMO_PORT   port for code-server (default: a free one from 8080 up)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
log() { echo "demo: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

bash scripts/setup.sh
log "building and packaging the extension"
npm run --silent build
npm run --silent package >/dev/null
[[ -f dist/ucp-backup.vsix ]] || die "npm run package did not produce dist/ucp-backup.vsix"
bash scripts/cluster/up.sh
paths=$(bash scripts/vscode/install-code-server.sh)
CODE_SERVER=$(sed -n 's/^CODE_SERVER=//p' <<<"$paths")
NODE_BIN=$(sed -n 's/^NODE_BIN=//p' <<<"$paths")
[[ -x $CODE_SERVER && -d $NODE_BIN ]] || die "install-code-server.sh printed no usable paths"
[[ -f .testbed/clusters.json ]] || die ".testbed/clusters.json is missing after cluster:up"

# A fresh VS Code profile per run; the cluster's settings come from .testbed/clusters.json.
DEMO=$(mktemp -d /tmp/ucp-backup-demo.XXXXXX)
mkdir -p "$DEMO/user-data/User" "$DEMO/extensions" "$DEMO/workspace" "$DEMO/xdg-config" "$DEMO/xdg-data"
node -e '
  const fs = require("fs");
  const clusters = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).clusters;
  fs.writeFileSync(process.argv[2], JSON.stringify({
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "chat.disableAIFeatures": true,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "ucpBackup.clusters": clusters,
  }, null, 2));
' .testbed/clusters.json "$DEMO/user-data/User/settings.json"
cat >"$DEMO/workspace/README.md" <<'EOF'
# UCP Backup demo

Open the **UCP Backup** view in the activity bar: the `demo` cluster (3 managers, UCP 3.2.4)
is configured. Try **UCP: Backup Now** (F1), open a backup's details, or right-click a `.tar`
file in this folder and choose **Verify Backup**.
EOF

# code-server 4.139 runs on Node 24 (first on PATH); XDG dirs keep its config out of ~.
export PATH="$NODE_BIN:$PATH" XDG_CONFIG_HOME="$DEMO/xdg-config" XDG_DATA_HOME="$DEMO/xdg-data"
"$CODE_SERVER" --install-extension dist/ucp-backup.vsix --extensions-dir "$DEMO/extensions" --user-data-dir "$DEMO/user-data" >/dev/null \
  || die "code-server --install-extension dist/ucp-backup.vsix failed"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${UCP_DEMO_PORT:-}
if [[ -z $PORT ]]; then
  for p in $(seq 8080 8180); do port_free "$p" && { PORT=$p; break; }; done
  [[ -n $PORT ]] || die "no free port in 8080-8180; set UCP_DEMO_PORT"
fi
URL="http://127.0.0.1:$PORT/?folder=$DEMO/workspace"

# Own process group, so Ctrl-C stops code-server and everything it started.
setsid "$CODE_SERVER" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry --disable-update-check \
  --disable-workspace-trust --user-data-dir "$DEMO/user-data" --extensions-dir "$DEMO/extensions" \
  "$DEMO/workspace" >"$DEMO/code-server.log" 2>&1 &
CS_PID=$!
stop() {
  trap - INT TERM EXIT
  log "stopping code-server"
  kill -TERM -- "-$CS_PID" 2>/dev/null || true
  wait "$CS_PID" 2>/dev/null || true
  log "the test cluster is still up; stop it with: npm run cluster:down"
  log "demo files (profile, log): $DEMO"
}
trap stop INT TERM EXIT

healthy() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/healthz"; }
for _ in $(seq 1 120); do
  kill -0 "$CS_PID" 2>/dev/null || { cat "$DEMO/code-server.log" >&2; die "code-server exited"; }
  healthy && break
  sleep 0.5
done
healthy || die "code-server did not come up; log: $DEMO/code-server.log"

echo
echo "  UCP Backup demo is running. Open:"
echo
echo "    $URL"
echo
echo "  (code-server log: $DEMO/code-server.log — Ctrl-C to stop)"
echo
if [[ -n ${DISPLAY:-} ]]; then
  /usr/bin/chromium --no-first-run --disable-sync --user-data-dir="$DEMO/chromium" "--app=$URL" >/dev/null 2>&1 &
fi
wait "$CS_PID"
