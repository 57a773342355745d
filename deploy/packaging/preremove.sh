#!/bin/sh
# Stops the service before its files go; the ledger in /var/lib/consentry stays.
set -e
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl stop consentry.service >/dev/null 2>&1 || true
  systemctl disable consentry.service >/dev/null 2>&1 || true
fi
