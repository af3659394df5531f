// The web console in a real browser (DESIGN §10). Playwright drives Debian's
// chromium (headless) against a real ringgate whose admin listener serves
// the console, and a real nginx backend that requires a client certificate
// and echoes the one it saw. The seed flow runs as a person would do it:
// sign in, upload a PFX (wrong password first), choose it for an API, see a
// request carry it, fail to delete it while used, set the API to None,
// delete it. Screenshots of every page, wide (1280×800) and narrow (400 px),
// go to $CONSOLE_SCREENSHOTS (default build/console-screenshots).
//
// The steps of "the seed flow" build on each other, in order: once one
// fails, the ones after it are skipped instead of timing out one by one.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

import {makePki} from './lib/pki.mjs';
import {startBackend, startGateway, stop, waitFor} from './lib/processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BIN = process.env.RINGGATE_BIN || path.join(ROOT, 'build', 'ringgate');
const SHOTS = process.env.CONSOLE_SCREENSHOTS || path.join(ROOT, 'build', 'console-screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WIDE = {width: 1280, height: 800};
const NARROW = {width: 400, height: 800};

const CERT_ID = 'partner-client';
const MARKUP_ID = 'markup-subject';
const SOON_ID = 'legacy-partner';
const API_ID = 'orders';
const BACKEND_ID = 'orders-backend';

let work;
let pki;
let backend;
let gateway;
let browser;

// Everything every page did, for the checks at the end.
const seen = {urls: [], pageErrors: [], dialogs: []};

async function openPage() {
  const context = await browser.newContext({viewport: WIDE});
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('request', (request) => seen.urls.push(request.url()));
  page.on('framenavigated', (frame) => seen.urls.push(frame.url()));
  page.on('pageerror', (error) => seen.pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on('console', (message) => {
    if (message.type() === 'error')
      consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  return {context, page, consoleErrors};
}

async function settle(page) {
  await page.evaluate(
    () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))),
  );
}

// Screenshots of the page as it is: wide and narrow, whole page each.
async function shoot(page, name) {
  for (const [size, suffix] of [
    [WIDE, ''],
    [NARROW, '-narrow'],
  ]) {
    await page.setViewportSize(size);
    await settle(page);
    await page.screenshot({path: path.join(SHOTS, `${name}${suffix}.png`), fullPage: true});
  }
  await page.setViewportSize(WIDE);
  await settle(page);
}

// A wide screenshot cut below the page's content, for the README.
async function readmeShot(page, name) {
  const bottom = await page.evaluate(
    () => document.querySelector('main').getBoundingClientRect().bottom,
  );
  const height = Math.min(WIDE.height, Math.ceil(bottom));
  await page.screenshot({
    path: path.join(SHOTS, name),
    clip: {x: 0, y: 0, width: WIDE.width, height},
  });
}

async function signIn(page) {
  await page.goto(`${gateway.baseUrl}/`);
  await page.getByLabel('Admin token').fill(gateway.token);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('heading', {level: 1, name: 'Certificates'}).waitFor();
}

async function uploadCertificate(page, id, file, password) {
  if (!(await page.getByLabel('Certificate ID').isVisible())) {
    await page.getByRole('button', {name: 'Add certificate'}).click();
  }
  await page.getByLabel('Certificate ID').fill(id);
  await page.getByLabel('PFX file').setInputFiles(file);
  await page.getByLabel('Password', {exact: true}).fill(password);
  await page.getByRole('button', {name: 'Upload'}).click();
}

// Follows a link of the main navigation.
async function goTo(page, name) {
  await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name, exact: true}).click();
}

function row(page, id) {
  return page.locator(`tbody tr[data-id="${id}"]`);
}

async function adminGet(resource) {
  const response = await fetch(`${gateway.baseUrl}${resource}`, {
    headers: {Authorization: `Bearer ${gateway.token}`},
  });
  assert.equal(response.status, 200, `GET ${resource}`);
  return response.json();
}

async function throughGateway(pathAndQuery) {
  const response = await fetch(`http://127.0.0.1:${gateway.port}${pathAndQuery}`);
  return {status: response.status, body: await response.text()};
}

