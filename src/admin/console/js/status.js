// Status: how the gateway is doing, from GET /metrics (parsed here) and the
// certificate list: requests per API, backend pool connections per key, and
// certificates that expire within 30 days. Refreshes every 5 s while shown.

import * as api from './api.js';
import {barChart, legend} from './chart.js';
import {cell, daysUntil, describeError, h, isoDate, messages, replace} from './dom.js';
import {EXPIRY_WARNING_DAYS} from './certificates.js';
import {poolsByKey, parseMetrics, requestsByApi, total} from './metrics.js';

const REFRESH_MS = 5000;
const CLASSES = [
  {key: '2xx', kind: 'ok', name: '2xx'},
  {key: '3xx', kind: 'info', name: '3xx'},
  {key: '4xx', kind: 'warn', name: '4xx'},
  {key: '5xx', kind: 'bad', name: '5xx'},
  {key: '1xx', kind: 'other', name: '1xx'},
  {key: 'other', kind: 'other', name: 'other'},
];

function tile(label, value, note) {
  return h(
    'div',
    {class: 'tile'},
    h('div', {class: 'tile-value'}, value),
    h('div', {class: 'tile-label'}, label),
    note ? h('div', {class: 'tile-note'}, note) : null,
  );
}

// "https://127.0.0.1:9443 verify=chain+name cert=ABC…" → its parts.
export function describePoolKey(key, certificateByThumbprint) {
  const [origin, ...rest] = key.split(' ');
  const parts = Object.fromEntries(
    rest.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  );
  const certificate = parts.cert ? certificateByThumbprint.get(parts.cert) : undefined;
  return {origin, sni: parts.sni, verify: parts.verify, thumbprint: parts.cert, certificate};
}

function requestsSection(samples) {
  const rows = requestsByApi(samples).map((r) => ({
    label: r.api,
    segments: CLASSES.filter((c) => r.classes[c.key]).map((c) => ({
      value: r.classes[c.key],
      kind: c.kind,
      name: c.name,
    })),
  }));
  if (rows.length === 0) return h('p', {class: 'muted'}, 'No API has been called yet.');
  return [
    barChart({label: 'Requests per API, by status class', rows}),
    legend(CLASSES.slice(0, 4)),
  ];
}

