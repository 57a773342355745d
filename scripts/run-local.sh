#!/usr/bin/env bash
# Starts the Consentry distribution with config/local.yaml.
# Secrets come from the environment; any that are unset are generated once
# into data/local.env (mode 0600) and read from there on later runs.
set -euo pipefail
cd "$(dirname "$0")/.."

BINARY=${BINARY:-_build/otelcol-consentry}
DATA_DIR=${CONSENTRY_DATA_DIR:-data}
export CONSENTRY_DATA_DIR=$DATA_DIR # config/local.yaml keeps the ledger there
ENV_FILE="$DATA_DIR/local.env"

mkdir -p "$DATA_DIR"
chmod 0700 "$DATA_DIR"
umask 077

# Read earlier generated values, without overriding what the caller exported.
if [[ -f "$ENV_FILE" ]]; then
  while IFS='=' read -r name value; do
    [[ "$name" =~ ^CONSENTRY_[A-Z0-9_]+$ ]] || continue
    if [[ -z "${!name:-}" ]]; then
      export "$name=$value"
    fi
  done < "$ENV_FILE"
fi

generated=()
gen_secret() { # name, bytes
  local name=$1 bytes=${2:-32}
  if [[ -z "${!name:-}" ]]; then
    local value
    value=$(head -c "$bytes" /dev/urandom | od -An -tx1 | tr -d ' \n')
    export "$name=$value"
    printf '%s=%s\n' "$name" "$value" >> "$ENV_FILE"
    generated+=("$name")
  fi
}

gen_secret CONSENTRY_GENESYS_SECRET
gen_secret CONSENTRY_TWILIO_AUTH_TOKEN 16
gen_secret CONSENTRY_SEGMENT_SHARED_SECRET
gen_secret CONSENTRY_SEGMENT_WRITE_KEY 16
gen_secret CONSENTRY_TALKDESK_TOKEN
gen_secret CONSENTRY_LEDGER_KEY
gen_secret CONSENTRY_SUBJECT_SALT
gen_secret CONSENTRY_AUDIT_TOKEN
# The collector's config holds only the token's hash.
CONSENTRY_AUDIT_TOKEN_SHA256=$(printf %s "$CONSENTRY_AUDIT_TOKEN" | sha256sum | cut -d' ' -f1)
export CONSENTRY_AUDIT_TOKEN_SHA256
if [[ -z "${CONSENTRY_GENESYS_ORG_ID:-}" ]]; then
  # A placeholder organization until you set your Genesys Cloud org id.
  export CONSENTRY_GENESYS_ORG_ID=00000000-0000-4000-8000-000000000000
  printf 'CONSENTRY_GENESYS_ORG_ID=%s\n' "$CONSENTRY_GENESYS_ORG_ID" >> "$ENV_FILE"
  generated+=(CONSENTRY_GENESYS_ORG_ID)
fi
if [[ -z "${CONSENTRY_TWILIO_ACCOUNT_SID:-}" ]]; then
  # A placeholder account until you set your Twilio account SID.
  export CONSENTRY_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000
  printf 'CONSENTRY_TWILIO_ACCOUNT_SID=%s\n' "$CONSENTRY_TWILIO_ACCOUNT_SID" >> "$ENV_FILE"
  generated+=(CONSENTRY_TWILIO_ACCOUNT_SID)
fi
if [[ -z "${CONSENTRY_TALKDESK_ACCOUNT_ID:-}" ]]; then
  export CONSENTRY_TALKDESK_ACCOUNT_ID=local-talkdesk-account
  printf 'CONSENTRY_TALKDESK_ACCOUNT_ID=%s\n' "$CONSENTRY_TALKDESK_ACCOUNT_ID" >> "$ENV_FILE"
  generated+=(CONSENTRY_TALKDESK_ACCOUNT_ID)
fi
[[ -f "$ENV_FILE" ]] && chmod 0600 "$ENV_FILE"

cat <<MSG
Consentry (local) is starting.

  Data directory:  $(cd "$DATA_DIR" && pwd)
  Secrets:         $(cd "$DATA_DIR" && pwd)/local.env (mode 0600)${generated:+, generated now: ${generated[*]}}

