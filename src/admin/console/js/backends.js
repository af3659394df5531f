// Backends: TLS settings for the backend URLs they match (longest URL prefix
// wins): whether the chain and the name of the backend's certificate are
// checked, and the CA certificates it must chain to.

import * as api from './api.js';
import {
  cell,
  checkbox,
  confirmDialog,
  describeError,
  field,
  focusHeading,
  h,
  messages,
  replace,
  ID_PATTERN,
} from './dom.js';

function yesNo(value) {
  return value === false
    ? h('span', {class: 'badge warn'}, 'off')
    : h('span', {class: 'badge good'}, 'on');
}

function caSummary(pem) {
  if (!pem) return h('span', {class: 'muted'}, 'system store');
  const count = (pem.match(/-----BEGIN CERTIFICATE-----/g) || []).length;
  return `custom (${count} certificate${count === 1 ? '' : 's'})`;
}

export function renderBackends({view, signal, setTitle, notice}) {
  setTitle('Backends');
  const note = messages();
  const body = h('tbody', {}, h('tr', {class: 'placeholder'}, h('td', {colspan: 6}, 'Loading…')));

  const id = field(
    'Backend ID',
    h('input', {
      type: 'text',
      required: true,
      pattern: ID_PATTERN,
      maxlength: 80,
      spellcheck: 'false',
      autocomplete: 'off',
    }),
  );
  const url = field(
    'URL',
    h('input', {
      type: 'url',
      required: true,
      spellcheck: 'false',
      autocomplete: 'off',
      placeholder: 'https://orders.internal:9443',
    }),
    'Applies to every API whose service URL starts with it; the longest match wins.',
  );
  const chain = checkbox('Validate certificate chain', true);
  const name = checkbox('Validate certificate name', true);
  const ca = field(
    'CA certificate (PEM)',
    h('textarea', {rows: 6, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----'}),
    'The backend’s certificate must chain to one of these. Empty: the system’s trust store.',
  );
  const save = h('button', {type: 'submit', class: 'button primary'}, 'Save');
  const reset = h('button', {type: 'reset', class: 'button'}, 'Clear');
  const form = h(
    'form',
    {class: 'card form', 'aria-labelledby': 'backend-form-title'},
    h('h2', {id: 'backend-form-title'}, 'Add or replace a backend'),
    h('div', {class: 'grid'}, id.row, url.row),
    h('fieldset', {class: 'checks'}, h('legend', {}, 'TLS validation'), chain.row, name.row),
    ca.row,
    h('div', {class: 'actions'}, save, reset),
  );

  function edit(backend) {
    const p = backend.properties || {};
    id.control.value = backend.name;
    url.control.value = p.url ?? '';
    chain.control.checked = p.tls?.validateCertificateChain !== false;
    name.control.checked = p.tls?.validateCertificateName !== false;
    ca.control.value = p.caCertificate ?? '';
    note.clear();
    id.control.focus();
  }

  async function remove(backendId) {
    const yes = await confirmDialog({
      title: `Delete backend ${backendId}?`,
      body: h(
        'p',
        {},
        'Its TLS settings no longer apply; matching APIs fall back to full validation against the system store.',
      ),
      confirmLabel: 'Yes, delete',
    });
    if (!yes) return;
    try {
      await api.deleteBackend(backendId);
      note.ok(`Deleted backend ${backendId}.`);
      await load();
      focusHeading(view);
    } catch (error) {
      note.error(describeError(error, `Could not delete ${backendId}:`));
    }
  }

  async function load() {
    let backends;
    try {
      backends = await api.listBackends();
    } catch (error) {
      if (!signal.aborted) note.error(describeError(error, 'Could not list backends:'));
      replace(body, h('tr', {class: 'placeholder'}, h('td', {colspan: 6}, 'Not available.')));
      return;
    }
    if (signal.aborted) return;
    backends.sort((a, b) => a.name.localeCompare(b.name));
    if (backends.length === 0) {
      replace(
        body,
        h(
          'tr',
          {class: 'placeholder'},
          h(
            'td',
            {colspan: 6},
            'No backends yet: every backend certificate is checked in full against the system store.',
          ),
        ),
      );
      return;
    }
    replace(
      body,
      backends.map((b) => {
        const p = b.properties || {};
        return h(
          'tr',
          {'data-id': b.name},
          cell('ID', h('code', {}, b.name)),
          cell('URL', h('code', {}, p.url ?? ''), 'wrap'),
          cell('Chain validation', yesNo(p.tls?.validateCertificateChain)),
          cell('Name validation', yesNo(p.tls?.validateCertificateName)),
          cell('CA certificates', caSummary(p.caCertificate)),
          h(
            'td',
            {class: 'row-actions'},
            h(
              'button',
              {
                type: 'button',
                class: 'button small',
                'aria-label': `Edit ${b.name}`,
                onclick: () => edit(b),
              },
              'Edit',
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'button small danger-quiet',
                'aria-label': `Delete ${b.name}`,
                onclick: () => remove(b.name),
              },
              'Delete',
            ),
          ),
        );
      }),
    );
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const backendId = id.control.value.trim();
    const properties = {
      url: url.control.value.trim(),
      tls: {
        validateCertificateChain: chain.control.checked,
        validateCertificateName: name.control.checked,
      },
    };
    const pem = ca.control.value.trim();
    if (pem) properties.caCertificate = `${pem}\n`;
    save.disabled = true;
    try {
      const {created} = await api.putBackend(backendId, properties);
      note.ok(`${created ? 'Created' : 'Replaced'} backend ${backendId}.`);
      form.reset();
      await load();
    } catch (error) {
      note.error(describeError(error, `Could not save ${backendId}:`));
    } finally {
      save.disabled = false;
    }
  });

  replace(
    view,
    h(
      'div',
      {class: 'page-head'},
      h(
        'div',
        {},
        h('h1', {id: 'backends-title'}, 'Backends'),
        h(
          'p',
          {class: 'lede'},
          'How the gateway checks the certificates of the backends it connects to.',
        ),
      ),
    ),
    note.nodes,
    h(
      'div',
      {class: 'table-wrap card'},
      h(
        'table',
        {'aria-labelledby': 'backends-title', class: 'list'},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['ID', 'URL', 'Chain validation', 'Name validation', 'CA certificates'].map((t) =>
              h('th', {scope: 'col'}, t),
            ),
            h('th', {scope: 'col'}, h('span', {class: 'visually-hidden'}, 'Actions')),
          ),
        ),
        body,
      ),
    ),
    form,
  );
  if (notice) note.ok(notice);
  load();
}
