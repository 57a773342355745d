#!/usr/bin/env node
// Sends an identify, a track and a page call with Segment's own Node SDK
// (@segment/analytics-node) to the host given in SEGMENT_HOST, as a Segment
// customer would after pointing the SDK at Consentry instead of
// api.segment.io. e2e/segment_test.go runs it.
//
// Environment:
//   SEGMENT_HOST       base URL of the collector's segment receiver (required)
//   SEGMENT_WRITE_KEY  the source's write key (required)
//   SEGMENT_USER_ID    the userId of the three calls (required)
//   SEGMENT_RUN_ID     a tag put into every event's properties (optional)
//
// Prints one JSON line: {"statuses":[...], "errors":[...], "library":...}
// with the HTTP status of every request the SDK made and every delivery
// error it reported. Exits 0 when every call was delivered, 3 otherwise.
'use strict'

const { Analytics } = require('@segment/analytics-node')

function env(name) {
  const v = process.env[name]
  if (!v) {
    console.error(`send.js: ${name} is not set`)
    process.exit(2)
  }
  return v
}

async function main() {
  const host = env('SEGMENT_HOST')
  const writeKey = env('SEGMENT_WRITE_KEY')
  const userId = env('SEGMENT_USER_ID')
  const runId = process.env.SEGMENT_RUN_ID || ''

  const analytics = new Analytics({
    writeKey,
    host,
    path: '/v1/batch',
    // Everything in one batch, sent by closeAndFlush below.
    flushAt: 15,
    flushInterval: 60000,
    // A refusal must surface quickly; 4xx answers are never retried anyway.
    maxRetries: 1,
    httpRequestTimeout: 10000,
  })

  const statuses = []
  const errors = []
  analytics.on('http_response', (res) => statuses.push(res.status))
  analytics.on('error', (err) => errors.push(String((err && (err.reason || err.message)) || err)))

  const calls = []
  const delivered = (call) =>
    new Promise((resolve) => {
      // A failed delivery is also reported through the 'error' event above.
      call((_err, ctx) => resolve(ctx))
    })

  calls.push(
    delivered((cb) =>
      analytics.identify(
        {
          userId,
          traits: {
            email: 'jane.doe@example.com',
            address: { country: 'US', state: 'CA' },
            plan: 'enterprise',
          },
        },
        cb
      )
    )
  )
  calls.push(
    delivered((cb) =>
      analytics.track(
        {
          userId,
          event: 'Callback Requested',
          properties: { queue: 'billing', run: runId },
          context: {
            locale: 'en-US',
            consent: { categoryPreferences: { Analytics: true, Advertising: false } },
          },
        },
        cb
      )
    )
  )
  calls.push(
    delivered((cb) =>
      analytics.page(
        {
          userId,
          name: 'Contact support',
          properties: { path: '/support/contact', run: runId },
        },
        cb
      )
    )
  )

  await analytics.closeAndFlush({ timeout: 20000 })
  await Promise.all(calls)

  const ok = errors.length === 0 && statuses.length > 0 && statuses.every((s) => s >= 200 && s < 300)
  process.stdout.write(
    JSON.stringify({ statuses, errors, library: require('@segment/analytics-node/package.json').version }) + '\n'
  )
  process.exit(ok ? 0 : 3)
}

main().catch((err) => {
  console.error('send.js:', err && err.stack ? err.stack : err)
  process.exit(1)
})
