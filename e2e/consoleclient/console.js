// Drives the auditor console in a real Chromium (Debian's chromium through
// playwright-core), as e2e/console_test.go asks: sign in, filter, open a
// record, state a reason and see the payload, look up a subject by phone
// number, record consent, dry-run and release, erase, verify and export;
// then a role without permission sees its actions refused.
//
// Input (environment): CONSOLE_URL (https://127.0.0.1:port/console/),
// CHROMIUM, ADMIN_TOKEN, AUDITOR_TOKEN, TENANT (the Genesys organization),
// PHONE, DOWNLOADS (a directory), SCREENSHOTS (a directory, optional); or,
// to sign in with a client certificate only, CLIENT_CERT and CLIENT_KEY.
// Output: one JSON object on stdout (steps done, what was seen); exit 1 and
// the failing step on stderr on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const env = name => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const URL_ = env('CONSOLE_URL');
const ORIGIN = new URL(URL_).origin;
const TENANT = process.env.TENANT;
const PHONE = process.env.PHONE;
const DOWNLOADS = env('DOWNLOADS');
// With CLIENT_CERT and CLIENT_KEY (PEM files), the browser presents that
// client certificate and signs in with it instead of a token.
const CLIENT_CERT = process.env.CLIENT_CERT;
const SCREENSHOTS = process.env.SCREENSHOTS || '';
const STEP_TIMEOUT = 15000;

const out = { steps: [], blocked: [], errors: [] };
let current = 'start';

async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  await fn();
  out.steps.push({ name, ms: Date.now() - t0 });
}

async function shot(page, name, fullPage = true) {
  if (!SCREENSHOTS) return;
  await page.screenshot({ path: path.join(SCREENSHOTS, name + '.png'), fullPage });
}

// ready waits until the console has rendered the view named in the hash.
async function ready(page, view) {
  await page.waitForSelector(`body[data-view="${view}"][data-ready="yes"]`, { timeout: STEP_TIMEOUT });
}

async function open(page, hash, view) {
  await page.evaluate(h => { location.hash = h; }, hash);
  await ready(page, view);
}

async function signIn(page, token) {
  await page.goto(URL_);
  await page.waitForSelector('#signin');
  await page.fill('#token', token);
  await page.click('#signin-token');
  await ready(page, 'overview');
  await page.waitForSelector('#health table, #health p');
}

async function signOut(page) {
  await page.click('#signout');
  await page.waitForSelector('#signin');
  const left = await page.evaluate(() => Object.keys(sessionStorage).filter(k => k.startsWith('consentry.')));
  if (left.length) throw new Error('sign-out left session storage: ' + left);
}

async function saved(page, click, name) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: STEP_TIMEOUT }), click()]);
  const file = path.join(DOWNLOADS, name);
  await dl.saveAs(file);
  return file;
}

async function csv(page, click, name) {
  const file = await saved(page, click, name);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  return { file, header: lines[0], rows: lines.length - 1, last: lines[lines.length - 1] };
}

async function download(page, click, name) {
  const file = await saved(page, click, name);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map(l => JSON.parse(l));
  if (lines[0].type !== 'header' || lines[lines.length - 1].type !== 'manifest') throw new Error(`${name}: not a complete evidence bundle`);
  return { file, lines: lines.length, records: lines.filter(l => l.type === 'record').length };
}

async function text(page, sel) { return (await page.textContent(sel)) || ''; }

