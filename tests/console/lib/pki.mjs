// The test PKI, made with the openssl command line in a temp dir: a CA, the
// backend's server certificate (SAN 127.0.0.1), and client certificates as
// password-protected PFX files (AES-256, as a current openssl exports them).

import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function openssl(args, options = {}) {
  return execFileSync('openssl', args, {stdio: ['pipe', 'pipe', 'pipe'], ...options}).toString();
}

// Signs a new EC P-256 key's certificate for `cn`, valid `days`, by the CA
// in `dir`; writes NAME.crt and NAME.key.
function issue(dir, name, cn, days, extensions) {
  const base = path.join(dir, name);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  args.push(
    '-days',
    String(days),
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.crt`,
  );
  args.push('-CA', path.join(dir, 'ca.pem'), '-CAkey', path.join(dir, 'ca.key'));
  for (const ext of ['basicConstraints=critical,CA:FALSE', ...extensions])
    args.push('-addext', ext);
  openssl(args);
  return base;
}

// Upper-case hex SHA-1 of the certificate's DER: the thumbprint as
// openssl computes it, to compare with what the gateway lists.
export function thumbprint(certFile) {
  const out = openssl(['x509', '-in', certFile, '-noout', '-fingerprint', '-sha1']);
  return out
    .slice(out.indexOf('=') + 1)
    .trim()
    .replaceAll(':', '')
    .toUpperCase();
}

// A client certificate as a PFX with a password: {pfx, password, cert, thumbprint}.
function clientPfx(dir, name, cn, days) {
  const base = issue(dir, name, cn, days, ['extendedKeyUsage=clientAuth']);
  const password = `pw-${name}-${Math.random().toString(36).slice(2)}`;
  openssl(
    [
      'pkcs12',
      '-export',
      '-inkey',
      `${base}.key`,
      '-in',
      `${base}.crt`,
      '-certfile',
      path.join(dir, 'ca.pem'),
      '-name',
      name,
      '-passout',
      'stdin',
      '-out',
      `${base}.pfx`,
    ],
    {input: `${password}\n`},
  );
  return {pfx: `${base}.pfx`, password, cert: `${base}.crt`, thumbprint: thumbprint(`${base}.crt`)};
}

export function makePki(dir) {
  fs.mkdirSync(dir, {recursive: true, mode: 0o700});
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '30',
    '-subj',
    '/CN=ringgate-console-test-ca',
    '-keyout',
    path.join(dir, 'ca.key'),
    '-out',
    path.join(dir, 'ca.pem'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  const server = issue(dir, 'server', 'localhost', 30, [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'extendedKeyUsage=serverAuth',
  ]);
  const notPfx = path.join(dir, 'not-a-pfx.pfx');
  fs.writeFileSync(notPfx, 'this is a text file, not PKCS#12\n');
  return {
    dir,
    caPem: path.join(dir, 'ca.pem'),
    serverCert: `${server}.crt`,
    serverKey: `${server}.key`,
    // The seed flow's certificate: valid for a year.
    partner: clientPfx(dir, 'partner', 'partner-client.example', 365),
    // A subject that is markup: must be shown as text.
    markup: clientPfx(dir, 'markup', '<img src=x onerror=alert(1)>', 365),
    // Valid for 10 more days: "expires soon".
    soon: clientPfx(dir, 'soon', 'legacy-partner.example', 10),
    notPfx,
  };
}
