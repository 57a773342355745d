// The Consentry auditor console. Plain JavaScript, no dependencies, no
// build step. Every action is a call of the auditor REST API on the same
// origin with the user's bearer token (sessionStorage only) or the
// browser's client certificate; the API authorises and logs each one.
'use strict';
(() => {
  const BASE = location.pathname.replace(/console\/[^/]*$/, '');
  const TOKEN = 'consentry.console.token';
  const MODE = 'consentry.console.mode';
  const LAST_VERIFY = 'consentry.console.lastVerify';
  const VENDORS = ['genesys', 'twilio', 'segment', 'talkdesk'];
  const METHODS = ['ListQuarantinedRecords', 'GetQuarantinedRecord', 'GetStats', 'VerifyLedger', 'ExportEvidence',
    'RecordConsent', 'ListConsents', 'ReleaseRecords', 'Purge', 'EraseSubject', 'ListAccessLog'];
  const COLORS = ['#1f5fbf', '#d9480f', '#2b8a3e', '#7048e8', '#c2255c', '#0b7285', '#5c940d', '#862e9c'];
  let reasons = {};
  // Record metadata seen in listings, by id (memory only).
  const seen = new Map();
  const main = document.getElementById('main');

  // ---------------------------------------------------------------- DOM

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, v);
    }
    add(el, kids);
    return el;
  }
  function add(el, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k === undefined || k === null || k === false) continue;
      el.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }
  const svgNS = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...kids) {
    const el = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return el;
  }
  function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }
  function page(title, ...kids) { clear(main); add(main, [h('h1', {}, title), kids]); }
  function msg(kind, text) { return h('div', { class: 'msg ' + kind, role: kind === 'error' ? 'alert' : 'status' }, text); }
  function field(label, input) { return h('label', {}, label, input); }
  function input(name, value, attrs) { return h('input', Object.assign({ name, value: value || '' }, attrs || {})); }
  function select(name, options, value) {
    return h('select', { name }, options.map(o => {
      const [v, t] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: v === value }, t);
    }));
  }
  function formValues(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      out[el.name] = el.type === 'checkbox' ? el.checked : el.value.trim();
    }
    return out;
  }
  const fmt = t => t ? new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
  // datetime-local values are read as UTC, as the API's times are.
  const iso = v => v ? new Date(v + (v.length === 16 ? ':00Z' : 'Z')).toISOString() : '';
  const short = (v, n) => v && v.length > (n || 14) ? v.slice(0, n || 14) + '…' : (v || '');

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, body, text) {
      const m = body && body.message ? body.message : (text || '').slice(0, 300);
      super(m);
      this.status = status;
      this.body = body;
    }
    get words() {
      const what = {
        400: 'Refused (400 bad request)', 401: 'Not signed in (401)', 403: 'Refused (403 permission denied)',
        0: 'Failed', 404: 'Not found (404)', 410: 'Gone (410)', 429: 'Too many calls (429)', 500: 'Server error (500)', 503: 'Unavailable (503)',
      }[this.status] || 'Error ' + this.status;
      return what + ': ' + this.message;
    }
  }

  function url(path, query) {
    let u = BASE + path.replace(/^\//, '');
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '' && v !== false) q.append(k, v);
      const qs = q.toString();
      if (qs) u += '?' + qs;
    }
    return u;
  }

  async function call(method, path, { query, body, stream, accept } = {}) {
    const headers = { Accept: accept || 'application/json' };
    const tok = sessionStorage.getItem(TOKEN);
    if (tok) headers.Authorization = 'Bearer ' + tok;
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const resp = await fetch(url(path, query), { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
    if (stream && resp.ok) return resp;
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!resp.ok) {
      const err = new ApiError(resp.status, data, text);
      if (resp.status === 401 && signedIn()) signOut('The API refused your credentials (401): sign in again.');
      throw err;
    }
    return data;
  }

  // ---------------------------------------------------------------- sign-in

  const signedIn = () => !!sessionStorage.getItem(MODE);

  function signOut(why) {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(MODE);
    sessionStorage.removeItem(LAST_VERIFY);
    seen.clear();
    held.clear();
    chrome();
    renderSignIn(why);
  }

  function chrome() {
    const on = signedIn();
    document.getElementById('nav').hidden = !on;
    document.getElementById('signout').hidden = !on;
    document.getElementById('who').textContent = on ? (sessionStorage.getItem(MODE) === 'cert' ? 'client certificate' : 'bearer token') : '';
  }

  function renderSignIn(why) {
    const status = h('div');
    const form = h('form', { class: 'card signin', id: 'signin' },
      h('h1', {}, 'Sign in'),
      h('p', { class: 'muted' }, 'Paste your auditor API token. It stays in this tab only (sessionStorage) and is sent to this server as a bearer token; closing the tab forgets it.'),
      field('API token', input('token', '', { type: 'password', autocomplete: 'off', id: 'token' })),
      h('p', {}, h('button', { type: 'submit', id: 'signin-token' }, 'Sign in'), ' ',
        h('button', { type: 'button', class: 'secondary', id: 'signin-cert', onclick: () => tryIn('cert', '') }, 'Use my client certificate')),
      status);
    clear(main).append(form);
    if (why) status.append(msg('info', why));
    form.addEventListener('submit', e => {
      e.preventDefault();
      const t = form.elements.token.value.trim();
      if (!t) { clear(status).append(msg('error', 'Enter a token, or use a client certificate.')); return; }
      tryIn('token', t);
    });
    async function tryIn(mode, token) {
      // Signed in (MODE) only once the API accepted the credentials.
      if (token) sessionStorage.setItem(TOKEN, token); else sessionStorage.removeItem(TOKEN);
      try {
        await call('GET', '/v1/quarantine/records', { query: { page_size: 1 } });
        sessionStorage.setItem(MODE, mode);
        chrome();
        if (!location.hash || location.hash === '#/' || location.hash === '#/signin') location.hash = '#/overview';
        else route();
      } catch (e) {
        sessionStorage.removeItem(MODE);
        sessionStorage.removeItem(TOKEN);
        chrome();
        clear(status).append(msg('error', e instanceof ApiError ? e.words : String(e)));
      }
    }
  }

  // ---------------------------------------------------------------- words

  function explain(code) {
    return reasons[code] || { plain: 'A reason this console does not know: ' + code + '.', rule: 'see docs/policy.md', blocking: true };
  }

  function decisionWords(r) {
    const rs = r.reasons || [];
    const blocking = rs.filter(c => explain(c).blocking);
    let out = r.released_at ? 'Released ' + fmt(r.released_at) + ' after being held: ' : 'Held back: ';
    out += blocking.length ? explain(blocking[0]).plain : 'no blocking reason was recorded.';
    if (blocking.length > 1) out += ' (+' + (blocking.length - 1) + ' more)';
    if (r.erased) out += ' The subject was erased: the payload can no longer be read.';
    else if (r.purged_at) out += ' The payload was purged ' + fmt(r.purged_at) + '.';
    return out;
  }

  function reasonTable(codes) {
    return h('table', { class: 'reasons' },
      h('tr', {}, h('th', {}, 'Reason'), h('th', {}, 'Effect'), h('th', {}, 'In plain language'), h('th', {}, 'Rule')),
      codes.map(c => {
        const x = explain(c);
        return h('tr', {}, h('td', {}, h('code', {}, c)),
          h('td', {}, h('span', { class: 'badge ' + (x.blocking ? 'block' : 'explain') }, x.blocking ? 'holds the event' : 'explains')),
          h('td', {}, x.plain), h('td', { class: 'muted' }, x.rule));
      }));
  }

  // ---------------------------------------------------------------- charts

  function barChart(items, opts) {
    const o = Object.assign({ width: 380, bar: 16, label: 150 }, opts || {});
    const max = Math.max(1, ...items.map(i => i.value));
    const height = items.length * (o.bar + 6) + 6;
    const svg = s('svg', { class: 'chart', viewBox: `0 0 ${o.width} ${Math.max(height, 30)}`, role: 'img', 'aria-label': o.title || 'bar chart' });
    if (!items.length) svg.append(s('text', { x: 4, y: 18 }, 'no records'));
    items.forEach((it, i) => {
      const y = 4 + i * (o.bar + 6);
      const w = Math.max(1, (o.width - o.label - 60) * it.value / max);
      const g = s('g', {}, s('title', {}, (it.title || it.label) + ': ' + it.value));
      g.append(s('text', { x: o.label - 6, y: y + o.bar - 5, 'text-anchor': 'end' }, short(it.label, 22)));
      g.append(s('rect', { x: o.label, y, width: w, height: o.bar, fill: it.color || COLORS[0], rx: 2 }));
      g.append(s('text', { x: o.label + w + 4, y: y + o.bar - 5 }, it.value));
      svg.append(g);
    });
    return svg;
  }

  // series: [{name, counts: {day: n}}] over the union of days.
  function lineChart(series, opts) {
    const o = Object.assign({ width: 900, height: 200, left: 40, bottom: 30 }, opts || {});
    const days = [...new Set(series.flatMap(se => Object.keys(se.counts)))].sort();
    const svg = s('svg', { class: 'chart', viewBox: `0 0 ${o.width} ${o.height}`, role: 'img', 'aria-label': o.title || 'line chart' });
    const wrap = h('div', {}, svg, h('div', { class: 'legend' }, series.map((se, i) =>
      h('span', {}, swatch(COLORS[i % COLORS.length]), se.name))));
    if (!days.length) { svg.append(s('text', { x: 8, y: 20 }, 'no records')); return wrap; }
    const max = Math.max(1, ...series.flatMap(se => Object.values(se.counts)));
    const pw = o.width - o.left - 10, ph = o.height - o.bottom - 10;
    const x = i => o.left + (days.length === 1 ? pw / 2 : i * pw / (days.length - 1));
    const y = v => 10 + ph - ph * v / max;
    const ticks = [...new Set([0, Math.round(max / 2), max])];
    for (const v of ticks) {
      svg.append(s('line', { x1: o.left, x2: o.width - 10, y1: y(v), y2: y(v), stroke: '#e4e7ec' }));
      svg.append(s('text', { x: o.left - 4, y: y(v) + 4, 'text-anchor': 'end' }, v));
    }
    const step = Math.max(1, Math.ceil(days.length / 8));
    days.forEach((d, i) => { if (i % step === 0) svg.append(s('text', { x: x(i), y: o.height - 10, 'text-anchor': 'middle' }, d)); });
    series.forEach((se, si) => {
      const color = COLORS[si % COLORS.length];
      const pts = days.map((d, i) => `${x(i)},${y(se.counts[d] || 0)}`).join(' ');
      svg.append(s('polyline', { points: pts, fill: 'none', stroke: color, 'stroke-width': 2 }));
      days.forEach((d, i) => svg.append(s('circle', { cx: x(i), cy: y(se.counts[d] || 0), r: 3, fill: color },
        s('title', {}, `${se.name} ${d}: ${se.counts[d] || 0}`))));
    });
    return wrap;
  }

  // A colour square; set through the CSSOM (the CSP forbids style attributes).
  function swatch(color) {
    const i = h('i');
    i.style.background = color;
    return i;
  }

  const countsOf = list => Object.fromEntries((list || []).map(c => [c.key, Number(c.count)]));

  // ---------------------------------------------------------------- overview

  async function viewOverview() {
    const health = h('section', { class: 'card', id: 'health' }, h('h2', {}, 'Ledger health'), h('p', { class: 'muted' }, 'Loading…'));
    const charts = h('div', { class: 'grid' });
    const over = h('section', { class: 'card' });
    const byTime = h('section', { class: 'card', id: 'by-time' });
    page('Overview', health, over, byTime, charts);
    try {
      const [all, held, released] = await Promise.all([
        call('GET', '/v1/quarantine/stats'),
        call('GET', '/v1/quarantine/stats', { query: { released: 'unreleased' } }),
        call('GET', '/v1/quarantine/stats', { query: { released: 'released' } }),
      ]);
      add(over, [h('h2', {}, `Quarantined and released over time (${all.total} records; ${held.total} held, ${released.total} released)`),
        h('p', { class: 'muted' }, 'Per UTC day of the event.'),
        lineChart([{ name: 'held in quarantine', counts: countsOf(held.by_day) }, { name: 'released', counts: countsOf(released.by_day) }])]);
      const bars = (title, list, label) => h('section', { class: 'card' }, h('h2', {}, title),
        barChart((list || []).slice(0, 12).map((c, i) => ({ label: c.key || '(none)', value: Number(c.count), title: label ? label(c.key) : c.key, color: COLORS[i % COLORS.length] })), { title }));
      add(charts, [bars('By tenant', all.by_tenant), bars('By vendor', all.by_vendor),
        bars('By reason', all.by_reason, k => k + ': ' + explain(k).plain)]);
      await overTime(byTime, all);
    } catch (e) { over.append(msg('error', e.words || String(e))); }
    await renderHealth(health);
  }

  async function overTime(el, all) {
    const dim = h('select', { name: 'dimension' }, ['tenant', 'vendor', 'reason', 'event'].map(d => h('option', { value: d }, d)));
    const out = h('div');
    add(clear(el), [h('h2', {}, 'Over time by ', dim), out]);
    const draw = async () => {
      clear(out).append(h('p', { class: 'muted' }, 'Loading…'));
      const d = dim.value;
      try {
        let keys;
        if (d === 'event') {
          // Stats have no event breakdown: the events of the newest records.
          const r = await call('GET', '/v1/quarantine/records', { query: { page_size: 500 } });
          const n = {};
          for (const x of r.records || []) n[x.event_name] = (n[x.event_name] || 0) + 1;
          keys = Object.entries(n).sort((a, b) => b[1] - a[1]).map(e => e[0]);
        } else {
          keys = (all['by_' + d] || []).map(c => c.key);
        }
        keys = keys.filter(k => k).slice(0, 5);
        const param = d === 'event' ? 'event_name' : d;
        const series = await Promise.all(keys.map(async k => ({ name: k, counts: countsOf((await call('GET', '/v1/quarantine/stats', { query: { [param]: k } })).by_day) })));
        clear(out).append(lineChart(series), h('p', { class: 'muted' }, `The ${keys.length} largest ${d} values; each is one GetStats call.`));
      } catch (e) { clear(out).append(msg('error', e.words || String(e))); }
    };
    dim.addEventListener('change', () => { document.body.dataset.ready = 'no'; draw().finally(() => { document.body.dataset.ready = 'yes'; }); });
    await draw();
  }

  async function renderHealth(el) {
    const body = h('div');
    add(clear(el), [h('h2', {}, 'Ledger health'), body]);
    const last = JSON.parse(sessionStorage.getItem(LAST_VERIFY) || 'null');
    if (last) {
      body.append(msg(last.ok ? 'ok' : 'error', (last.ok ? 'Verified: no problem found' : `Verification found ${(last.problems || []).length} problem(s)`) + ` (${fmt(last.at)}).`));
      body.append(checkpointTable(last.writers || []));
    } else {
      body.append(h('p', { class: 'muted' }, 'Not verified in this session. ', h('a', { href: '#/verify' }, 'Verify the ledger'), ' to see its chains and last checkpoints.'));
    }
    try {
      const log = await call('GET', '/v1/access-log', { query: { method: 'VerifyLedger', page_size: 1 } });
      const e = (log.entries || [])[0];
      body.append(h('p', {}, e ? `Last verification by anyone: ${fmt(e.time)} by ${e.identity}: ${e.result}.` : 'The ledger has never been verified through the API.'));
    } catch (e) { body.append(msg('error', e.words || String(e))); }
  }

  function checkpointTable(writers) {
    return h('table', {}, h('tr', {}, ['Writer', 'Entries', 'Last seq', 'Checkpoints', 'Last checkpoint', 'Unanchored'].map(t => h('th', {}, t))),
      writers.map(w => h('tr', {}, h('td', { class: 'mono' }, w.writer_id), h('td', {}, w.entries), h('td', {}, w.last_seq), h('td', {}, w.checkpoints),
        h('td', {}, w.last_checkpoint ? `seq ${w.last_checkpoint.seq} at ${fmt(w.last_checkpoint.at)}` : 'none'), h('td', {}, w.unanchored))));
  }

  // ---------------------------------------------------------------- records

  function timeQuery(q) {
    const out = {};
    const which = q.time === 'occurred' ? 'occurred' : 'stored';
    if (q.from) out[which + '_from'] = iso(q.from);
    if (q.to) out[which + '_to'] = iso(q.to);
    return out;
  }

  function recordFilter(q) {
    const out = Object.assign({ tenant: q.tenant, vendor: q.vendor, reason: q.reason, event_name: q.event_name, released: q.released,
      interaction_id: q.interaction_id, subject_key: q.subject_key, raw_identifier: q.raw_identifier }, timeQuery(q));
    for (const k of Object.keys(out)) if (!out[k]) delete out[k];
    return out;
  }

  async function viewRecords(q) {
    const reasonOpts = [['', 'any reason']].concat(Object.keys(reasons).sort().map(c => [c, c]));
    const form = h('form', { class: 'filters card', id: 'record-filters' },
      field('Tenant', input('tenant', q.tenant)),
      field('Vendor', select('vendor', [['', 'any']].concat(VENDORS), q.vendor)),
      field('Reason', select('reason', reasonOpts, q.reason)),
      field('Event', input('event_name', q.event_name)),
      field('Time of', select('time', [['stored', 'storage'], ['occurred', 'event']], q.time)),
      field('From (UTC)', input('from', q.from, { type: 'datetime-local' })),
      field('To (UTC)', input('to', q.to, { type: 'datetime-local' })),
      field('Released', select('released', [['', 'any'], ['unreleased', 'held'], ['released', 'released']], q.released)),
      field('Interaction id', input('interaction_id', q.interaction_id)),
      field('Subject key', input('subject_key', q.subject_key)),
      field('Phone number or e-mail (investigators)', input('raw_identifier', q.raw_identifier, { placeholder: '+14155550123', autocomplete: 'off' })),
      field('Per page', select('page_size', ['25', '50', '100'], q.page_size || '50')),
      h('button', { type: 'submit' }, 'Search'));
    const out = h('div', { id: 'records' });
    page('Quarantined records', form, out);
    form.addEventListener('submit', e => {
      e.preventDefault();
      const v = formValues(form);
      if (v.raw_identifier && v.subject_key) { clear(out).append(msg('error', 'Search by a phone number or e-mail, or by a subject key: not both.')); return; }
      go('records', v);
    });
    const query = Object.assign(recordFilter(q), { page_size: q.page_size || 50, page_token: q.page_token });
    try {
      const res = await call('GET', '/v1/quarantine/records', { query });
      const rows = res.records || [];
      rows.forEach(r => seen.set(r.id, r));
      add(out, [
        h('p', { class: 'muted' }, rows.length ? `${rows.length} record(s), newest first.` : 'No record matches.'),
        rows.length ? csvButton('/v1/quarantine/records', recordFilter(q), 'quarantined-records') : null,
        rows.length ? recordsTable(rows) : null,
        h('div', { class: 'pager' },
          q.page_token ? h('button', { type: 'button', class: 'secondary', onclick: () => history.back() }, 'Previous page') : null,
          res.next_page_token ? h('button', { type: 'button', class: 'secondary', id: 'next-page', onclick: () => go('records', Object.assign({}, q, { page_token: res.next_page_token })) }, 'Next page') : null)]);
    } catch (e) { out.append(msg('error', e.words || String(e))); }
  }

  function recordsTable(rows) {
    return h('table', { class: 'records' },
      h('tr', {}, ['Stored', 'Tenant', 'Vendor', 'Event', 'Subject', 'Decision'].map(t => h('th', {}, t))),
      rows.map(r => h('tr', { class: 'link', 'data-id': r.id, onclick: () => { location.hash = '#/record/' + encodeURIComponent(r.id); } },
        h('td', {}, fmt(r.stored_at)), h('td', {}, r.tenant), h('td', {}, r.vendor), h('td', {}, r.event_name),
        h('td', { class: 'mono', title: r.subject_key }, short(r.subject_key)),
        h('td', { class: 'decision' }, r.released_at ? h('span', { class: 'badge released' }, 'released') : null, ' ', decisionWords(r)))));
  }

  // ---------------------------------------------------------------- record

  // OTLP/JSON attribute values, camelCase or snake_case.
  function attrValue(v) {
    if (!v) return undefined;
    for (const k of ['stringValue', 'string_value']) if (k in v) return v[k];
    for (const k of ['boolValue', 'bool_value', 'intValue', 'int_value', 'doubleValue', 'double_value']) if (k in v) return v[k];
    const arr = v.arrayValue || v.array_value;
    if (arr) return (arr.values || []).map(attrValue);
    return JSON.stringify(v);
  }
  function consentAttrs(payloadJSON) {
    const out = {};
    let doc;
    try { doc = JSON.parse(payloadJSON); } catch (e) { return out; }
    for (const rl of doc.resourceLogs || doc.resource_logs || []) {
      for (const sl of rl.scopeLogs || rl.scope_logs || []) {
        for (const lr of sl.logRecords || sl.log_records || []) {
          for (const a of lr.attributes || []) if (a.key.startsWith('consent.')) out[a.key] = attrValue(a.value);
        }
      }
    }
    return out;
  }

  function metaList(r) {
    const row = (k, v) => v === undefined || v === null || v === '' ? null : [h('dt', {}, k), h('dd', {}, v)];
    return h('dl', { class: 'meta', id: 'record-meta' },
      row('Record id', h('span', { class: 'mono' }, r.id)), row('Tenant', r.tenant), row('Vendor', r.vendor),
      row('Event', `${r.event_name || ''} (${r.event_id || ''})`),
      row('Subject key', r.subject_key ? h('a', { class: 'mono', href: hash('subject', { tenant: r.tenant, subject_key: r.subject_key, vendor: r.vendor }) }, r.subject_key) : '(none)'),
      row('Interaction', r.interaction_id ? h('a', { href: hash('records', { interaction_id: r.interaction_id }) }, r.interaction_id) : null),
      row('Consent status', r.consent_status), row('Occurred', fmt(r.occurred_at)), row('Received', fmt(r.received_at)), row('Stored', fmt(r.stored_at)),
      row('Released', fmt(r.released_at)), row('Payload purged', fmt(r.purged_at)), row('Subject erased', r.erased ? 'yes: payload crypto-shredded' : null),
      row('Chain entry', `${r.writer_id} #${r.seq}`), row('Data key', r.key_id), row('Payload hash', h('span', { class: 'mono' }, r.payload_hash)));
  }

  function decisionDetail(a) {
    const list = v => Array.isArray(v) ? (v.length ? v.join(', ') : 'none') : (v || 'none');
    const rows = [['Decision', a['consent.decision']], ['Consent status', a['consent.status']], ['Purposes', list(a['consent.purposes'])],
      ['Processors', list(a['consent.processors'])], ['Disclosed in the notice', list(a['consent.disclosed_processors'])],
      ['Not disclosed', list(a['consent.undisclosed_processors'])], ['Jurisdictions', list(a['consent.jurisdictions'])],
      ['All-party consent required', String(a['consent.all_party_required'] === true || a['consent.all_party_required'] === 'true')],
      ['Evidence', list(a['consent.evidence'])], ['Notice', a['consent.notice.id'] || 'none'], ['Policy hash', h('span', { class: 'mono' }, a['consent.policy.hash'] || '')]];
    return h('dl', { class: 'meta', id: 'decision-detail' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }

  async function viewRecord(id) {
    const known = seen.get(id);
    const meta = h('section', { class: 'card' }, h('h2', {}, 'Metadata'));
    const decision = h('section', { class: 'card', id: 'decision' }, h('h2', {}, 'Why it was held'));
    const detail = h('div', {}, h('p', { class: 'muted' }, 'Processors, jurisdictions, evidence, notice and policy hash are written on the event itself, which is stored encrypted: they appear here with the payload.'));
    const reasonIn = input('reason', '', { placeholder: 'e.g. DSAR 2026-118', id: 'access-reason', size: 40 });
    const payloadOut = h('div', { id: 'payload' });
    const form = h('form', { class: 'filters', id: 'payload-form' },
      field('Why do you need to see this personal data? (written to the access log)', reasonIn),
      h('button', { type: 'submit', id: 'show-payload' }, 'Show payload'));
    const fill = r => {
      clear(meta).append(h('h2', {}, 'Metadata'), metaList(r));
      clear(decision).append(h('h2', {}, 'Why it was held'), h('p', { class: 'words' }, decisionWords(r)), reasonTable(r.reasons || []), detail);
    };
    page('Record ' + short(id, 26), meta, decision, h('section', { class: 'card' }, h('h2', {}, 'Payload (decrypted, investigators and up)'), form, payloadOut));
    if (known) fill(known);
    else meta.append(h('p', { class: 'muted' }, 'Open this record from a listing to see its metadata, or read it below.'));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const reason = reasonIn.value.trim();
      if (!reason) { clear(payloadOut).append(msg('error', 'State why you read this record: the reason is kept in the access log.')); return; }
      clear(payloadOut).append(h('p', { class: 'muted' }, 'Reading…'));
      try {
        const res = await call('GET', '/v1/quarantine/records/' + encodeURIComponent(id), { query: { reason } });
        if (res.record) { seen.set(id, res.record); fill(res.record); }
        clear(detail).append(h('h2', {}, 'The decision as written on the event'), decisionDetail(consentAttrs(res.payload_json)));
        let pretty = res.payload_json;
        try { pretty = JSON.stringify(JSON.parse(res.payload_json), null, 2); } catch (err) { /* as sent */ }
        clear(payloadOut).append(msg('ok', 'Decrypted; this read is in the access log with your reason.'), h('pre', { id: 'payload-json' }, pretty));
      } catch (err) { clear(payloadOut).append(msg('error', err.words || String(err))); }
    });
  }

  // ---------------------------------------------------------------- subject

  function subjectOf(q) {
    const sub = { tenant: q.tenant };
    if (q.identifier) sub.raw_identifier = q.identifier; else sub.subject_key = q.subject_key;
    return sub;
  }

  async function viewSubject(q) {
    const form = h('form', { class: 'filters card', id: 'subject-form' },
      field('Tenant (vendor tenant id)', input('tenant', q.tenant)),
      field('Vendor', select('vendor', [['', 'any']].concat(VENDORS), q.vendor)),
      field('Consent scope (default vendor/tenant)', input('scope', q.scope)),
      field('Phone number or e-mail', input('identifier', q.identifier, { autocomplete: 'off', placeholder: '+14155550123' })),
      field('or subject key', input('subject_key', q.subject_key)),
      h('button', { type: 'submit' }, 'Look up'));
    const out = h('div', { id: 'subject' });
    page('Subject', form, out);
    form.addEventListener('submit', e => { e.preventDefault(); go('subject', formValues(form)); });
    if (!q.tenant || !(q.identifier || q.subject_key)) {
      out.append(h('p', { class: 'muted' }, 'Everything held about one person: their quarantined records, consent records and erasure, as a timeline, with an evidence export for a data subject access request. Name the tenant and a phone number, e-mail address or subject key.'));
      return;
    }
    const scope = q.scope || (q.vendor ? q.vendor + '/' + q.tenant : q.tenant);
    const idq = q.identifier ? { raw_identifier: q.identifier } : { subject_key: q.subject_key };
    try {
      // The server turns a phone number or e-mail address into the subject
      // key; it is never stored or logged (the access log shows [redacted]).
      const [recs, cons] = await Promise.all([
        call('GET', '/v1/quarantine/records', { query: Object.assign({ tenant: q.tenant, vendor: q.vendor, page_size: 1000 }, idq) }),
        call('GET', '/v1/consents', { query: Object.assign({ tenant: scope, page_size: 1000 }, idq) }).catch(e => ({ error: e })),
      ]);
      const consents = cons.consents || [];
      const records = recs.records || [];
      records.forEach(r => seen.set(r.id, r));
      const key = q.subject_key || (records[0] && records[0].subject_key) || (consents[0] && consents[0].subject_key) || '';
      let erasures = [];
      if (key) {
        const log = await call('GET', '/v1/access-log', { query: { method: 'EraseSubject', page_size: 1000 } }).catch(() => ({ entries: [] }));
        // An erasure's result names the subject key even when it was asked by phone number.
        erasures = (log.entries || []).filter(e => ((e.target || '') + (e.result || '')).includes(key) && (e.result || '').startsWith('ok'));
      }
      const events = [];
      for (const r of records) {
        events.push({ t: r.occurred_at || r.stored_at, cls: 'record', text: `${r.vendor} ${r.event_name}: ${decisionWords(r)}`, link: '#/record/' + encodeURIComponent(r.id) });
        if (r.released_at) events.push({ t: r.released_at, cls: 'consent', text: `Event ${r.event_name} released to the forward pipeline.` });
      }
      for (const c of consents) events.push({ t: c.at || c.recorded_at, cls: 'consent', text: `Consent ${c.status}${(c.purposes || []).length ? ' for ' + c.purposes.join(', ') : ''} (${c.source || 'source unknown'}${c.caller ? ', by ' + c.caller : ''}).` });
      for (const e of erasures) events.push({ t: e.time, cls: 'erase', text: `Erased by ${e.identity}: ${e.reason}.` });
      events.sort((a, b) => String(a.t).localeCompare(String(b.t)));
      add(out, [
        h('section', { class: 'card' }, h('h2', {}, 'Identity'), h('dl', { class: 'meta' },
          h('dt', {}, 'Tenant'), h('dd', {}, q.tenant), h('dt', {}, 'Consent scope'), h('dd', {}, scope),
          h('dt', {}, 'Subject key'), h('dd', { class: 'mono', id: 'subject-key' }, key || 'unknown (nothing stored for this identity)'),
          h('dt', {}, 'Held'), h('dd', {}, `${records.length} quarantined record(s), ${consents.length} consent record(s), ${erasures.length} erasure(s)`))),
        h('section', { class: 'card' }, h('h2', {}, 'Timeline'), events.length ? h('ol', { class: 'timeline', id: 'timeline' }, events.map(ev =>
          h('li', { class: ev.cls }, h('span', { class: 'muted' }, fmt(ev.t)), ' ', ev.link ? h('a', { href: ev.link }, ev.text) : ev.text))) : h('p', { class: 'muted' }, 'Nothing recorded.')),
        h('section', { class: 'card' }, h('h2', {}, 'Quarantined records'), records.length ? recordsTable(records) : h('p', { class: 'muted' }, 'None.')),
        h('section', { class: 'card' }, h('h2', {}, 'Consent records'), cons.error ? msg('error', cons.error.words) : consentTable(consents)),
        key ? h('section', { class: 'card' }, h('h2', {}, 'Export this subject\'s evidence (DSAR)'), exportForm({ tenant: q.tenant, subject_key: key }, 'dsar-' + key.slice(0, 16))) : null]);
    } catch (e) { out.append(msg('error', e.words || String(e))); }
  }

  function consentTable(list) {
    if (!list.length) return h('p', { class: 'muted' }, 'None.');
    return h('table', { id: 'consents' }, h('tr', {}, ['At', 'Scope', 'Subject', 'Status', 'Purposes', 'Source', 'Notice', 'Id'].map(t => h('th', {}, t))),
      list.map(c => h('tr', {}, h('td', {}, fmt(c.at)), h('td', {}, c.tenant), h('td', { class: 'mono', title: c.subject_key }, short(c.subject_key)),
        h('td', {}, c.status), h('td', {}, (c.purposes || []).join(', ')), h('td', {}, c.source + (c.caller ? ' (' + c.caller + ')' : '')),
        h('td', {}, c.notice_id), h('td', { class: 'mono' }, short(c.id, 20)))));
  }

  // ---------------------------------------------------------------- export

  // lines calls onLine for each line of a streamed answer as it arrives
  // and returns the chunks, byte and line counts.
  async function readLines(resp, onLine) {
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    const parts = [];
    let bytes = 0, lines = 0, rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      bytes += value.length;
      const chunk = rest + dec.decode(value, { stream: true });
      const ls = chunk.split('\n');
      rest = ls.pop();
      for (const l of ls) { lines++; onLine(l, lines, bytes); }
    }
    if (rest) { lines++; onLine(rest, lines, bytes); }
    return { parts, bytes, lines };
  }

  function saveFile(parts, type, name) {
    const a = h('a', { href: URL.createObjectURL(new Blob(parts, { type })), download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    return name;
  }

  const today = () => new Date().toISOString().slice(0, 10);
  const kib = n => (n / 1024).toFixed(1) + ' KiB';

  // download streams a call's answer into a file, counting what arrived;
  // check refuses it (a line that says the answer ended in an error).
  async function download(status, bar, request, type, name, check) {
    bar.hidden = false; bar.className = 'progress busy';
    clear(status).append(h('p', { class: 'muted' }, 'Starting…'));
    try {
      const resp = await request();
      const ct = resp.headers.get('Content-Type') || '';
      if (!ct.startsWith(type)) throw new Error(`the server answered ${ct || 'nothing'}, not ${type}: it does not offer this download`);
      let last = '';
      const got = await readLines(resp, (l, n, bytes) => {
        if (l.trim()) last = l;
        if (n % 200 === 0) clear(status).append(h('p', { class: 'muted' }, `${n} lines, ${kib(bytes)} received…`));
      });
      check(last);
      const file = saveFile(got.parts, type, name);
      clear(status).append(msg('ok', `Downloaded ${file}: ${got.lines} lines (${kib(got.bytes)}).`));
      return file;
    } catch (err) {
      clear(status).append(msg('error', err.words || String(err.message || err)));
      return '';
    } finally { bar.hidden = true; bar.className = 'progress'; }
  }

  // csvButton downloads a listing as CSV: every page from the first, each
  // page one logged call of the method.
  function csvButton(path, query, name) {
    const status = h('span', { class: 'csv-status' });
    const bar = h('div', { class: 'progress', hidden: true }, h('div'));
    const b = h('button', { type: 'button', class: 'secondary csv-button', onclick: () => download(status, bar,
      () => call('GET', path, { query: Object.assign({}, query, { format: 'csv', page_size: undefined, page_token: undefined }), stream: true }),
      'text/csv', `${name}-${today()}.csv`, last => { if (last.startsWith('# error')) throw new Error('the listing ended with an error: ' + last); }) }, 'Download CSV');
    return h('div', { class: 'pager' }, b, bar, status);
  }

  function exportForm(filter, name) {
    const status = h('div', { class: 'export-status' });
    const bar = h('div', { class: 'progress', hidden: true }, h('div'));
    const form = h('form', { class: 'filters export-form' },
      field('Reason (written to the access log)', input('reason', '', { size: 36, class: 'export-reason' })),
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'include_payloads' }), 'include decrypted payloads'),
      h('button', { type: 'submit', class: 'export-button' }, 'Download evidence bundle'));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const v = formValues(form);
      const f = typeof filter === 'function' ? filter() : filter;
      if (!v.reason) { clear(status).append(msg('error', 'State why the evidence is exported.')); return; }
      const file = await download(status, bar,
        () => call('POST', '/v1/evidence:export', { body: { filter: f, reason: v.reason, include_payloads: v.include_payloads }, stream: true }),
        'application/x-ndjson', `${name}-${today()}.ndjson`,
        last => {
          let type = '';
          try { type = JSON.parse(last).type; } catch (err) { /* not a bundle line */ }
          if (type !== 'manifest') throw new Error('the bundle is incomplete (no manifest): ' + last.slice(0, 300));
        });
      if (file) status.append(h('p', { class: 'muted' }, `Check it offline: consentry bundle verify --public-key <key> ${file}`));
    });
    return h('div', {}, form, bar, status);
  }

  // ---------------------------------------------------------------- consent

  function subjectFields(prefix) {
    return [field('Tenant', input('tenant', '', { id: prefix + '-tenant' })),
      field('Phone number or e-mail', input('identifier', '', { id: prefix + '-identifier', autocomplete: 'off' })),
      field('or subject key', input('subject_key', '', { id: prefix + '-subject-key' }))];
  }

  function confirmPanel(text, button, action) {
    const out = h('div', { class: 'confirm', role: 'alertdialog' }, h('p', {}, text));
    const yes = h('button', { type: 'button', class: 'danger confirm-yes', onclick: async () => { yes.disabled = true; no.disabled = true; await action(); out.remove(); } }, button);
    const no = h('button', { type: 'button', class: 'secondary', onclick: () => out.remove() }, 'Cancel');
    out.append(yes, ' ', no);
    return out;
  }

  async function viewConsent(q) {
    const list = h('div', { id: 'consent-list' });
    const listForm = h('form', { class: 'filters', id: 'consent-filter' },
      field('Consent scope', input('tenant', q.tenant, { placeholder: 'twilio/AC123' })),
      field('Phone number or e-mail', input('identifier', q.identifier, { autocomplete: 'off' })),
      field('or subject key', input('subject_key', q.subject_key)),
      h('button', { type: 'submit' }, 'List'));
    listForm.addEventListener('submit', e => { e.preventDefault(); go('consent', formValues(listForm)); });

    const recOut = h('div');
    const recForm = h('form', { class: 'filters', id: 'record-consent' },
      field('Consent scope', input('tenant', q.tenant, { placeholder: 'genesys/<org id>' })),
      field('Phone number or e-mail', input('identifier', '', { autocomplete: 'off' })),
      field('or subject key', input('subject_key', '')),
      field('Status', select('status', ['granted', 'denied', 'withdrawn', 'opted_in', 'opted_out'], 'granted')),
      field('Purposes (comma separated)', input('purposes', '', { size: 40 })),
      field('Notice id', input('notice_id', '')),
      field('Expressed at (UTC)', input('at', '', { type: 'datetime-local' })),
      field('Idempotency id', input('id', '')),
      field('Reason / reference', input('reason', '', { size: 30 })),
      h('button', { type: 'submit' }, 'Record consent'));
    recForm.addEventListener('submit', async e => {
      e.preventDefault();
      const v = formValues(recForm);
      const body = { subject: subjectOf(v), status: v.status, purposes: v.purposes ? v.purposes.split(',').map(p => p.trim()).filter(Boolean) : [],
        notice_id: v.notice_id || undefined, at: v.at ? iso(v.at) : undefined, id: v.id || undefined, reason: v.reason || undefined };
      try {
        const res = await call('POST', '/v1/consents', { body });
        clear(recOut).append(msg('ok', `Consent recorded${res.duplicate ? ' (already recorded with this id)' : ''}: ${res.id} for subject ${res.subject_key}.`));
      } catch (err) { clear(recOut).append(msg('error', err.words || String(err))); }
    });

    // Release: a dry run first, then a confirmation.
    const relOut = h('div', { id: 'release-out' });
    const relForm = h('form', { class: 'filters', id: 'release-form' }, subjectFields('release'),
      field('or every held record of the tenant with reason', select('filter_reason', [['', '(use the subject)']].concat(Object.keys(reasons).sort()), '')),
      field('Reason (required)', input('reason', '', { size: 30 })),
      h('button', { type: 'submit', id: 'release-preview' }, 'Preview (dry run)'));
    const releaseReq = v => {
      const req = { reason: v.reason, dry_run: true };
      if (v.filter_reason) req.filter = { tenant: v.tenant, reason: v.filter_reason, released: 'unreleased' };
      else req.subject = subjectOf(v);
      return req;
    };
    relForm.addEventListener('input', () => clear(relOut));
    relForm.addEventListener('submit', async e => {
      e.preventDefault();
      const v = formValues(relForm);
      clear(relOut);
      try {
        const res = await call('POST', '/v1/quarantine/records:release', { body: releaseReq(v) });
        relOut.append(releaseResult(res));
        const eligible = Number(res.eligible || 0);
        if (eligible > 0) {
          relOut.append(confirmPanel(`Release ${eligible} record(s)? They are handed to the forward pipeline (downstream receives them) and marked released in the ledger.`,
            `Release ${eligible} record(s)`, async () => {
              try {
                const done = await call('POST', '/v1/quarantine/records:release', { body: Object.assign(releaseReq(v), { dry_run: false }) });
                clear(relOut).append(msg('ok', `Released ${done.released} record(s) (${done.forwarded} forwarded)${done.more ? '; more remain: run it again' : ''}.`), releaseResult(done));
              } catch (err) { relOut.append(msg('error', err.words || String(err))); }
            }));
        } else relOut.append(msg('info', 'Nothing the current policy and consent would forward: nothing to release.'));
      } catch (err) { relOut.append(msg('error', err.words || String(err))); }
    });

    // Erase.
    const eraseOut = h('div', { id: 'erase-out' });
    const eraseForm = h('form', { class: 'filters', id: 'erase-form' }, subjectFields('erase'),
      field('Reason (required)', input('reason', '', { size: 30 })),
      h('button', { type: 'submit', class: 'danger', id: 'erase-start' }, 'Erase subject…'));
    eraseForm.addEventListener('submit', e => {
      e.preventDefault();
      const v = formValues(eraseForm);
      clear(eraseOut).append(confirmPanel('Erase this subject? Their data keys are destroyed: none of their payloads can ever be decrypted again. Metadata and the hash chain remain. This cannot be undone.',
        'Erase for good', async () => {
          try {
            const res = await call('POST', '/v1/subjects:erase', { body: { subject: subjectOf(v), reason: v.reason } });
            eraseOut.append(msg('ok', `Erased subject ${res.subject_key}: ${res.keys_destroyed} key(s) destroyed, ${res.records} record(s) now unreadable.`));
          } catch (err) { eraseOut.append(msg('error', err.words || String(err))); }
        }));
    });

    // Purge.
    const purgeOut = h('div', { id: 'purge-out' });
    const purgeForm = h('form', { class: 'filters', id: 'purge-form' },
      field('Payloads stored more than N days ago', input('days', '90', { type: 'number', min: '0' })),
      field('Reason (required)', input('reason', '', { size: 30 })),
      h('button', { type: 'submit', class: 'danger' }, 'Purge…'));
    purgeForm.addEventListener('submit', e => {
      e.preventDefault();
      const v = formValues(purgeForm);
      clear(purgeOut).append(confirmPanel(`Delete the payloads of every record stored more than ${v.days} day(s) ago, in every tenant? Metadata and the chain stay.`, 'Purge payloads', async () => {
        try {
          const res = await call('POST', '/v1/ledger:purge', { body: { retention: (Number(v.days) * 86400) + 's', reason: v.reason } });
          purgeOut.append(msg('ok', `Purged ${res.purged} payload(s) stored before ${fmt(res.older_than)}.`));
        } catch (err) { purgeOut.append(msg('error', err.words || String(err))); }
      }));
    });

    page('Consent', h('section', { class: 'card' }, h('h2', {}, 'Consent records'), listForm, list),
      h('section', { class: 'card' }, h('h2', {}, 'Record consent (custodian)'),
        h('p', { class: 'muted' }, 'The scope is where the consent processor looks consent up: the tenant\'s consent_scope, by default vendor/tenant id (e.g. genesys/<org id>).'), recForm, recOut),
      h('section', { class: 'card' }, h('h2', {}, 'Release held records (custodian)'),
        h('p', { class: 'muted' }, 'Re-evaluates held records under the current policy and consent. The preview changes nothing.'), relForm, relOut),
      h('section', { class: 'card' }, h('h2', {}, 'Erase a subject (custodian)'), eraseForm, eraseOut),
      h('section', { class: 'card' }, h('h2', {}, 'Purge old payloads (custodian, every tenant)'), purgeForm, purgeOut));
    if (q.tenant) {
      try {
        const filter = Object.assign({ tenant: q.tenant }, q.identifier ? { raw_identifier: q.identifier } : { subject_key: q.subject_key });
        const res = await call('GET', '/v1/consents', { query: Object.assign({ page_size: 200 }, filter) });
        list.append(consentTable(res.consents || []));
        if ((res.consents || []).length) list.append(csvButton('/v1/consents', filter, 'consents'));
      } catch (e) { list.append(msg('error', e.words || String(e))); }
    }
  }

  function releaseResult(res) {
    return h('div', { class: 'release-result' },
      h('p', {}, `${res.dry_run ? 'Dry run: ' : ''}${res.evaluated} evaluated, ${res.eligible} eligible, ${res.forwarded} forwarded, ${res.released} released.`),
      (res.outcomes || []).length ? h('table', {}, h('tr', {}, ['Record', 'Decision now', 'Why', 'Forwarded'].map(t => h('th', {}, t))),
        res.outcomes.map(o => h('tr', {}, h('td', {}, h('a', { class: 'mono', href: '#/record/' + encodeURIComponent(o.record_id) }, short(o.record_id, 26))),
          h('td', {}, o.error ? 'not evaluated: ' + o.error : (o.decision === 'forward' ? 'would be forwarded' : 'stays held')),
          h('td', {}, (o.reasons || []).filter(c => explain(c).blocking).map(c => explain(c).plain).join(' ') || '—'),
          h('td', {}, o.forwarded ? 'yes' : 'no')))) : null);
  }

  // ---------------------------------------------------------------- access log

  async function viewAccess(q) {
    const form = h('form', { class: 'filters card', id: 'access-filter' },
      field('Identity', input('identity', q.identity)),
      field('Method', select('method', [['', 'any']].concat(METHODS), q.method)),
      field('From (UTC)', input('from', q.from, { type: 'datetime-local' })),
      field('To (UTC)', input('to', q.to, { type: 'datetime-local' })),
      h('button', { type: 'submit' }, 'Filter'));
    form.addEventListener('submit', e => { e.preventDefault(); go('access', formValues(form)); });
    const out = h('div');
    page('Access log', form, out);
    const filter = { identity: q.identity, method: q.method, from: iso(q.from), to: iso(q.to) };
    try {
      const res = await call('GET', '/v1/access-log', { query: Object.assign({ page_size: 100, page_token: q.page_token }, filter) });
      const rows = res.entries || [];
      add(out, [rows.length ? csvButton('/v1/access-log', filter, 'access-log') : null,rows.length ? h('table', { id: 'access' }, h('tr', {}, ['Time', 'Identity', 'Method', 'Target', 'Reason', 'Result'].map(t => h('th', {}, t))),
        rows.map(e => h('tr', { class: (e.result || '').startsWith('ok') ? '' : 'refused' }, h('td', {}, fmt(e.time)), h('td', {}, e.identity), h('td', {}, e.method),
          h('td', { class: 'mono' }, e.target), h('td', {}, e.reason), h('td', {}, e.result)))) : h('p', { class: 'muted' }, 'No entry.'),
      h('div', { class: 'pager' },
        q.page_token ? h('button', { type: 'button', class: 'secondary', onclick: () => history.back() }, 'Previous page') : null,
        res.next_page_token ? h('button', { type: 'button', class: 'secondary', onclick: () => go('access', Object.assign({}, q, { page_token: res.next_page_token })) }, 'Next page') : null)]);
    } catch (e) { out.append(msg('error', e.words || String(e))); }
  }

  // ---------------------------------------------------------------- verify

  function viewVerify() {
    const out = h('div', { id: 'verify-out' });
    const bar = h('div', { class: 'progress', hidden: true }, h('div'));
    const form = h('form', { class: 'filters', id: 'verify-form' },
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'checkpoint', checked: true }), 'sign a checkpoint of this replica first'),
      h('button', { type: 'submit', id: 'verify-start' }, 'Verify the ledger'));
    form.addEventListener('submit', async e => {
      e.preventDefault();
      const v = formValues(form);
      const started = Date.now();
      bar.hidden = false; bar.className = 'progress busy';
      let said = 'Verifying every chain, record and checkpoint…';
      const tick = setInterval(() => { clear(out).append(h('p', { class: 'muted', id: 'verify-progress' }, `${said} ${((Date.now() - started) / 1000).toFixed(0)} s`)); }, 500);
      try {
        // Streamed: a progress line every 2 s, then the result (a server
        // that does not stream answers the result alone, as JSON).
        const resp = await call('POST', '/v1/ledger:verify', { body: { checkpoint: v.checkpoint }, stream: true, accept: 'application/x-ndjson' });
        let res = null;
        if ((resp.headers.get('Content-Type') || '').startsWith('application/x-ndjson')) {
          await readLines(resp, l => {
            if (!l.trim()) return;
            const m = JSON.parse(l);
            if (m.error) throw new ApiError(0, m.error, l);
            if (m.result) res = m.result;
            const p = m.progress;
            if (!p) return;
            const n = Number(p.checked || 0), total = Number(p.total || 0);
            said = p.phase === 'rows' ? 'Checking every row against its chain entry:' : 'Checking the hash chains:';
            if (n) said += ` ${n.toLocaleString('en')}${total ? ' of ' + total.toLocaleString('en') : ''}`;
            if (total) { bar.className = 'progress'; bar.firstChild.style.width = Math.min(100, 100 * n / total) + '%'; }
          });
        } else {
          res = await resp.json();
        }
        if (!res) throw new Error('the verification ended without a result');
        clearInterval(tick);
        sessionStorage.setItem(LAST_VERIFY, JSON.stringify({ ok: res.ok, problems: res.problems, writers: res.writers, at: new Date().toISOString() }));
        clear(out).append(
          msg(res.ok ? 'ok' : 'error', res.ok ? 'Verified: every chain, record, consent record, access entry and checkpoint is intact.' : `${(res.problems || []).length} problem(s) found${res.truncated ? ' (more not listed)' : ''}.`),
          h('dl', { class: 'meta' }, [['Entries', res.entries], ['Records', res.records], ['Consent records', res.consents], ['Access entries', res.access_entries],
            ['Purged', res.purged], ['Erased', res.erased], ['Took', res.duration], ['Public key', h('span', { class: 'mono', id: 'public-key' }, res.public_key)], ['Key id', res.key_id]]
            .map(([k, x]) => [h('dt', {}, k), h('dd', {}, x)])),
          h('h2', {}, 'Chains and checkpoints'), checkpointTable(res.writers || []),
          (res.problems || []).length ? h('table', {}, h('tr', {}, ['Problem', 'Writer', 'Seq', 'Ref', 'Detail'].map(t => h('th', {}, t))),
            res.problems.map(p => h('tr', {}, h('td', {}, p.kind), h('td', { class: 'mono' }, p.writer_id), h('td', {}, p.seq), h('td', { class: 'mono' }, p.ref), h('td', {}, p.detail)))) : null);
      } catch (err) {
        clearInterval(tick);
        clear(out).append(msg('error', err.words || String(err)));
      } finally { bar.hidden = true; bar.className = 'progress'; bar.firstChild.style.width = ''; }
    });
    const f = h('form', { class: 'filters', id: 'export-filter' },
      field('Tenant', input('tenant', '')), field('Vendor', select('vendor', [['', 'any']].concat(VENDORS), '')),
      field('Stored from (UTC)', input('from', '', { type: 'datetime-local' })), field('Stored to (UTC)', input('to', '', { type: 'datetime-local' })),
      field('Subject key', input('subject_key', '')));
    f.addEventListener('submit', e => e.preventDefault());
    page('Verify and export',
      h('section', { class: 'card' }, h('h2', {}, 'Verify the ledger'), h('p', { class: 'muted' }, 'Recomputes every hash chain, record digest and signed checkpoint. On a large ledger this takes a while (about 25 µs per record); each identity may verify a few times, then once a minute.'), form, bar, out),
      h('section', { class: 'card' }, h('h2', {}, 'Export an evidence bundle'), h('p', { class: 'muted' }, 'Records matching the filter, their chain entries, a signed checkpoint and a SHA-256 manifest (NDJSON), verifiable offline with consentry bundle verify.'), f,
        exportForm(() => { const v = formValues(f); return recordFilter(Object.assign(v, { time: 'stored' })); }, 'evidence')));
  }

  // ---------------------------------------------------------------- router

  function hash(view, q) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q || {})) if (v) p.append(k, v);
    const qs = p.toString();
    return '#/' + view + (qs ? '?' + qs : '');
  }
  // Phone numbers and e-mail addresses never go into the URL (and so the
  // browser's history): the hash holds a reference to them, in memory only.
  const RAW_FIELDS = ['identifier', 'raw_identifier'];
  const held = new Map();
  function go(view, q) {
    const out = Object.assign({}, q);
    for (const k of RAW_FIELDS) {
      if (!out[k]) continue;
      const ref = 'held-' + crypto.getRandomValues(new Uint32Array(2)).join('');
      held.set(ref, out[k]);
      out[k] = ref;
    }
    location.hash = hash(view, out);
  }
  function unhold(q) {
    for (const k of RAW_FIELDS) if (q[k]) q[k] = held.get(q[k]) || '';
    return q;
  }

  async function route() {
    if (!signedIn()) { renderSignIn(); return; }
    const m = /^#\/([^?/]*)(?:\/([^?]*))?(?:\?(.*))?$/.exec(location.hash || '') || [];
    const view = m[1] || 'overview';
    const arg = m[2] ? decodeURIComponent(m[2]) : '';
    const q = unhold(Object.fromEntries(new URLSearchParams(m[3] || '')));
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === view || (view === 'record' && a.dataset.view === 'records'));
    const views = { overview: viewOverview, records: viewRecords, record: () => viewRecord(arg), subject: viewSubject, consent: viewConsent, access: viewAccess, verify: viewVerify };
    const v = views[view] || viewOverview;
    document.body.dataset.view = view;
    document.body.dataset.ready = 'no';
    try { await v(q); } finally { document.body.dataset.ready = 'yes'; }
  }

  document.getElementById('signout').addEventListener('click', () => { signOut('Signed out.'); location.hash = ''; });
  window.addEventListener('hashchange', route);
  fetch(BASE + 'console/reasons.json', { cache: 'no-cache' }).then(r => r.json()).then(r => { reasons = r; }).catch(() => {}).finally(() => { chrome(); route(); });
})();