async function main() {
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  try {
    // The listener's certificate is the test's own: accept it. Nothing but
    // the console's origin may be reached.
    const ctx = await browser.newContext({
      ignoreHTTPSErrors: true, acceptDownloads: true, viewport: { width: 1280, height: 900 },
      clientCertificates: CLIENT_CERT ? [{ origin: ORIGIN, certPath: CLIENT_CERT, keyPath: env('CLIENT_KEY') }] : [],
    });
    await ctx.route('**/*', route => {
      const u = route.request().url();
      if (u.startsWith(ORIGIN + '/') || u.startsWith('blob:') || u.startsWith('data:')) return route.continue();
      out.blocked.push(u);
      return route.abort();
    });
    const page = await ctx.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('pageerror', e => out.errors.push('pageerror: ' + e.message));
    page.on('console', m => {
      // A refused API call logs a failed resource load; anything else is a defect (a CSP violation included).
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (400|401|403|410)/.test(m.text())) out.errors.push('console: ' + m.text());
    });

    if (CLIENT_CERT) {
      await step('sign in with a client certificate', async () => {
        await page.goto(URL_);
        await page.waitForSelector('#signin');
        await page.click('#signin-cert');
        await ready(page, 'overview');
        out.who = (await text(page, '#who')).trim();
        const stored = await page.evaluate(() => sessionStorage.getItem('consentry.console.token'));
        if (stored !== null) throw new Error('a token was stored for a certificate sign-in');
      });
      await step('records under the certificate', async () => {
        await open(page, '#/records', 'records');
        await page.waitForSelector('#records p');
      });
      await ctx.close();
      return;
    }

    await step('sign in (admin)', async () => {
      await signIn(page, env('ADMIN_TOKEN'));
      const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('consentry.console.token') !== null, local: localStorage.length, cookies: document.cookie }));
      if (!stored.session || stored.local !== 0 || stored.cookies !== '') throw new Error('token storage: ' + JSON.stringify(stored));
      await page.waitForSelector('#by-time svg');
      out.overviewText = await text(page, 'main');
      // The over-time chart by event: one GetStats call per event name.
      await page.selectOption('#by-time [name=dimension]', 'event');
      await ready(page, 'overview');
      out.byEvent = await text(page, '#by-time .legend');
      await shot(page, 'overview');
    });

    let record;
    await step('filter records', async () => {
      await open(page, '#/records', 'records');
      await page.fill('#record-filters [name=tenant]', TENANT);
      await page.selectOption('#record-filters [name=reason]', 'consent_missing');
      await Promise.all([page.click('#record-filters button[type=submit]'), page.waitForFunction(() => location.hash.includes('reason=consent_missing'))]);
      await ready(page, 'records');
      const rows = await page.$$eval('table.records tr.link', trs => trs.map(tr => ({ id: tr.dataset.id, subject: tr.children[4].title, decision: tr.querySelector('.decision').textContent })));
      if (!rows.length) throw new Error('no record listed');
      out.listed = rows.length;
      out.decisions = [...new Set(rows.map(r => r.decision))];
      record = rows.find(r => r.subject) || rows[0];
      await shot(page, 'records');
      out.recordsCSV = await csv(page, () => page.click('#records .csv-button'), 'records.csv');
    });

    await step('page through records', async () => {
      await open(page, '#/records?page_size=1', 'records');
      const first = await page.getAttribute('table.records tr.link', 'data-id');
      await page.click('#next-page');
      await page.waitForFunction(() => location.hash.includes('page_token='));
      await ready(page, 'records');
      const second = await page.getAttribute('table.records tr.link', 'data-id');
      if (!first || !second || first === second) throw new Error(`paging: ${first} then ${second}`);
      await page.goBack();
      await ready(page, 'records');
      if (await page.getAttribute('table.records tr.link', 'data-id') !== first) throw new Error('back did not return to the first page');
      // Back to the filtered listing the record is opened from.
      await page.goBack();
      await ready(page, 'records');
    });

    await step('open a record, state a reason, see the payload', async () => {
      await page.click(`table.records tr[data-id="${record.id}"]`);
      await ready(page, 'record');
      await page.waitForSelector('#record-meta');
      out.recordWords = await text(page, '#decision .words');
      out.reasonsTable = await text(page, '#decision table.reasons');
      await page.fill('#access-reason', 'DSAR 42 via the console');
      await page.click('#show-payload');
      await page.waitForSelector('#payload-json');
      out.payload = await text(page, '#payload-json');
      out.decisionDetail = await text(page, '#decision-detail');
      out.recordId = record.id;
      out.recordSubject = record.subject;
      await shot(page, 'record');
    });

    await step('look up a subject by phone number', async () => {
      await open(page, '#/subject', 'subject');
      await page.fill('#subject-form [name=tenant]', TENANT);
      await page.selectOption('#subject-form [name=vendor]', 'genesys');
      await page.fill('#subject-form [name=identifier]', PHONE);
      await page.click('#subject-form button[type=submit]');
      await page.waitForFunction(() => location.hash.startsWith('#/subject?'));
      await ready(page, 'subject');
      await page.waitForSelector('#timeline');
      out.subjectKey = (await text(page, '#subject-key')).trim();
      out.subjectRecords = await page.$$eval('#subject table.records tr.link', trs => trs.map(tr => tr.children[4].title));
      out.subjectConsents = await page.$$eval('#consents tr', trs => trs.length - 1);
      out.timeline = await text(page, '#timeline');
      out.subjectHash = await page.evaluate(() => location.hash);
      await shot(page, 'subject');
    });

    await step('export the subject\'s evidence (DSAR)', async () => {
      await page.fill('#subject .export-reason', 'DSAR 2026-118');
      out.dsar = await download(page, () => page.click('#subject .export-button'), 'dsar.ndjson');
    });

    await step('record consent by phone number', async () => {
      await open(page, '#/consent', 'consent');
      const f = '#record-consent';
      await page.fill(`${f} [name=tenant]`, 'genesys/' + TENANT);
      await page.fill(`${f} [name=identifier]`, PHONE);
      await page.selectOption(`${f} [name=status]`, 'granted');
      await page.fill(`${f} [name=purposes]`, 'collect.recording, collect.transcription, analytics.reporting, functional.service.improve');
      await page.fill(`${f} [name=at]`, '2025-01-01T00:00');
      await page.fill(`${f} [name=reason]`, 'verbal consent on the recorded line, ticket 42');
      await page.click(`${f} button[type=submit]`);
      await page.waitForSelector(`${f} + div .msg.ok`);
      out.consentMessage = await text(page, `${f} + div .msg.ok`);
      await page.fill('#consent-filter [name=tenant]', 'genesys/' + TENANT);
      await page.fill('#consent-filter [name=identifier]', PHONE);
      await page.click('#consent-filter button[type=submit]');
      await ready(page, 'consent');
      await page.waitForSelector('#consent-list #consents');
      out.consentList = await text(page, '#consent-list #consents');
    });

    await step('dry-run and release', async () => {
      await open(page, '#/consent', 'consent');
      await page.fill('#release-tenant', TENANT);
      await page.fill('#release-identifier', PHONE);
      await page.fill('#release-form [name=reason]', 'consent recorded');
      await page.click('#release-preview');
      await page.waitForSelector('#release-out .release-result');
      out.dryRun = await text(page, '#release-out .release-result');
      await page.waitForSelector('#release-out .confirm-yes');
      await shot(page, 'consent');
      await page.click('#release-out .confirm-yes');
      await page.waitForSelector('#release-out .msg.ok');
      out.released = await text(page, '#release-out .msg.ok');
    });

    await step('erase the subject', async () => {
      await page.fill('#erase-tenant', TENANT);
      await page.fill('#erase-identifier', PHONE);
      await page.fill('#erase-form [name=reason]', 'erasure request 311');
      await page.click('#erase-start');
      await page.click('#erase-out .confirm-yes');
      await page.waitForSelector('#erase-out .msg.ok');
      out.erased = await text(page, '#erase-out .msg.ok');
    });

    await step('the erased record can no longer be read', async () => {
      await open(page, '#/record/' + encodeURIComponent(record.id), 'record');
      await page.fill('#access-reason', 'after erasure');
      await page.click('#show-payload');
      await page.waitForSelector('#payload .msg.error');
      out.afterErasure = await text(page, '#payload .msg.error');
    });

    await step('purge with confirmation', async () => {
      await open(page, '#/consent', 'consent');
      await page.fill('#purge-form [name=days]', '30');
      await page.fill('#purge-form [name=reason]', '30-day retention');
      await page.click('#purge-form button[type=submit]');
      await page.click('#purge-out .confirm-yes');
      await page.waitForSelector('#purge-out .msg.ok');
      out.purged = await text(page, '#purge-out .msg.ok');
    });

    await step('verify with progress', async () => {
      await open(page, '#/verify', 'verify');
      const [resp] = await Promise.all([page.waitForResponse(r => r.url().includes('/v1/ledger:verify')), page.click('#verify-start')]);
      out.verifyContentType = resp.headers()['content-type'] || '';
      await page.waitForSelector('#verify-out .msg');
      out.verify = await text(page, '#verify-out .msg');
      out.publicKey = (await text(page, '#public-key')).trim();
      await shot(page, 'verify');
    });

    await step('export evidence', async () => {
      await page.fill('#export-filter [name=tenant]', TENANT);
      await page.fill('main .export-reason', 'regulator request 17');
      out.export = await download(page, () => page.click('main .export-button'), 'evidence.ndjson');
    });

    await step('overview shows the ledger health', async () => {
      await open(page, '#/overview', 'overview');
      out.health = await text(page, '#health');
    });

    await step('access log', async () => {
      await open(page, '#/access', 'access');
      await page.waitForSelector('#access');
      out.accessRows = await page.$$eval('#access tr', trs => trs.length - 1);
      out.accessCSV = await csv(page, () => page.click('main .csv-button'), 'access-log.csv');
      await shot(page, 'access-log', false);
      await signOut(page);
    });

    await step('sign in (auditor); a payload read is refused', async () => {
      await signIn(page, env('AUDITOR_TOKEN'));
      await open(page, '#/records', 'records');
      await page.waitForSelector('table.records tr.link');
      await page.click('table.records tr.link');
      await ready(page, 'record');
      await page.fill('#access-reason', 'curious');
      await page.click('#show-payload');
      await page.waitForSelector('#payload .msg.error');
      out.refusedRead = await text(page, '#payload .msg.error');
      if (await page.$('#payload-json')) throw new Error('the auditor saw a payload');
      await shot(page, 'refused');
    });

    await step('an auditor\'s release is refused', async () => {
      await open(page, '#/consent', 'consent');
      await page.fill('#release-tenant', TENANT);
      await page.fill('#release-identifier', PHONE);
      await page.fill('#release-form [name=reason]', 'not mine to do');
      await page.click('#release-preview');
      await page.waitForSelector('#release-out .msg.error');
      out.refusedRelease = await text(page, '#release-out .msg.error');
      if (await page.$('#release-out .confirm-yes')) throw new Error('a refused dry run offered a release');
    });

    await step('an auditor\'s search by phone number is refused', async () => {
      await open(page, '#/subject', 'subject');
      await page.fill('#subject-form [name=tenant]', TENANT);
      await page.fill('#subject-form [name=identifier]', PHONE);
      await page.click('#subject-form button[type=submit]');
      await page.waitForFunction(() => location.hash.startsWith('#/subject?'));
      await ready(page, 'subject');
      await page.waitForSelector('#subject .msg.error');
      out.refusedLookup = await text(page, '#subject .msg.error');
    });

    await step('a wrong token is refused at sign-in', async () => {
      await signOut(page);
      await page.fill('#token', 'not-a-token-of-anyone');
      await page.click('#signin-token');
      await page.waitForSelector('#signin .msg.error');
      out.refusedSignIn = await text(page, '#signin .msg.error');
      if (!(await page.isHidden('#nav'))) throw new Error('navigation shown without a valid token');
    });
    await ctx.close();
  } finally {
    await browser.close();
  }
}

const timer = setTimeout(() => { console.error(`timed out in step: ${current}`); process.exit(1); }, 50000);
main().then(() => {
  clearTimeout(timer);
  process.stdout.write(JSON.stringify(out) + '\n');
}).catch(err => {
  clearTimeout(timer);
  console.error(`step "${current}" failed: ${err.stack || err}`);
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(1);
});
