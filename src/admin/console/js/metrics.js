// Reads the Prometheus text format (version 0.0.4) that GET /metrics
// answers: one sample per line, `name{label="value",…} number`; label values
// escape \\, \" and \n. Comments (# HELP, # TYPE) and blank lines are skipped.

function parseLabels(text, start) {
  const labels = {};
  let i = start;
  while (i < text.length && text[i] !== '}') {
    const eq = text.indexOf('=', i);
    if (eq < 0 || text[eq + 1] !== '"') return null;
    const key = text.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j += 1) {
      if (text[j] === '\\' && j + 1 < text.length) {
        j += 1;
        value += text[j] === 'n' ? '\n' : text[j];
      } else value += text[j];
    }
    if (j >= text.length) return null;
    labels[key] = value;
    i = j + 1;
    if (text[i] === ',') i += 1;
  }
  return i < text.length ? {labels, end: i + 1} : null;
}

// [{name, labels, value}] for every well-formed sample line.
export function parseMetrics(text) {
  const samples = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    let name;
    let labels = {};
    let rest;
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      const parsed = parseLabels(line, brace + 1);
      if (!parsed) continue;
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    } else {
      if (space < 0) continue;
      name = line.slice(0, space);
      rest = line.slice(space);
    }
    const value = Number(rest.trim().split(/\s+/)[0]);
    if (!Number.isNaN(value)) samples.push({name, labels, value});
  }
  return samples;
}

// Requests per API: [{api, classes: {'2xx': n, …}, total}], busiest first.
// The gateway-wide line (api="") is left out.
export function requestsByApi(samples) {
  const byApi = new Map();
  for (const s of samples) {
    if (s.name !== 'ringgate_requests_total' || !s.labels.api) continue;
    const entry = byApi.get(s.labels.api) || {api: s.labels.api, classes: {}, total: 0};
    entry.classes[s.labels.class] = (entry.classes[s.labels.class] || 0) + s.value;
    entry.total += s.value;
    byApi.set(s.labels.api, entry);
  }
  return [...byApi.values()].sort((a, b) => b.total - a.total || a.api.localeCompare(b.api));
}

// Pools per key: [{key, open, idle, hits, misses, connects, failures}].
export function poolsByKey(samples) {
  const fields = {
    ringgate_pool_open_connections: 'open',
    ringgate_pool_idle_connections: 'idle',
    ringgate_pool_hits_total: 'hits',
    ringgate_pool_misses_total: 'misses',
    ringgate_pool_connects_total: 'connects',
    ringgate_pool_connect_failures_total: 'failures',
  };
  const byKey = new Map();
  for (const s of samples) {
    const field = fields[s.name];
    if (!field || s.labels.key === undefined) continue;
    const entry = byKey.get(s.labels.key) || {
      key: s.labels.key,
      open: 0,
      idle: 0,
      hits: 0,
      misses: 0,
      connects: 0,
      failures: 0,
    };
    entry[field] = s.value;
    byKey.set(s.labels.key, entry);
  }
  return [...byKey.values()].sort((a, b) => b.open - a.open || a.key.localeCompare(b.key));
}

// Certificate expiry times from the gauge: Map id → unix seconds.
export function certificateExpiry(samples) {
  const expiry = new Map();
  for (const s of samples) {
    if (s.name === 'ringgate_certificate_expiry_timestamp_seconds' && s.labels.id)
      expiry.set(s.labels.id, s.value);
  }
  return expiry;
}

// The value of an unlabelled sample (or the sum over its labels), 0 if absent.
export function total(samples, name) {
  return samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
}
