#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need on a fresh Debian machine of this
# kind: Debian packages (once) and the npm packages (when package-lock.json changed).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(docker.io openssh-server openssh-client gnupg etcd-server etcd-client busybox-static
  openssl iproute2 procps psmisc chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev
  fonts-noto-color-emoji
  systemd cron swift-proxy swift-account swift-container swift-object)
# systemd: systemd-analyze (unit checks; nothing is started); cron: the crontab form of
# schedules; swift-*: OpenStack Swift's S3 API, the real object store of the copy tests.

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file is newer than what node_modules was installed from.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund
fi