before(async () => {
  fs.mkdirSync(SHOTS, {recursive: true});
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ringgate-console-'));
  pki = makePki(path.join(work, 'pki'));
  backend = await startBackend(path.join(work, 'backend'), pki);
  gateway = await startGateway(BIN, path.join(work, 'ringgate'));
  const args = process.getuid() === 0 ? ['--no-sandbox'] : [];
  browser = await chromium.launch({executablePath: CHROMIUM, headless: true, args});
});

after(async () => {
  if (browser) await browser.close();
  await stop(gateway?.child);
  await stop(backend?.child);
  if (work && !process.env.CONSOLE_KEEP_WORK) fs.rmSync(work, {recursive: true, force: true});
});

describe('the seed flow', () => {
  let page;
  let consoleErrors;
  let failedStep = null;

  // A test that needs every step before it.
  function step(name, body) {
    test(name, async (t) => {
      if (failedStep) {
        t.skip(`needs the earlier step "${failedStep}"`);
        return;
      }
      try {
        await body(t);
      } catch (error) {
        failedStep = name;
        throw error;
      }
    });
  }

  before(async () => {
    ({page, consoleErrors} = await openPage());
  });

  step('the sign-in page asks for the admin token', async () => {
    await page.goto(`${gateway.baseUrl}/`);
    await page.getByLabel('Admin token').waitFor();
    await shoot(page, 'sign-in');
  });

  step('signing in with the admin token opens the certificates page', async () => {
    await signIn(page);
    for (const name of ['Certificates', 'APIs', 'Backends', 'Status']) {
      assert.ok(
        await page
          .getByRole('navigation', {name: 'Main'})
          .getByRole('link', {name, exact: true})
          .isVisible(),
        name,
      );
    }
  });

  step('an upload with a wrong password is refused in an alert', async () => {
    await uploadCertificate(page, CERT_ID, pki.partner.pfx, 'not-the-password');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /password/i);
    assert.equal(await row(page, CERT_ID).count(), 0);
    await shoot(page, 'certificates-wrong-password');
  });

  step('a file that is not a PFX is refused in an alert', async () => {
    await uploadCertificate(page, 'text-file', pki.notPfx, '');
    const alert = page.getByRole('alert').filter({hasText: 'text-file'});
    await alert.waitFor();
    assert.match(await alert.innerText(), /PKCS|PFX/i);
    assert.equal(await row(page, 'text-file').count(), 0);
  });

  step('an uploaded PFX is listed with the thumbprint openssl computes', async () => {
    await uploadCertificate(page, CERT_ID, pki.partner.pfx, pki.partner.password);
    await row(page, CERT_ID).waitFor();
    const text = await row(page, CERT_ID).innerText();
    assert.ok(text.includes(pki.partner.thumbprint), `${text} lacks ${pki.partner.thumbprint}`);
    assert.match(text, /partner-client\.example/);
    assert.equal(await page.getByRole('alert').count(), 0);
  });

  step('a certificate expiring within 30 days is marked "expires soon"', async () => {
    await uploadCertificate(page, SOON_ID, pki.soon.pfx, pki.soon.password);
    await row(page, SOON_ID).waitFor();
    assert.match(await row(page, SOON_ID).innerText(), /expires soon/);
    assert.doesNotMatch(await row(page, CERT_ID).innerText(), /expires soon/);
    await readmeShot(page, 'readme-certificates.png');
  });

  step('a certificate whose subject is markup is shown as text and runs nothing', async () => {
    const dialogs = [];
    const onDialog = (dialog) => dialogs.push(dialog.message());
    page.on('dialog', onDialog);
    await uploadCertificate(page, MARKUP_ID, pki.markup.pfx, pki.markup.password);
    await row(page, MARKUP_ID).waitFor();
    const {properties} = await adminGet(`/certificates/${MARKUP_ID}`);
    assert.match(properties.subject, /img src=x onerror=alert\(1\)/);
    const subjectCell = row(page, MARKUP_ID).getByRole('cell').nth(1);
    assert.equal((await subjectCell.textContent()).trim(), properties.subject);
    await page.waitForTimeout(300); // time for an injected image to fail and fire onerror
    assert.equal(await page.locator('main img').count(), 0);
    assert.deepEqual(dialogs, []);
    page.off('dialog', onDialog);
    await shoot(page, 'certificates');
  });

  step('a backend saved in the form is listed with its validation settings', async () => {
    await goTo(page, 'Backends');
    await page.getByLabel('Backend ID').fill(BACKEND_ID);
    await page.getByLabel('URL', {exact: true}).fill(`https://127.0.0.1:${backend.port}`);
    assert.ok(await page.getByLabel('Validate certificate chain').isChecked());
    assert.ok(await page.getByLabel('Validate certificate name').isChecked());
    await page.getByLabel('CA certificate (PEM)').fill(fs.readFileSync(pki.caPem, 'utf8'));
    await page.getByRole('button', {name: 'Save'}).click();
    await row(page, BACKEND_ID).waitFor();
    assert.match(
      await row(page, BACKEND_ID).innerText(),
      new RegExp(`127\\.0\\.0\\.1:${backend.port}`),
    );
    const saved = await adminGet(`/backends/${BACKEND_ID}`);
    assert.equal(saved.properties.tls.validateCertificateChain, true);
    assert.equal(saved.properties.tls.validateCertificateName, true);
    assert.match(saved.properties.caCertificate, /BEGIN CERTIFICATE/);
    await shoot(page, 'backends');
  });

  step('an API created in the form opens its page', async () => {
    await goTo(page, 'APIs');
    await page.getByRole('button', {name: 'Add API'}).click();
    await page.getByLabel('API ID').fill(API_ID);
    await page.getByLabel('Path').fill(API_ID);
    await page.getByLabel('Service URL').fill(`https://127.0.0.1:${backend.port}/api`);
    await page.getByRole('button', {name: 'Create'}).click();
    await page.getByRole('heading', {level: 1, name: `API ${API_ID}`}).waitFor();
    assert.equal(page.url(), `${gateway.baseUrl}/#/apis/${API_ID}`);
  });

  step(
    'the client certificate list offers None and each certificate by id and thumbprint',
    async () => {
      const select = page.getByLabel('Client certificate');
      await waitFor(
        'the certificate options',
        async () => (await select.locator('option').count()) > 1,
      );
      const labels = await select.locator('option').allTextContents();
      assert.equal(labels[0], 'None');
      assert.ok(labels.includes(`${CERT_ID} (${pki.partner.thumbprint})`), labels.join(' | '));
    },
  );

  step('choosing the client certificate writes it into the API policy', async () => {
    await page
      .getByLabel('Client certificate')
      .selectOption({label: `${CERT_ID} (${pki.partner.thumbprint})`});
    await page.getByRole('button', {name: 'Save'}).click();
    await page.getByRole('status').filter({hasText: 'Saved'}).waitFor();
    assert.match(
      await page.getByLabel('Policy XML').innerText(),
      new RegExp(`<authentication-certificate certificate-id="${CERT_ID}"`),
    );
    const policy = await adminGet(`/apis/${API_ID}/policies/policy`);
    assert.match(
      policy.properties.value,
      new RegExp(`<authentication-certificate certificate-id="${CERT_ID}"\\s*/>`),
    );
    await shoot(page, 'api');
    await readmeShot(page, 'readme-api.png');
  });

  step('the APIs list shows each API with its client certificate', async () => {
    await goTo(page, 'APIs');
    await row(page, API_ID).waitFor();
    await waitFor('the client certificate column', async () =>
      (await row(page, API_ID).innerText()).includes(CERT_ID),
    );
    assert.ok(await row(page, API_ID).getByRole('link', {name: API_ID}).isVisible());
    await shoot(page, 'apis');
  });

  step('requests through the gateway present the chosen certificate to the backend', async () => {
    const answer = await waitFor('a 200 from the backend', async () => {
      const r = await throughGateway(`/${API_ID}/hello`);
      return r.status === 200 && r;
    });
    const fingerprint = /client-fingerprint=([0-9a-f]+)/i.exec(answer.body)?.[1];
    assert.equal(fingerprint?.toUpperCase(), pki.partner.thumbprint, answer.body);
    assert.match(answer.body, /uri=\/api\/hello/);
  });

  step(
    'the status page charts requests per API, pool connections and expiring certificates',
    async () => {
      for (let i = 0; i < 5; i += 1) await throughGateway(`/${API_ID}/status-${i}`);
      await goTo(page, 'Status');
      const requests = page.getByRole('img', {name: /^Requests per API/});
      await requests.waitFor();
      assert.match(await requests.getAttribute('aria-label'), new RegExp(`${API_ID}: \\d+`));
      const pools = page.getByRole('table', {name: 'Pool connections per key'});
      await pools.waitFor();
      const poolText = await pools.innerText();
      assert.ok(poolText.includes(`https://127.0.0.1:${backend.port}`), poolText);
      assert.ok(poolText.includes(CERT_ID), poolText);
      const expiring = page.getByRole('table', {name: /Certificates expiring within 30 days/});
      assert.match(await expiring.innerText(), new RegExp(SOON_ID));
      assert.doesNotMatch(await expiring.innerText(), new RegExp(CERT_ID));
      await shoot(page, 'status');
    },
  );

  step('Escape in the delete confirmation keeps the certificate', async () => {
    await goTo(page, 'Certificates');
    await page.getByRole('button', {name: `Delete ${CERT_ID}`}).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await shoot(page, 'certificates-delete-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({state: 'detached'});
    assert.equal(await row(page, CERT_ID).count(), 1);
    await adminGet(`/certificates/${CERT_ID}`);
  });

  step('deleting a certificate an API uses is refused, naming the API', async () => {
    await page.getByRole('button', {name: `Delete ${CERT_ID}`}).click();
    await page.getByRole('dialog').getByRole('button', {name: 'Yes, delete'}).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), new RegExp(`\\b${API_ID}\\b`));
    assert.equal(await row(page, CERT_ID).count(), 1);
    await shoot(page, 'certificates-delete-refused');
  });

  step('the refusal links to the API that uses the certificate', async () => {
    await page.getByRole('alert').getByRole('link', {name: API_ID, exact: true}).click();
    await page.getByRole('heading', {level: 1, name: `API ${API_ID}`}).waitFor();
  });

  step('with the client certificate set to None the backend sees none', async () => {
    const select = page.getByLabel('Client certificate');
    await waitFor('the API page', async () => (await select.inputValue()) === CERT_ID);
    await select.selectOption({label: 'None'});
    await page.getByRole('button', {name: 'Save'}).click();
    await page.getByRole('status').filter({hasText: 'no client certificate'}).waitFor();
    assert.doesNotMatch(
      await page.getByLabel('Policy XML').innerText(),
      /authentication-certificate/,
    );
    const answer = await waitFor('the backend to see no certificate', async () => {
      const r = await throughGateway(`/${API_ID}/hello`);
      return r.status === 400 && r;
    });
    assert.match(answer.body, /No required SSL certificate was sent/);
  });

  step('a certificate no API uses can be deleted', async () => {
    await goTo(page, 'Certificates');
    await page.getByRole('button', {name: `Delete ${CERT_ID}`}).click();
    await page.getByRole('dialog').getByRole('button', {name: 'Yes, delete'}).click();
    await page
      .getByRole('status')
      .filter({hasText: `Deleted certificate ${CERT_ID}`})
      .waitFor();
    await row(page, CERT_ID).waitFor({state: 'detached'});
    // Focus moves to the heading instead of falling to <body> with the row.
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');
    const list = await adminGet('/certificates');
    assert.ok(!list.value.some((c) => c.name === CERT_ID));
  });

  step('the seed flow logged no console error but the answers it provoked', async () => {
    // The browser logs every 4xx answer as "Failed to load resource". The
    // flow provoked these: wrong password and not a PFX (400), certificate
    // in use (409), and the policy of the API it had just created, which has
    // none yet (404).
    const expected = [
      /status of 400 .*\/certificates\//,
      /status of 409 .*\/certificates\//,
      new RegExp(`status of 404 .*/apis/${API_ID}/policies/policy\\)$`),
    ];
    const unexpected = consoleErrors.filter(
      (e) => !(e.startsWith('Failed to load resource') && expected.some((re) => re.test(e))),
    );
    assert.deepEqual(unexpected, []);
  });
});

