// Starts a real ordergraph server for a test file: a seeded SQLite database in a temp directory, a free
// loopback port, tokens for every role. `useServer()` registers the `before`/`after` hooks and returns a
// handle whose fields are filled once `before` has run.
//
// ORDERGRAPH_BIN: the folder holding the `ordergraph` executable (default ../../.venv/bin, i.e. the
// repository's virtualenv), so CI can point it at the venv it made.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CLIENTS_DIR = resolve(HERE, '..');
export const REPO_DIR = resolve(CLIENTS_DIR, '../..');
export const CONTRACT_DIR = join(REPO_DIR, 'frontend-contract');
export const BIN_DIR = resolve(CLIENTS_DIR, process.env.ORDERGRAPH_BIN ?? '../../.venv/bin');
const ORDERGRAPH = join(BIN_DIR, 'ordergraph');

const JWT_SECRET = 'client-suite-secret-0123456789abcdef0123456789abcdef';
const STARTUP_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const LOG_LINES_KEPT = 2_000;

/** Runs one `ordergraph` command to completion (bounded); resolves with its stdout. */
function runCommand(args, env, cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(ORDERGRAPH, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ordergraph ${args.join(' ')} took over ${COMMAND_TIMEOUT_MS} ms\n${stderr}`));
    }, COMMAND_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${ORDERGRAPH} (set ORDERGRAPH_BIN to the folder holding it): ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(stdout.trim());
      else reject(new Error(`ordergraph ${args.join(' ')} exited ${code ?? signal}\n${stdout}\n${stderr}`));
    });
  });
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePromise(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs "$@" (the server) and stops it with SIGTERM when its own stdin (a pipe from the test process) closes, or
// when it gets SIGTERM itself; it exits only once the server has.
const WATCHDOG = `
exec 3<&0
"$@" </dev/null &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT
( read -r _ <&3; kill -TERM "$server" 2>/dev/null ) &
watcher=$!
wait "$server"
status=$?
while kill -0 "$server" 2>/dev/null; do wait "$server"; status=$?; done
kill "$watcher" 2>/dev/null
exit "$status"
`;
// A wait that does not keep the process alive (for races against an event).
const unrefSleep = (ms) => new Promise((r) => setTimeout(r, ms).unref());

// Every server this process started, so that an exit of any kind takes them down.
const running = new Set();
function killAll(signal = 'SIGKILL') {
  for (const child of running) {
    try { process.kill(-child.pid, signal); } catch { /* already gone */ }
  }
}
process.on('exit', () => killAll());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { killAll(); process.exit(130); });
}

export class OrdergraphServer {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'ordergraph-clients-'));
    this.env = {
      ...process.env,
      ORDERGRAPH_DATABASE_URL: `sqlite+aiosqlite:///${join(this.dir, 'og.db')}`,
      ORDERGRAPH_NOTIFICATION_OUTBOX: join(this.dir, 'outbox'),
      ORDERGRAPH_JWT_SECRET: JWT_SECRET,
      PYTHONUNBUFFERED: '1',
    };
    this.log = [];
    this.child = null;
    this.exited = null; // {code, signal} once the process has gone
  }

  /** The server's output (stdout and stderr, interleaved), from line `from` on. */
  logSince(from = 0) {
    return this.log.slice(Math.max(0, from - this.dropped)).join('\n');
  }

  get logMark() {
    return this.dropped + this.log.length;
  }

  dropped = 0;

  #record(chunk, stream) {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      this.log.push(stream === 'stderr' ? line : `[stdout] ${line}`);
    }
    if (this.log.length > LOG_LINES_KEPT) {
      const extra = this.log.length - LOG_LINES_KEPT;
      this.log.splice(0, extra);
      this.dropped += extra;
    }
  }

  async start() {
    await runCommand(['seed', '--customers', '20', '--orders', '100'], this.env, this.dir);
    let lastError;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await this.#serve(await freePort());
        return;
      } catch (error) {
        lastError = error;
        await this.stop();
        // Only a port taken between choosing it and binding it is worth another try.
        if (!/address already in use|Errno 98/i.test(this.logSince())) break;
      }
    }
    throw lastError;
  }

  async #serve(port) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}/graphql`;
    this.wsUrl = `ws://127.0.0.1:${port}/graphql`;
    this.exited = null;
    // Through a small sh watchdog: its stdin is a pipe from this process, so when this process goes away in any
    // way (even SIGKILL) the pipe closes and the watchdog stops the server.
    const child = spawn('/bin/sh', ['-c', WATCHDOG, 'ordergraph-watchdog', ORDERGRAPH, 'serve', '--host', '127.0.0.1', '--port', String(port)], {
      env: this.env,
      cwd: this.dir,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group: stop() takes uvicorn and anything it started
    });
    child.stdin.on('error', () => {}); // EPIPE once it has gone
    this.child = child;
    running.add(child);
    child.stdout.on('data', (chunk) => this.#record(chunk, 'stdout'));
    child.stderr.on('data', (chunk) => this.#record(chunk, 'stderr'));
    const gone = new Promise((resolvePromise) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        running.delete(child);
        resolvePromise();
      });
      child.on('error', (error) => {
        this.exited = { code: null, signal: null, error };
        running.delete(child);
        resolvePromise();
      });
    });
    this.gone = gone;
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(`ordergraph serve exited before it was healthy (${JSON.stringify(this.exited)}):\n${this.logSince()}`);
      }
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
        if (response.status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    throw new Error(`ordergraph serve was not healthy within ${STARTUP_TIMEOUT_MS} ms:\n${this.logSince()}`);
  }

  /** `ordergraph token …` with the server's secret. */
  token(...args) {
    return runCommand(['token', ...args], this.env, this.dir);
  }

  async stop() {
    const child = this.child;
    if (!child || this.exited) return;
    child.stdin.end();
    try { process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ } // the watchdog passes it on and waits
    const stopped = await Promise.race([this.gone.then(() => true), unrefSleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      await Promise.race([this.gone, unrefSleep(STOP_TIMEOUT_MS)]);
    }
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

/** A plain GraphQL request (no Apollo): fixtures and look-ups. Resolves with the JSON body; rejects on errors
 * unless `allowErrors`. */
export async function rawGraphQL(url, { token, query, variables, extensions, operationName, allowErrors = false }) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables, extensions, operationName }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let body;
  try { body = JSON.parse(text); } catch {
    throw new Error(`HTTP ${response.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (!allowErrors && (body.errors?.length || !body.data)) {
    throw new Error(`HTTP ${response.status} ${operationName ?? ''}: ${JSON.stringify(body.errors ?? body).slice(0, 2000)}`);
  }
  return body;
}

/**
 * Registers before/after hooks that start a seeded server and make tokens; returns the handle:
 * {server, url, wsUrl, tokens: {agent, fixtureAgent, analyst, customer, otherCustomer}, customer: {id, numericId, name},
 *  otherCustomer: {...}}.
 */
export function useServer({ otherCustomer = false } = {}) {
  const handle = {};
  before(async () => {
    try {
      await startAndSignIn();
    } catch (error) {
      const log = handle.server?.logSince() ?? '';
      error.message += `\nserver output (last 80 lines):\n${log.split('\n').slice(-80).join('\n')}`;
      throw error;
    }
  });
  async function startAndSignIn() {
    const started = Date.now();
    const server = new OrdergraphServer();
    handle.server = server;
    // Staff tokens need only the secret: made while the database is seeded and the server starts.
    const staff = Promise.all([
      server.token('--role', 'agent', '--name', 'Ci Agent'),
      server.token('--role', 'agent', '--name', 'Fixture Agent'),
      server.token('--role', 'analyst'),
    ]);
    staff.catch(() => {}); // awaited below; a failed start must not leave it unhandled
    await server.start();
    const [agent, fixtureAgent, analyst] = await staff;
    handle.url = server.url;
    handle.wsUrl = server.wsUrl;
    // The customers with the most orders (an agent's look-up): the first is the suite's customer, the second
    // the "other customer" whose orders the first must not see.
    const { data } = await rawGraphQL(server.url, {
      token: fixtureAgent,
      query: '{ customers(first: 50) { edges { node { id name orderCount } } } }',
    });
    const customers = data.customers.edges.map((e) => e.node).sort((a, b) => b.orderCount - a.orderCount);
    if (!(customers[1]?.orderCount > 0)) throw new Error(`too few customers with orders: ${JSON.stringify(customers)}`);
    const numeric = (id) => Buffer.from(id, 'base64url').toString().split(':')[1];
    handle.customer = { ...customers[0], numericId: numeric(customers[0].id) };
    handle.otherCustomer = { ...customers[1], numericId: numeric(customers[1].id) };
    const [customer, other] = await Promise.all([
      server.token('--role', 'customer', '--customer', handle.customer.numericId),
      otherCustomer ? server.token('--role', 'customer', '--customer', handle.otherCustomer.numericId) : null,
    ]);
    handle.tokens = { agent, fixtureAgent, analyst, customer, otherCustomer: other };
    if (process.env.ORDERGRAPH_CLIENTS_DEBUG) process.stderr.write(`server ready in ${Date.now() - started} ms\n`);
  }
  after(async () => {
    const server = handle.server;
    if (!server) return;
    const diedEarly = server.exited !== null;
    const stopping = Date.now();
    await server.stop();
    if (process.env.ORDERGRAPH_CLIENTS_DEBUG) process.stderr.write(`server stopped in ${Date.now() - stopping} ms\n`);
    if (diedEarly) {
      process.stderr.write(`ordergraph serve died during the tests (${JSON.stringify(server.exited)}):\n${server.logSince()}\n`);
    }
    if (process.env.ORDERGRAPH_SERVER_LOG) process.stderr.write(`${server.logSince()}\n`);
    server.cleanup();
  });
  return handle;
}

/**
 * Wraps a test body: when it fails, the server's output during the test (tracebacks, access log) is added as a
 * diagnostic, so a failure shows what the server said.
 */
export function withServerLog(handle, fn) {
  return async (t) => {
    const mark = handle.server?.logMark ?? 0;
    try {
      await fn(t);
    } catch (error) {
      const log = handle.server?.logSince(mark) ?? '';
      // Leave out the routine lines (successful requests, sockets opening and closing).
      const routine = /^(\[stdout\] )?INFO: +(.* - "(GET|POST) \/\S* HTTP\/1\.1" 200|.*"WebSocket \/graphql" \[accepted\]|connection (open|closed))/;
      const interesting = log.split('\n').filter((l) => l && !routine.test(l));
      if (interesting.length) t.diagnostic(`server output during this test:\n${interesting.slice(-60).join('\n')}`);
      if (handle.server?.exited) t.diagnostic(`the server has exited: ${JSON.stringify(handle.server.exited)}`);
      throw error;
    }
  };
}
