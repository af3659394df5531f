// Certificates: the list (ID, Subject, Thumbprint, Expires), upload of a
// password-protected PFX, and deletion behind a confirmation. A certificate
// that an API's policy uses cannot be deleted; the gateway says which APIs.

import * as api from './api.js';
import {
  cell,
  confirmDialog,
  daysUntil,
  describeError,
  field,
  focusHeading,
  h,
  isoDate,
  messages,
  replace,
  ID_PATTERN,
} from './dom.js';

export const EXPIRY_WARNING_DAYS = 30;

// The Expires cell: the date, and a badge when it is near or past.
export function expiryCell(expirationDate) {
  const days = daysUntil(expirationDate);
  const cell = [h('time', {datetime: expirationDate}, isoDate(expirationDate))];
  if (days < 0) cell.push(' ', h('span', {class: 'badge bad'}, 'expired'));
  else if (days < EXPIRY_WARNING_DAYS) {
    cell.push(' ', h('span', {class: 'badge warn', title: `in ${days} days`}, 'expires soon'));
  }
  return cell;
}

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener('load', () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    });
    reader.addEventListener('error', () => reject(reader.error));
    reader.readAsDataURL(file);
  });
}

function uploadForm(note, onUploaded) {
  const id = field(
    'Certificate ID',
    h('input', {
      type: 'text',
      required: true,
      pattern: ID_PATTERN,
      maxlength: 80,
      spellcheck: 'false',
      autocomplete: 'off',
    }),
    'Letters, digits, ".", "_" or "-", starting with a letter or digit. Policies name it: certificate-id="…". An existing ID is replaced (rotation).',
  );
  const file = field(
    'PFX file',
    h('input', {type: 'file', required: true, accept: '.pfx,.p12,application/x-pkcs12'}),
    'A PKCS#12 file with the certificate and its private key.',
  );
  const password = field(
    'Password',
    h('input', {type: 'password', autocomplete: 'off'}),
    'Empty when the file has none.',
  );
  const upload = h('button', {type: 'submit', class: 'button primary'}, 'Upload');
  const cancel = h('button', {type: 'button', class: 'button'}, 'Cancel');
  const form = h(
    'form',
    {class: 'card form', 'aria-labelledby': 'add-certificate-title', hidden: true},
    h('h2', {id: 'add-certificate-title'}, 'Add certificate'),
    h('div', {class: 'grid'}, id.row, file.row, password.row),
    h('div', {class: 'actions'}, upload, cancel),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const certificateId = id.control.value.trim();
    const chosen = file.control.files[0];
    if (!chosen) return;
    upload.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const data = await readAsBase64(chosen);
      const {created, certificate} = await api.uploadCertificate(
        certificateId,
        data,
        password.control.value,
      );
      password.control.value = '';
      form.reset();
      onUploaded(certificate, !created);
    } catch (error) {
      note.error(describeError(error, `Could not upload ${certificateId}:`));
      password.control.value = '';
      password.control.focus();
    } finally {
      upload.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
  return {form, cancel, first: id.control};
}

// The refusal to delete a certificate that policies use: the gateway's
// message, and each API it names as a link to the page where its client
// certificate is chosen.
function inUse(id, error) {
  const apis = [
    ...new Set(
      error.details
        .map((d) => /^\/?apis\/([A-Za-z0-9._-]+)/.exec(d.target || '')?.[1])
        .filter(Boolean),
    ),
  ];
  if (apis.length === 0) return describeError(error, `${id} is in use:`);
  const links = apis.flatMap((api, i) => [
    i > 0 ? ', ' : '',
    h('a', {href: `#/apis/${encodeURIComponent(api)}`}, api),
  ]);
  return [
    h('p', {}, h('strong', {}, `${id} is in use:`), ' ', error.message),
    h(
      'p',
      {class: 'hint-line'},
      `Used by the API${apis.length > 1 ? 's' : ''} `,
      links,
      '. Choose another client certificate (or None) there first, then delete it.',
    ),
  ];
}

function certificateRow(certificate, onDelete) {
  const p = certificate.properties || {};
  const name = certificate.name;
  return h(
    'tr',
    {'data-id': name},
    cell('ID', h('code', {}, name)),
    cell('Subject', p.subject ?? '', 'wrap'),
    cell('Thumbprint', h('code', {class: 'thumbprint'}, p.thumbprint ?? '')),
    cell('Expires', p.expirationDate ? expiryCell(p.expirationDate) : ''),
    h(
      'td',
      {class: 'row-actions'},
      h(
        'button',
        {
          type: 'button',
          class: 'button small danger-quiet',
          'aria-label': `Delete ${name}`,
          onclick: () => onDelete(name),
        },
        'Delete',
      ),
    ),
  );
}

export function renderCertificates({view, signal, setTitle, notice}) {
  setTitle('Certificates');
  const note = messages();
  let certificates = [];
  const body = h('tbody', {}, h('tr', {class: 'placeholder'}, h('td', {colspan: 5}, 'Loading…')));
  const addButton = h(
    'button',
    {
      type: 'button',
      class: 'button primary',
      'aria-expanded': 'false',
      'aria-controls': 'add-certificate',
    },
    'Add certificate',
  );

  async function load() {
    try {
      certificates = await api.listCertificates();
    } catch (error) {
      if (!signal.aborted) note.error(describeError(error, 'Could not list certificates:'));
      replace(body, h('tr', {class: 'placeholder'}, h('td', {colspan: 5}, 'Not available.')));
      return;
    }
    if (signal.aborted) return;
    certificates.sort((a, b) => a.name.localeCompare(b.name));
    if (certificates.length === 0) {
      replace(
        body,
        h(
          'tr',
          {class: 'placeholder'},
          h('td', {colspan: 5}, 'No certificates yet. Upload a PFX with “Add certificate”.'),
        ),
      );
      return;
    }
    replace(
      body,
      certificates.map((c) => certificateRow(c, remove)),
    );
  }

  async function remove(id) {
    const yes = await confirmDialog({
      title: `Delete certificate ${id}?`,
      body: h(
        'p',
        {},
        'The gateway forgets the certificate and its private key. APIs cannot use it any more.',
      ),
      confirmLabel: 'Yes, delete',
    });
    if (!yes) return;
    try {
      await api.deleteCertificate(id);
      note.ok(`Deleted certificate ${id}.`);
      await load();
      focusHeading(view);
    } catch (error) {
      if (error.code === 'CertificateInUse') note.error(inUse(id, error));
      else note.error(describeError(error, `Could not delete ${id}:`));
    }
  }

  const {form, cancel, first} = uploadForm(note, (certificate, replaced) => {
    toggleForm(false);
    const p = certificate?.properties || {};
    note.ok(
      `${replaced ? 'Replaced' : 'Uploaded'} ${certificate?.name}: ${p.subject ?? ''}, thumbprint ${p.thumbprint ?? ''}.`,
    );
    load();
  });
  form.id = 'add-certificate';

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

  replace(
    view,
    h(
      'div',
      {class: 'page-head'},
      h(
        'div',
        {},
        h('h1', {id: 'certificates-title'}, 'Certificates'),
        h(
          'p',
          {class: 'lede'},
          'Client certificates the gateway presents to backends over mTLS, chosen per API in its policy.',
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
        {'aria-labelledby': 'certificates-title', class: 'list'},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['ID', 'Subject', 'Thumbprint', 'Expires'].map((t) => h('th', {scope: 'col'}, t)),
            h(
              'th',
              {scope: 'col', class: 'visually-hidden-col'},
              h('span', {class: 'visually-hidden'}, 'Actions'),
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
