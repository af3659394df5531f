// The API's policy document (APIM's XML subset, DESIGN §5) as the console
// edits it: read which client certificate <inbound> presents, set or remove
// that one element while keeping everything else, and show the XML indented.

import {h} from './dom.js';

export const EMPTY_POLICY = '<policies><inbound/></policies>';

function parse(xml) {
  const doc = new DOMParser().parseFromString(xml || EMPTY_POLICY, 'application/xml');
  if (
    doc.getElementsByTagName('parsererror').length > 0 ||
    doc.documentElement.nodeName !== 'policies'
  ) {
    throw new Error('the stored policy is not a <policies> document the console can edit');
  }
  return doc;
}

function certificateElements(doc) {
  const inbound = [...doc.documentElement.children].find((e) => e.nodeName === 'inbound');
  if (!inbound) return [];
  return [...inbound.children].filter((e) => e.nodeName === 'authentication-certificate');
}

// {certificateId} or {thumbprint} that <inbound> presents, or null.
export function clientCertificate(xml) {
  if (!xml) return null;
  let doc;
  try {
    doc = parse(xml);
  } catch {
    return null;
  }
  const element = certificateElements(doc)[0];
  if (!element) return null;
  if (element.hasAttribute('certificate-id'))
    return {certificateId: element.getAttribute('certificate-id')};
  if (element.hasAttribute('thumbprint')) return {thumbprint: element.getAttribute('thumbprint')};
  return null;
}

// The policy with <inbound> presenting `certificateId`, or presenting no
// certificate when it is empty; every other element stays as it was.
// Throws when the stored XML cannot be edited safely.
export function withClientCertificate(xml, certificateId) {
  const doc = parse(xml);
  const root = doc.documentElement;
  let inbound = [...root.children].find((e) => e.nodeName === 'inbound');
  if (!inbound) {
    inbound = doc.createElement('inbound');
    root.prepend(inbound);
  }
  const existing = certificateElements(doc);
  for (const element of existing.slice(1)) element.remove();
  if (!certificateId) {
    if (existing[0]) existing[0].remove();
  } else {
    const element = doc.createElement('authentication-certificate');
    element.setAttribute('certificate-id', certificateId);
    if (existing[0]) existing[0].replaceWith(element);
    else {
      // After <base/>, so the parent scope's inbound policies run first (as APIM places it).
      const base = [...inbound.children].find((e) => e.nodeName === 'base');
      if (base) base.after(element);
      else inbound.prepend(element);
    }
  }
  return new XMLSerializer().serializeToString(doc);
}

function renderNode(node, depth, out) {
  const pad = '    '.repeat(depth);
  if (node.nodeType === Node.TEXT_NODE) {
    const text = node.nodeValue.trim();
    if (text) out.push(pad, h('span', {class: 'xml-text'}, text), '\n');
    return;
  }
  if (node.nodeType === Node.COMMENT_NODE) {
    out.push(pad, h('span', {class: 'xml-comment'}, `<!--${node.nodeValue}-->`), '\n');
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  const open = [h('span', {class: 'xml-tag'}, `<${node.nodeName}`)];
  for (const attribute of node.attributes) {
    const value = attribute.value
      .replaceAll('&', '&amp;')
      .replaceAll('"', '&quot;')
      .replaceAll('<', '&lt;');
    open.push(
      ' ',
      h('span', {class: 'xml-attr'}, attribute.name),
      '=',
      h('span', {class: 'xml-value'}, `"${value}"`),
    );
  }
  const children = [...node.childNodes].filter(
    (c) => c.nodeType !== Node.TEXT_NODE || c.nodeValue.trim(),
  );
  if (children.length === 0) {
    out.push(pad, ...open, h('span', {class: 'xml-tag'}, ' />'), '\n');
    return;
  }
  if (children.length === 1 && children[0].nodeType === Node.TEXT_NODE) {
    const text = children[0].nodeValue.trim().replaceAll('&', '&amp;').replaceAll('<', '&lt;');
    out.push(
      pad,
      ...open,
      h('span', {class: 'xml-tag'}, '>'),
      h('span', {class: 'xml-text'}, text),
    );
    out.push(h('span', {class: 'xml-tag'}, `</${node.nodeName}>`), '\n');
    return;
  }
  out.push(pad, ...open, h('span', {class: 'xml-tag'}, '>'), '\n');
  for (const child of children) renderNode(child, depth + 1, out);
  out.push(pad, h('span', {class: 'xml-tag'}, `</${node.nodeName}>`), '\n');
}

// The policy as an indented, highlighted <pre> (text nodes only); the XML
// as stored when it cannot be parsed.
export function policyView(xml) {
  const pre = h('pre', {class: 'code', tabindex: '0', 'aria-label': 'Policy XML'});
  const code = h('code', {});
  pre.append(code);
  let doc = null;
  try {
    doc = parse(xml);
  } catch {
    code.textContent = xml;
    return pre;
  }
  const out = [];
  renderNode(doc.documentElement, 0, out);
  code.append(
    ...out.map((part) => (typeof part === 'string' ? document.createTextNode(part) : part)),
  );
  return pre;
}