function poolsSection(samples, certificates) {
  const byThumbprint = new Map(certificates.map((c) => [c.properties?.thumbprint, c.name]));
  const pools = poolsByKey(samples).map((p) => ({
    ...p,
    parts: describePoolKey(p.key, byThumbprint),
  }));
  if (pools.length === 0) return h('p', {class: 'muted'}, 'No backend pools yet.');
  const host = (origin) => origin.replace(/^https?:\/\//, '');
  const name = (p) =>
    `${host(p.parts.origin)}${p.parts.certificate ? ` · ${p.parts.certificate}` : p.parts.thumbprint ? ' · cert' : ''}`;
  const chart = barChart({
    label: 'Backend connections per pool key: busy and idle',
    rows: pools.map((p) => ({
      label: name(p),
      segments: [
        {value: Math.max(0, p.open - p.idle), kind: 'busy', name: 'busy'},
        {value: p.idle, kind: 'idle', name: 'idle'},
      ],
      note: `${p.open} open`,
    })),
  });
  const table = h(
    'table',
    {class: 'list compact', 'aria-label': 'Pool connections per key'},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Pool key', 'Open', 'Idle', 'Hits', 'Misses', 'Failed connects'].map((t) =>
          h('th', {scope: 'col'}, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      pools.map((p) =>
        h(
          'tr',
          {},
          cell(
            'Pool key',
            [
              h('code', {}, p.parts.origin),
              p.parts.sni ? h('div', {class: 'muted'}, `SNI ${p.parts.sni}`) : null,
              p.parts.verify ? h('div', {class: 'muted'}, `verify ${p.parts.verify}`) : null,
              p.parts.thumbprint
                ? h(
                    'div',
                    {class: 'muted'},
                    'client certificate ',
                    p.parts.certificate
                      ? h('code', {}, p.parts.certificate)
                      : h('code', {class: 'thumbprint'}, p.parts.thumbprint),
                  )
                : null,
            ],
            'wrap stack',
          ),
          cell('Open', String(p.open), 'num'),
          cell('Idle', String(p.idle), 'num'),
          cell('Hits', String(p.hits), 'num'),
          cell('Misses', String(p.misses), 'num'),
          cell('Failed connects', String(p.failures), 'num'),
        ),
      ),
    ),
  );
  return [
    chart,
    legend([
      {kind: 'busy', name: 'busy'},
      {kind: 'idle', name: 'idle'},
    ]),
    h('div', {class: 'table-wrap'}, table),
  ];
}

function expirySection(certificates) {
  const soon = certificates
    .map((c) => ({c, days: daysUntil(c.properties?.expirationDate)}))
    .filter((x) => x.days < EXPIRY_WARNING_DAYS)
    .sort((a, b) => a.days - b.days);
  if (soon.length === 0) {
    return h(
      'p',
      {class: 'muted'},
      `None: every certificate is valid for at least ${EXPIRY_WARNING_DAYS} more days.`,
    );
  }
  const chart = barChart({
    label: `Days left of the next ${EXPIRY_WARNING_DAYS}`,
    max: EXPIRY_WARNING_DAYS,
    rows: soon.map(({c, days}) => ({
      label: c.name,
      segments: [{value: Math.max(days, 0), kind: days < 7 ? 'bad' : 'warn', name: 'days left'}],
      note: days < 0 ? 'expired' : `${days} day${days === 1 ? '' : 's'}`,
    })),
  });
  const list = h(
    'table',
    {
      class: 'list compact',
      'aria-label': `Certificates expiring within ${EXPIRY_WARNING_DAYS} days`,
    },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['ID', 'Subject', 'Expires'].map((t) => h('th', {scope: 'col'}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      soon.map(({c}) =>
        h(
          'tr',
          {},
          cell('ID', h('code', {}, c.name)),
          cell('Subject', c.properties?.subject ?? '', 'wrap'),
          cell('Expires', isoDate(c.properties?.expirationDate)),
        ),
      ),
    ),
  );
  return [chart, h('div', {class: 'table-wrap'}, list)];
}

export function renderStatus({view, signal, setTitle}) {
  setTitle('Status');
  const note = messages();
  const tiles = h(
    'div',
    {class: 'tiles'},
    tile('Requests', '…'),
    tile('APIs', '…'),
    tile('Open backend connections', '…'),
    tile('Certificates', '…'),
  );
  const requests = h('div', {class: 'section-body'}, h('p', {class: 'muted'}, 'Loading…'));
  const pools = h('div', {class: 'section-body'}, h('p', {class: 'muted'}, 'Loading…'));
  const expiring = h('div', {class: 'section-body'}, h('p', {class: 'muted'}, 'Loading…'));
  const updated = h('p', {class: 'updated muted', 'aria-live': 'off'}, ' ');
  const refresh = h('button', {type: 'button', class: 'button'}, 'Refresh');

  const section = (id, title, body) =>
    h('section', {class: 'card', 'aria-labelledby': id}, h('h2', {id}, title), body);

  async function load() {
    let samples;
    let certificates;
    let apis;
    try {
      [samples, certificates, apis] = await Promise.all([
        api.metricsText().then(parseMetrics),
        api.listCertificates(),
        api.listApis(),
      ]);
    } catch (error) {
      if (!signal.aborted) note.error(describeError(error, 'Could not read the status:'));
      return;
    }
    if (signal.aborted) return;
    note.clear();
    const expiringCount = certificates.filter(
      (c) => daysUntil(c.properties?.expirationDate) < EXPIRY_WARNING_DAYS,
    ).length;
    const allRequests = samples.find(
      (x) =>
        x.name === 'ringgate_requests_total' && x.labels.api === '' && x.labels.class === 'all',
    );
    replace(
      tiles,
      tile('Requests', (allRequests?.value ?? 0).toLocaleString('en-US')),
      tile('APIs', String(apis.length)),
      tile('Open backend connections', String(total(samples, 'ringgate_pool_open_connections'))),
      tile(
        'Certificates',
        String(certificates.length),
        expiringCount ? `${expiringCount} expiring soon` : null,
      ),
    );
    replace(requests, requestsSection(samples));
    replace(pools, poolsSection(samples, certificates));
    replace(expiring, expirySection(certificates));
    updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}; refreshes every ${REFRESH_MS / 1000} s.`;
  }

  refresh.addEventListener('click', load);
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));

  replace(
    view,
    h('div', {class: 'page-head'}, h('div', {}, h('h1', {}, 'Status'), updated), refresh),
    note.nodes,
    tiles,
    h(
      'div',
      {class: 'columns'},
      section('requests-title', 'Requests per API', requests),
      section(
        'expiring-title',
        `Certificates expiring within ${EXPIRY_WARNING_DAYS} days`,
        expiring,
      ),
    ),
    section('pools-title', 'Backend pool connections per key', pools),
  );
  load();
}
