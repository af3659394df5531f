// APIs: the list (ID, Path, Service URL, Client certificate), creation, and
// each API's page, where its client certificate is chosen. The choice is
// written into the API's policy as <authentication-certificate
// certificate-id="…"/>, as APIM does, and the resulting XML is shown.

import * as api from './api.js';
import {
  cell,
  confirmDialog,
  describeError,
  field,
  h,
  messages,
  replace,
  ID_PATTERN,
} from './dom.js';
import {expiryCell} from './certificates.js';
import {clientCertificate, policyView, withClientCertificate} from './policy.js';

function certificateLabel(policyXml) {
  const chosen = clientCertificate(policyXml);
  if (!chosen) return h('span', {class: 'muted'}, 'None');
  if (chosen.certificateId) return h('code', {}, chosen.certificateId);
  return h('span', {}, 'thumbprint ', h('code', {class: 'thumbprint'}, chosen.thumbprint));
}

function apiLink(id) {
  return h('a', {href: `#/apis/${encodeURIComponent(id)}`}, id);
}

function createForm(note, navigate) {
  const id = field(
    'API ID',
    h('input', {
      type: 'text',
      required: true,
      pattern: ID_PATTERN,
      maxlength: 80,
      spellcheck: 'false',
      autocomplete: 'off',
    }),
    'Letters, digits, ".", "_" or "-", starting with a letter or digit.',
  );
  const path = field(
    'Path',
    h('input', {
      type: 'text',
      required: true,
      spellcheck: 'false',
      autocomplete: 'off',
      placeholder: 'orders',
    }),
    'Matched on whole segments: "orders" serves /orders and /orders/….',
  );
  const serviceUrl = field(
    'Service URL',
    h('input', {
      type: 'url',
      required: true,
      spellcheck: 'false',
      autocomplete: 'off',
      placeholder: 'https://orders.internal:9443/api',
    }),
    'Where requests go: /orders/1 is sent to <service URL>/1.',
  );
  const create = h('button', {type: 'submit', class: 'button primary'}, 'Create');
  const cancel = h('button', {type: 'button', class: 'button'}, 'Cancel');
  const form = h(
    'form',
    {id: 'add-api', class: 'card form', 'aria-labelledby': 'add-api-title', hidden: true},
    h('h2', {id: 'add-api-title'}, 'Add API'),
    h('div', {class: 'grid'}, id.row, path.row, serviceUrl.row),
    h('div', {class: 'actions'}, create, cancel),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const apiId = id.control.value.trim();
    create.disabled = true;
    try {
      await api.putApi(
        apiId,
        path.control.value.trim().replace(/^\/+/, ''),
        serviceUrl.control.value.trim(),
      );
      navigate(
        `#/apis/${encodeURIComponent(apiId)}`,
        `Created API ${apiId}. Choose the client certificate it presents to its backend.`,
      );
    } catch (error) {
      note.error(describeError(error, `Could not create ${apiId}:`));
    } finally {
      create.disabled = false;
    }
  });
  return {form, cancel, first: id.control};
}

