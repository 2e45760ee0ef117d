#!/usr/bin/env bash
# Builds the FIXTURE official image docker/ucp:3.2.4 on every manager of the test cluster.
# It is NOT the proprietary image: it is this machine's node binary (+ the glibc libraries
# `ldd` lists) and test/fixtures/official-ucp/main.ts bundled by esbuild, following the
# documented `docker/ucp backup` CLI contract. Called by up.sh at the end; idempotent.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
IMAGE=docker/ucp:$UCP_VERSION
SRC_HASH=$(cat "$REPO"/scripts/cluster/official-image.sh "$REPO"/test/fixtures/official-ucp/main.ts "$REPO"/src/core/engine/*.ts "$REPO"/src/core/archive/pgp.ts | sha256sum | cut -c1-16)
out=$TB/images/official-ucp
tarball=$out/official-ucp-$SRC_HASH.tar
if [[ ! -s $tarball ]]; then
  log "official fixture: building $IMAGE ($SRC_HASH)"
  rm -rf "$out" && mkdir -p "$out/root/ucp" "$out/root/tmp" "$out/root/backup" "$out/root/etc"
  r=$out/root
  (cd "$REPO" && npx esbuild test/fixtures/official-ucp/main.ts --bundle --platform=node --target=node20 \
    --external:cpu-features --external:./crypto/build/Release/sshcrypto.node --log-level=warning --outfile="$r/ucp/main.js" \
    --define:import.meta.url=importMetaUrl \
    --banner:js="const importMetaUrl = require('url').pathToFileURL(__filename).href;")
  # (openpgp's ESM build calls createRequire(import.meta.url), which is empty in a CJS bundle.)
  node_bin=$(readlink -f "$(command -v node)")
  install -D -m 0755 "$node_bin" "$r/usr/local/bin/node"
  for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+\.so[^ ]*'); do
    install -D -m 0755 "$(readlink -f "$lib")" "$r$lib"
  done
  chmod 1777 "$r/tmp"
  printf 'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
  tar --numeric-owner -C "$r" -cf "$tarball" .
  rm -rf "$r"
fi
for n in "${NODES[@]}"; do
  # A node whose dockerd is down (a disruption test) gets the image on the next run.
  if ! dk "$n" version >/dev/null 2>&1; then log "manager$n: dockerd not answering, FIXTURE $IMAGE not imported"; continue; fi
  have=$(dk "$n" image inspect --format '{{index .Config.Labels "com.ucp-backup.fixture-hash"}}' "$IMAGE" 2>/dev/null || true)
  [[ $have == "$SRC_HASH" ]] && continue
  log "manager$n: importing FIXTURE $IMAGE"
  dk "$n" import -m "FIXTURE standing in for the official UCP $UCP_VERSION image (ucp-testbed)" \
    -c 'LABEL com.ucp-backup.fixture=official-ucp com.ucp-backup.fixture-hash='"$SRC_HASH" \
    -c 'ENTRYPOINT ["/usr/local/bin/node", "/ucp/main.js"]' \
    "$tarball" "$IMAGE" >/dev/null
  # The replaced build is now untagged: drop it (fails harmlessly while a container uses it).
  old=$(dk "$n" image ls -q --filter dangling=true --filter label=com.ucp-backup.fixture=official-ucp)
  [[ -n $old ]] && dk "$n" image rm $old >/dev/null 2>&1 || true
done