describe('every page', () => {
  test('no page logs a console error', async () => {
    const {context, page, consoleErrors} = await openPage();
    await signIn(page);
    await row(page, MARKUP_ID).waitFor();
    for (const [link, ready] of [
      ['APIs', () => row(page, API_ID).getByRole('link').waitFor()],
      ['Backends', () => row(page, BACKEND_ID).waitFor()],
      ['Status', () => page.getByRole('img', {name: /^Requests per API/}).waitFor()],
      ['Certificates', () => row(page, SOON_ID).waitFor()],
    ]) {
      await goTo(page, link);
      await ready();
    }
    await page.goto(`${gateway.baseUrl}/#/apis/${API_ID}`);
    await page.getByLabel('Policy XML').waitFor();
    await page.waitForTimeout(200);
    assert.deepEqual(consoleErrors, []);
    await context.close();
  });

  test('signing in works from the keyboard alone', async () => {
    const {context, page} = await openPage();
    await page.goto(`${gateway.baseUrl}/`);
    await page.getByLabel('Admin token').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'admin-token');
    await page.keyboard.type(gateway.token);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', {level: 1, name: 'Certificates'}).waitFor();
    await context.close();
  });

  test('the control focused from the keyboard shows an outline', async () => {
    const {context, page} = await openPage();
    await signIn(page);
    let name = '';
    for (let i = 0; i < 20 && name !== 'Add certificate'; i += 1) {
      await page.keyboard.press('Tab');
      name = await page.evaluate(() => document.activeElement?.textContent?.trim());
    }
    assert.equal(name, 'Add certificate');
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement);
      return {style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
    });
    assert.notEqual(outline.style, 'none');
    assert.ok(outline.width >= 2, `outline ${outline.width}px`);
    await page.keyboard.press('Enter');
    assert.equal(
      await page.evaluate(() => document.activeElement?.labels?.[0]?.textContent),
      'Certificate ID',
    );
    await context.close();
  });

  test('a wrong token is refused in an alert', async () => {
    const {context, page} = await openPage();
    await page.goto(`${gateway.baseUrl}/`);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', {name: 'Sign in'}).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /refused/);
    assert.equal(await page.getByRole('navigation').count(), 0);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await context.close();
  });

  test('the token is kept in this tab only (sessionStorage) and survives a reload', async () => {
    const {context, page} = await openPage();
    await signIn(page);
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem('ringgate.adminToken')),
      gateway.token,
    );
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.deepEqual(await context.cookies(), []);
    await page.reload();
    await page.getByRole('heading', {level: 1, name: 'Certificates'}).waitFor();
    await page.getByRole('button', {name: 'Sign out'}).click();
    await page.getByLabel('Admin token').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await context.close();
  });

  test('the console is served at / without the token, under a CSP without inline scripts', async () => {
    const response = await fetch(`${gateway.baseUrl}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/html/);
    const csp = response.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    const html = await response.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline <script>');
    assert.doesNotMatch(html, /\son[a-z]+=/, 'an inline event handler');
    const script = await fetch(`${gateway.baseUrl}/js/app.js`);
    assert.match(script.headers.get('content-type'), /^text\/javascript/);
  });
});

describe('across every page the tests opened', () => {
  test('the token never appears in a URL', () => {
    assert.ok(seen.urls.length > 0);
    const leaks = seen.urls.filter(
      (url) => url.includes(gateway.token) || url.includes(encodeURIComponent(gateway.token)),
    );
    assert.deepEqual(leaks, []);
  });

  test('no page threw an uncaught error or opened a JavaScript dialog', () => {
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.dialogs, []);
  });
});