export function renderApis({view, signal, setTitle, navigate, notice}) {
  setTitle('APIs');
  const note = messages();
  const body = h('tbody', {}, h('tr', {class: 'placeholder'}, h('td', {colspan: 4}, 'Loading…')));
  const addButton = h(
    'button',
    {type: 'button', class: 'button primary', 'aria-expanded': 'false', 'aria-controls': 'add-api'},
    'Add API',
  );
  const {form, cancel, first} = createForm(note, navigate);

  function toggleForm(open) {
    form.hidden = !open;
    addButton.setAttribute('aria-expanded', String(open));
    if (open) {
      note.clear();
      first.focus();
    } else addButton.focus();
  }
  addButton.addEventListener('click', () => toggleForm(form.hidden));
  cancel.addEventListener('click', () => toggleForm(false));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') toggleForm(false);
  });

  async function load() {
    let apis;
    let policies;
    try {
      apis = await api.listApis();
      apis.sort((a, b) => a.name.localeCompare(b.name));
      policies = await Promise.all(apis.map((a) => api.getPolicy(a.name)));
    } catch (error) {
      if (!signal.aborted) note.error(describeError(error, 'Could not list APIs:'));
      replace(body, h('tr', {class: 'placeholder'}, h('td', {colspan: 4}, 'Not available.')));
      return;
    }
    if (signal.aborted) return;
    if (apis.length === 0) {
      replace(
        body,
        h(
          'tr',
          {class: 'placeholder'},
          h('td', {colspan: 4}, 'No APIs yet. Create one with “Add API”.'),
        ),
      );
      return;
    }
    replace(
      body,
      apis.map((a, i) =>
        h(
          'tr',
          {'data-id': a.name},
          cell('ID', apiLink(a.name)),
          cell('Path', h('code', {}, `/${a.properties?.path ?? ''}`)),
          cell('Service URL', h('code', {}, a.properties?.serviceUrl ?? ''), 'wrap'),
          cell('Client certificate', certificateLabel(policies[i]?.xml)),
        ),
      ),
    );
  }

  replace(
    view,
    h(
      'div',
      {class: 'page-head'},
      h(
        'div',
        {},
        h('h1', {id: 'apis-title'}, 'APIs'),
        h(
          'p',
          {class: 'lede'},
          'Requests are routed by path to the API’s service URL, over pooled mTLS connections.',
        ),
      ),
      addButton,
    ),
    note.nodes,
    form,
    h(
      'div',
      {class: 'table-wrap card'},
      h(
        'table',
        {'aria-labelledby': 'apis-title', class: 'list'},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['ID', 'Path', 'Service URL', 'Client certificate'].map((t) =>
              h('th', {scope: 'col'}, t),
            ),
          ),
        ),
        body,
      ),
    ),
  );
  if (notice) note.ok(notice);
  load();
}

function certificateOptions(select, certificates, chosen) {
  const options = [h('option', {value: ''}, 'None')];
  for (const c of certificates) {
    options.push(h('option', {value: c.name}, `${c.name} (${c.properties?.thumbprint ?? ''})`));
  }
  if (chosen?.certificateId && !certificates.some((c) => c.name === chosen.certificateId)) {
    options.push(
      h('option', {value: chosen.certificateId}, `${chosen.certificateId} (not in the store)`),
    );
  }
  replace(select, options);
  if (chosen?.thumbprint) {
    const match = certificates.find(
      (c) => c.properties?.thumbprint === chosen.thumbprint.toUpperCase(),
    );
    select.value = match ? match.name : '';
  } else select.value = chosen?.certificateId ?? '';
}

