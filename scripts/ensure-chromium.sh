#!/usr/bin/env bash
# The end-to-end tests drive Debian's Chromium; install it when missing (needs root or sudo).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "Chromium is missing and this user cannot install it: run 'apt-get install chromium chromium-driver' as root." >&2
    exit 1
  fi
fi
echo "Installing Debian's chromium and chromium-driver for the end-to-end tests..."
${SUDO:-} apt-get update -qq
DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq chromium chromium-driver >/dev/null
