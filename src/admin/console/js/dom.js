// Small helpers that build the page with DOM calls only. Strings always
// become text nodes or attribute values, never markup: a certificate subject
// such as "<img src=x onerror=…>" is shown as the characters it holds.

const SVG_NS = 'http://www.w3.org/2000/svg';

// The ids of certificates, backends and APIs (the admin API's rule), as an
// HTML pattern attribute.
export const ID_PATTERN = '[A-Za-z0-9][A-Za-z0-9._\\-]{0,79}';

function apply(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      node.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'text') {
      node.textContent = String(value);
    } else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'value' && 'value' in node && !(node instanceof SVGElement)) {
      node.value = String(value);
    } else if (key === 'checked' || key === 'selected' || key === 'disabled') {
      node[key] = Boolean(value);
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// h('a', {href: '#/apis', class: 'link'}, 'APIs'): an HTML element. Props
// named on<Event> with a function become listeners; class may be an array.
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  apply(node, props);
  append(node, children);
  return node;
}

// The same for SVG elements (charts).
export function s(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  apply(node, props);
  append(node, children);
  return node;
}

// Replaces every child of `node`.
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

let nextId = 0;
// A document-unique id for label/field and aria-* wiring.
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// A labelled form field: label above, the control, an optional hint below
// (tied with aria-describedby). Returns {row, control}.
export function field(label, control, hint) {
  const id = control.id || uid('field');
  control.id = id;
  const parts = [h('label', {for: id}, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', {class: 'hint', id: hintId}, hint));
  }
  return {row: h('div', {class: 'field'}, parts), control};
}

// A table cell whose content sits in one wrapper, so that on a narrow
// window (where rows become cards) the label and the content are two items.
export function cell(label, content, className) {
  return h('td', {'data-label': label, class: className}, h('div', {class: 'cell'}, content));
}

// A checkbox with its label on the right; `checked` is also what a form
// reset returns to.
export function checkbox(label, checked) {
  const control = h('input', {type: 'checkbox', id: uid('check'), checked});
  control.defaultChecked = Boolean(checked);
  return {row: h('div', {class: 'check'}, control, h('label', {for: control.id}, label)), control};
}

// The message areas of a page: one role="alert" for failures and one
// role="status" for confirmations, each hidden while empty so a page never
// has two of them announcing at once.
export function messages() {
  const alert = h('div', {role: 'alert', class: 'message error', hidden: true});
  const status = h('div', {role: 'status', class: 'message ok', hidden: true});
  const show = (target, other, parts) => {
    other.hidden = true;
    other.replaceChildren();
    replace(target, parts);
    target.hidden = false;
  };
  return {
    nodes: [alert, status],
    error: (...parts) => show(alert, status, parts),
    ok: (...parts) => show(status, alert, parts),
    clear: () => {
      for (const node of [alert, status]) {
        node.hidden = true;
        node.replaceChildren();
      }
    },
  };
}

// The parts of an error for messages().error: its message and, when the
// server listed details that say more than the message, each one as
// "target: message".
export function describeError(error, context) {
  const lines = [h('p', {}, h('strong', {}, context), ' ', error.message)];
  const details = (error.details || []).filter((d) => d.message && d.message !== error.message);
  if (details.length > 0) {
    lines.push(
      h(
        'ul',
        {},
        details.map((d) =>
          h('li', {}, d.target ? [h('code', {}, d.target), ': '] : null, d.message),
        ),
      ),
    );
  }
  return lines;
}

// A modal confirmation (<dialog>, role="dialog"): resolves true when the
// person chose `confirmLabel`, false on Cancel or Escape. Focus starts on
// Cancel (the safe choice) and returns to where it was.
export function confirmDialog({title, body, confirmLabel}) {
  return new Promise((resolve) => {
    const returnFocus = document.activeElement;
    const titleId = uid('dialog-title');
    const cancel = h('button', {type: 'button', class: 'button'}, 'Cancel');
    const confirm = h('button', {type: 'button', class: 'button danger'}, confirmLabel);
    const dialog = h(
      'dialog',
      {role: 'dialog', 'aria-labelledby': titleId, 'aria-modal': 'true', class: 'dialog'},
      h('h2', {id: titleId}, title),
      h('div', {class: 'dialog-body'}, body),
      h('div', {class: 'actions'}, confirm, cancel),
    );
    let answer = false;
    const finish = (value) => {
      answer = value;
      dialog.close();
    };
    cancel.addEventListener('click', () => finish(false));
    confirm.addEventListener('click', () => finish(true));
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (returnFocus && returnFocus.isConnected) returnFocus.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

// Moves focus to the page's heading, e.g. after the control that had it
// was removed with its table row (focus would otherwise fall to <body>).
export function focusHeading(view) {
  const heading = view.querySelector('h1');
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus({preventScroll: true});
}

// "2027-01-01" from an ISO date-time; the text a table shows.
export function isoDate(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().slice(0, 10);
}

export const DAY_MS = 24 * 60 * 60 * 1000;

// Whole days from now until `value` (negative once past).
export function daysUntil(value, now = Date.now()) {
  return Math.floor((new Date(value).getTime() - now) / DAY_MS);
}
