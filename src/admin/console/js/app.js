// The console's shell: sign-in, navigation and a hash router. Pages live in
// their own modules and render into <main>; each gets a fresh container and
// an AbortSignal that fires when the person navigates away.

import * as api from './api.js';
import {h, messages, replace} from './dom.js';
import {renderApi, renderApis} from './apis.js';
import {renderBackends} from './backends.js';
import {renderCertificates} from './certificates.js';
import {renderStatus} from './status.js';

const ID = '([A-Za-z0-9._-]{1,80})';
const ROUTES = [
  {pattern: /^#\/certificates$/, nav: 'certificates', render: renderCertificates},
  {pattern: /^#\/apis$/, nav: 'apis', render: renderApis},
  {pattern: new RegExp(`^#/apis/${ID}$`), nav: 'apis', render: renderApi},
  {pattern: /^#\/backends$/, nav: 'backends', render: renderBackends},
  {pattern: /^#\/status$/, nav: 'status', render: renderStatus},
];
const HOME = '#/certificates';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOut = document.getElementById('sign-out');

let current = null; // {controller} of the page on screen
let flash = null; // a confirmation to show on the next page
let signInNotice = null; // why the person is asked to sign in again

function navigate(hash, notice) {
  flash = notice || null;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function leavePage() {
  if (current) current.controller.abort();
  current = null;
}

function showSignedIn(signedIn) {
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
}

function renderSignIn() {
  leavePage();
  showSignedIn(false);
  document.title = 'Sign in · ringgate console';
  const note = messages();
  const input = h('input', {
    id: 'admin-token',
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const button = h('button', {type: 'submit', class: 'button primary'}, 'Sign in');
  const form = h(
    'form',
    {method: 'post', class: 'card signin', 'aria-labelledby': 'signin-title'},
    h('h1', {id: 'signin-title'}, 'Sign in'),
    h(
      'p',
      {class: 'lede'},
      'Enter the admin token: the content of the file that ',
      h('code', {}, 'gateway.admin.tokenFile'),
      ' names. It is kept in this browser tab only and sent with each request.',
    ),
    note.nodes,
    h('div', {class: 'field'}, h('label', {for: 'admin-token'}, 'Admin token'), input),
    h('div', {class: 'actions'}, button),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const candidate = input.value.trim();
    if (!candidate) return;
    button.disabled = true;
    const error = await api.checkToken(candidate);
    button.disabled = false;
    if (error) {
      note.error(
        error.status === 401
          ? 'The gateway refused this token. Check gateway.admin.tokenFile.'
          : `Could not sign in: ${error.message}`,
      );
      input.select();
      return;
    }
    api.setToken(candidate);
    input.value = '';
    signInNotice = null;
    if (!ROUTES.some((r) => r.pattern.test(location.hash))) history.replaceState(null, '', HOME);
    route();
  });
  replace(main, form);
  if (signInNotice) note.error(signInNotice);
  input.focus();
}

function markNav(active) {
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.nav === active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function route() {
  if (!api.token()) {
    renderSignIn();
    return;
  }
  const match = ROUTES.map((r) => ({r, m: r.pattern.exec(location.hash)})).find((x) => x.m);
  if (!match) {
    history.replaceState(null, '', HOME);
    route();
    return;
  }
  const moveFocus = current !== null; // not on first load: the person navigated
  leavePage();
  showSignedIn(true);
  markNav(match.r.nav);
  const controller = new AbortController();
  current = {controller};
  const view = h('div', {class: 'page'});
  replace(main, view);
  const notice = flash;
  flash = null;
  match.r.render({
    view,
    params: match.m.slice(1),
    signal: controller.signal,
    navigate,
    notice,
    setTitle: (title) => {
      document.title = `${title} · ringgate console`;
    },
  });
  if (moveFocus) {
    const heading = view.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({preventScroll: true});
    }
    window.scrollTo(0, 0);
  }
}

api.setUnauthorizedHandler(() => {
  api.clearToken();
  signInNotice =
    'The gateway no longer accepts the token (it may have been changed). Sign in again.';
  renderSignIn();
});

signOut.addEventListener('click', () => {
  api.clearToken();
  signInNotice = null;
  renderSignIn();
});

window.addEventListener('hashchange', route);
route();
