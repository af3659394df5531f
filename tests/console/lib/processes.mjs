// The real processes the console tests talk to, all on 127.0.0.1: nginx as
// the mTLS backend (ssl_verify_client on) that echoes the client
// certificate's SHA-1 fingerprint, and ringgate. Every process started here
// is tracked by its PID and stopped by that PID only.

import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

const started = new Set();

// Kill whatever is still running if the test process goes away abruptly.
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

function track(child) {
  started.add(child);
  child.once('exit', () => started.delete(child));
  // A binary that cannot be started: its exit code tells (ENOENT → -2).
  child.once('error', () => started.delete(child));
  return child;
}

// Stops `child`: `signal`, up to 5 s to exit, then SIGKILL.
export async function stop(child, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

// A port the kernel hands out for 127.0.0.1, released for a process that
// cannot be told to bind port 0 and report it (nginx, the admin listener).
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Polls `check` (async, returns a value or a falsy one) until it yields a
// value; throws naming `what` after `timeoutMs`.
export async function waitFor(what, check, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(50);
  }
}

function logTail(file, lines = 5) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// nginx on a kernel-chosen port: TLS with the PKI's server certificate,
// a client certificate from its CA required (without one nginx answers its
// own 400 page), and every request answered with the certificate it saw:
// "client-fingerprint=<sha1 hex>".
export async function startBackend(dir, pki) {
  fs.mkdirSync(dir, {recursive: true});
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => {
      fs.mkdirSync(path.join(dir, 'tmp', t), {recursive: true});
      return `  ${t}_temp_path ${path.join(dir, 'tmp', t)};`;
    })
    .join('\n');
  const errorLog = path.join(dir, 'error.log');
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(
      conf,
      `daemon off; master_process off; worker_processes 1;
pid ${path.join(dir, 'nginx.pid')}; error_log ${errorLog} warn;
${process.getuid() === 0 ? 'user root;' : ''}
events { worker_connections 256; }
http {
  access_log off;
${temp}
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${pki.serverCert};
    ssl_certificate_key ${pki.serverKey};
    ssl_client_certificate ${pki.caPem};
    ssl_verify_client on;
    location / {
      default_type text/plain;
      return 200 "client-fingerprint=$ssl_client_fingerprint\\nuri=$request_uri\\n";
    }
  }
}
`,
    );
    const child = track(
      spawn('/usr/sbin/nginx', ['-c', conf, '-p', dir, '-e', errorLog], {stdio: 'ignore'}),
    );
    const up = await waitFor(
      `nginx on port ${port}`,
      async () => (child.exitCode !== null ? 'exited' : (await accepts(port)) && 'up'),
      10000,
    );
    if (up === 'up') return {port, child};
    // Someone else took the port between its release and nginx's bind.
  }
  throw new Error(`nginx did not start: ${logTail(errorLog)}`);
}

// ringgate with no certificates, backends or APIs of its own: the console
// creates them. Listener on port 0 (read back from the log), admin API on a
// kernel-chosen port.
export async function startGateway(bin, dir) {
  fs.mkdirSync(dir, {recursive: true, mode: 0o700});
  const token = `console-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(path.join(dir, 'admin.token'), `${token}\n`, {mode: 0o600});
  const log = path.join(dir, 'ringgate.log');
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const adminPort = await freePort();
    const config = {
      gateway: {
        workers: 1,
        listeners: [{address: '127.0.0.1:0'}],
        admin: {address: `127.0.0.1:${adminPort}`, tokenFile: 'admin.token'},
        stateDir: 'state',
        timeouts: {backendConnectMs: 2000, backendResponseMs: 5000, drainMs: 1000},
        pool: {minIdle: 1, maxPerKey: 64, idleTimeoutMs: 60000},
      },
      certificates: {},
      backends: {},
      apis: {},
    };
    fs.writeFileSync(path.join(dir, 'ringgate.json'), JSON.stringify(config, null, 2));
    const out = fs.openSync(log, 'w');
    const child = track(
      spawn(bin, ['--config', path.join(dir, 'ringgate.json')], {stdio: ['ignore', out, out]}),
    );
    fs.closeSync(out);
    const port = await waitFor('ringgate to log its listening port', async () => {
      if (child.exitCode !== null) return -1;
      const text = fs.readFileSync(log, 'utf8');
      const listening = /listening on 127\.0\.0\.1:(\d+) /.exec(text);
      return listening && text.includes('ready') ? Number(listening[1]) : null;
    });
    if (port > 0 && (await accepts(adminPort))) {
      return {port, adminPort, token, child, log, baseUrl: `http://127.0.0.1:${adminPort}`};
    }
    await stop(child);
    if (!/admin/.test(logTail(log))) break;
  }
  throw new Error(`ringgate did not start: ${logTail(log)}`);
}