export function renderApi({view, params, signal, setTitle, navigate, notice}) {
  const [id] = params;
  setTitle(`API ${id}`);
  const note = messages();
  let policy = null; // {xml, etag} or null
  const details = h(
    'dl',
    {class: 'facts'},
    h('dt', {}, 'Path'),
    h('dd', {}, '…'),
    h('dt', {}, 'Service URL'),
    h('dd', {}, '…'),
  );
  const select = h(
    'select',
    {id: 'client-certificate', disabled: true},
    h('option', {value: ''}, 'Loading…'),
  );
  const save = h('button', {type: 'submit', class: 'button primary', disabled: true}, 'Save');
  const chosenBox = h('div', {class: 'chosen'}, h('p', {class: 'muted'}, 'Loading…'));
  let certificates = [];
  const policyBox = h('div', {class: 'policy'}, h('p', {class: 'muted'}, 'Loading…'));
  const deleteButton = h('button', {type: 'button', class: 'button danger-quiet'}, 'Delete API');

  const form = h(
    'form',
    {class: 'card form', 'aria-labelledby': 'credentials-title'},
    h('h2', {id: 'credentials-title'}, 'Backend credentials'),
    h(
      'div',
      {class: 'field'},
      h('label', {for: 'client-certificate'}, 'Client certificate'),
      select,
      h(
        'p',
        {class: 'hint', id: 'client-certificate-hint'},
        'Presented on the pooled mTLS connections to the service URL. Saving writes it into the policy.',
      ),
    ),
    chosenBox,
    h('div', {class: 'actions'}, save),
  );
  select.setAttribute('aria-describedby', 'client-certificate-hint');

  // What the selected certificate is, in a box whose height does not
  // change with the choice.
  function showChosen() {
    const c = certificates.find((x) => x.name === select.value);
    if (!c) {
      replace(chosenBox, h('p', {class: 'muted'}, 'No client certificate: the backend gets none.'));
      return;
    }
    const p = c.properties || {};
    replace(
      chosenBox,
      h(
        'dl',
        {class: 'facts', 'aria-label': 'Selected certificate'},
        h('dt', {}, 'Subject'),
        h('dd', {}, p.subject ?? ''),
        h('dt', {}, 'Thumbprint'),
        h('dd', {}, h('code', {class: 'thumbprint'}, p.thumbprint ?? '')),
        h('dt', {}, 'Expires'),
        h('dd', {}, p.expirationDate ? expiryCell(p.expirationDate) : ''),
      ),
    );
  }
  select.addEventListener('change', showChosen);

  function showPolicy() {
    replace(
      policyBox,
      policy
        ? policyView(policy.xml)
        : h(
            'p',
            {class: 'muted'},
            'No policy: requests go to the service URL without a client certificate.',
          ),
    );
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    const certificateId = select.value;
    try {
      const xml = withClientCertificate(policy?.xml, certificateId);
      await api.putPolicy(id, xml, policy?.etag);
      policy = await api.getPolicy(id);
      showPolicy();
      note.ok(
        certificateId
          ? `Saved: ${id} presents ${certificateId}.`
          : `Saved: ${id} presents no client certificate.`,
      );
    } catch (error) {
      const context =
        error.code === 'PreconditionFailed'
          ? 'Someone changed this policy meanwhile; reload the page.'
          : `Could not save the policy of ${id}:`;
      note.error(describeError(error, context));
    } finally {
      save.disabled = false;
    }
  });

  deleteButton.addEventListener('click', async () => {
    const yes = await confirmDialog({
      title: `Delete API ${id}?`,
      body: h(
        'p',
        {},
        'Requests to its path are answered 404 from then on. Its policy is deleted with it.',
      ),
      confirmLabel: 'Yes, delete',
    });
    if (!yes) return;
    try {
      await api.deleteApi(id);
      navigate('#/apis', `Deleted API ${id}.`);
    } catch (error) {
      note.error(describeError(error, `Could not delete ${id}:`));
    }
  });

  replace(
    view,
    h(
      'nav',
      {class: 'crumbs', 'aria-label': 'Breadcrumb'},
      h('a', {href: '#/apis'}, 'APIs'),
      h('span', {'aria-hidden': 'true'}, ' / '),
      h('span', {'aria-current': 'page'}, id),
    ),
    h(
      'div',
      {class: 'page-head'},
      h('div', {}, h('h1', {}, h('span', {class: 'kind'}, 'API '), id), details),
      deleteButton,
    ),
    note.nodes,
    h(
      'div',
      {class: 'columns narrow-left'},
      form,
      h(
        'section',
        {class: 'card', 'aria-labelledby': 'policy-title'},
        h('h2', {id: 'policy-title'}, 'Policy'),
        policyBox,
      ),
    ),
  );
  if (notice) note.ok(notice);

  (async () => {
    try {
      const [entity, listed, stored] = await Promise.all([
        api.getApi(id),
        api.listCertificates(),
        api.getPolicy(id),
      ]);
      if (signal.aborted) return;
      certificates = listed;
      policy = stored;
      replace(
        details,
        h('dt', {}, 'Path'),
        h('dd', {}, h('code', {}, `/${entity?.properties?.path ?? ''}`)),
        h('dt', {}, 'Service URL'),
        h('dd', {}, h('code', {}, entity?.properties?.serviceUrl ?? '')),
      );
      certificates.sort((a, b) => a.name.localeCompare(b.name));
      certificateOptions(select, certificates, clientCertificate(policy?.xml));
      showChosen();
      select.disabled = false;
      save.disabled = false;
      showPolicy();
    } catch (error) {
      if (signal.aborted) return;
      note.error(
        describeError(
          error,
          error.status === 404 ? `There is no API ${id}.` : `Could not load ${id}:`,
        ),
      );
      replace(policyBox, h('p', {class: 'muted'}, 'Not available.'));
    }
  })();
}
