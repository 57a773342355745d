#!/bin/sh
# Registers the unit; the service starts once /etc/consentry/consentry.env
# is filled in: systemctl enable --now consentry
set -e
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