Point your vendors at:
  Genesys Cloud    http://127.0.0.1:7401/genesys/eventbridge    EventBridge API destination, header X-API-Key: \$CONSENTRY_GENESYS_SECRET
                   http://127.0.0.1:7401/genesys/notifications  Process Automation / data actions, same header
                   http://127.0.0.1:7401/genesys/openmessaging  Open Messaging webhook, signature secret \$CONSENTRY_GENESYS_SECRET
                   http://127.0.0.1:7401/genesys/dataactions/<name>  data actions with a body of their own (needs a data_actions.<name> mapping)
                   organization: $CONSENTRY_GENESYS_ORG_ID (set CONSENTRY_GENESYS_ORG_ID to yours)
  Twilio           http://127.0.0.1:7402/twilio/eventstreams      Event Streams webhook sink, signed with the auth token
                   http://127.0.0.1:7402/twilio/taskrouter        TaskRouter workspace Event Callback URL (Flex)
                   http://127.0.0.1:7402/twilio/voice/status      call StatusCallback
                   http://127.0.0.1:7402/twilio/voice/recording   recordingStatusCallback
                   http://127.0.0.1:7402/twilio/conversations     Conversations post-event webhook
                   http://127.0.0.1:7402/twilio/messaging         incoming message webhook (SMS, WhatsApp; STOP/START become consent)
                   http://127.0.0.1:7402/twilio/messaging/status  message StatusCallback
                   http://127.0.0.1:7402/twilio/voice/conference  conference statusCallback (Flex agent join, leave, hold)
                   http://127.0.0.1:7402/twilio/voice/transcription  Real-Time Transcription / <Record transcribe> callbacks
                   http://127.0.0.1:7402/twilio/intelligence      Conversation Intelligence webhooks (JSON, bodySHA256)
                   account: $CONSENTRY_TWILIO_ACCOUNT_SID, auth token \$CONSENTRY_TWILIO_AUTH_TOKEN (set both to your account's);
                   Twilio signs the URL it calls: set CONSENTRY_TWILIO_PUBLIC_URL to your tunnel's https:// base URL
  Twilio Segment   http://127.0.0.1:7403/segment/webhook              Webhooks destination (POST, PUT or PATCH), shared secret \$CONSENTRY_SEGMENT_SHARED_SECRET
                                                                      (batched Actions deliveries: header X-Consentry-Token with the same secret)
                   http://127.0.0.1:7403/v1/batch                     Segment SDKs / HTTP Tracking API, write key \$CONSENTRY_SEGMENT_WRITE_KEY
                                                                      (analytics-node host http://127.0.0.1:7403; analytics.js/mobile apiHost 127.0.0.1:7403/v1)
  Talkdesk         http://127.0.0.1:7404/talkdesk/webhook/<trigger>  HTTP Notifier / Webhook Trigger, one URL per trigger (e.g. inboundCallEnds), header X-Consentry-Token: \$CONSENTRY_TALKDESK_TOKEN
                   http://127.0.0.1:7404/talkdesk/digital-connect    Digital Connect conversation and message events, same header
                   http://127.0.0.1:7404/talkdesk/events             Events API (partner apps); needs events_api.signature_keys
                   account: $CONSENTRY_TALKDESK_ACCOUNT_ID (set CONSENTRY_TALKDESK_ACCOUNT_ID to yours)
  Consent policy   config/policy.yaml (go run ./cmd/consentry policy check|explain --config config/local.yaml)
  Consent ledger   $(cd "$DATA_DIR" && pwd)/ledger.db (SQLite; quarantined events, encrypted with \$CONSENTRY_LEDGER_KEY, and consent records)
  Auditor API      http://127.0.0.1:7480 (REST, /openapi.json), 127.0.0.1:7481 (gRPC); admin token \$CONSENTRY_AUDIT_TOKEN in local.env:
                   curl -H "Authorization: Bearer \$CONSENTRY_AUDIT_TOKEN" http://127.0.0.1:7480/v1/quarantine/records
  Auditor console  http://127.0.0.1:7480/console/  (in a browser; sign in with \$CONSENTRY_AUDIT_TOKEN from local.env)
  Health           http://127.0.0.1:13133/status
  Metrics          http://127.0.0.1:8888/metrics

Every listener is on loopback; put a TLS-terminating proxy in front to expose it.
Forwarded events go to the debug exporter below; quarantined ones to the ledger. Stop with Ctrl-C.

MSG

exec "$BINARY" --config config/local.yaml
