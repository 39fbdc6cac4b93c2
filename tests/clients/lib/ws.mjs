// graphql-ws 6 clients (graphql-transport-ws) with the `ws` WebSocket, as a Node or GraphiQL user would open
// them; every wait is bounded.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const describeClose = (e) => `close ${e.code} ${e.reason || ''}`.trim();

/** A client that connects at once; `connected` resolves on connection_ack, rejects when the socket closes first. */
export function connect(url, connectionParams) {
  const closes = [];
  let settle;
  const connected = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  connected.catch(() => {}); // callers may never await it
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    connectionAckWaitTimeout: 10_000,
    onNonLazyError: () => {}, // reported through `connected` and the subscriptions
    on: {
      connected: () => settle.resolve(),
      closed: (event) => {
        closes.push(event);
        settle.reject(new Error(`the server closed the socket before connection_ack: ${describeClose(event)}`));
      },
      error: (error) => settle.reject(error instanceof Error ? error : new Error(String(error))),
    },
  });
  return { client, closes, connected };
}

/** Waits for `promise` at most `ms`; rejects with `what` on timeout. */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** One subscription: its `next` payloads, and how it ended (an `error` message, `complete`, or the socket closing). */
export class Subscription {
  constructor(client, payload) {
    this.payload = payload;
    this.events = [];
    this.outcome = null;
    this.listeners = new Set();
    this.unsubscribe = client.subscribe(payload, {
      next: (value) => { this.events.push(value); this.#changed(); },
      error: (error) => {
        if (Array.isArray(error)) this.outcome = { kind: 'error', errors: error };
        else if (error && typeof error.code === 'number') this.outcome = { kind: 'close', code: error.code, reason: error.reason };
        else this.outcome = { kind: 'failure', error: String(error?.message ?? error) };
        this.#changed();
      },
      complete: () => { this.outcome ??= { kind: 'complete' }; this.#changed(); },
    });
  }

  #changed() {
    for (const listener of [...this.listeners]) listener();
  }

  describe() {
    const outcome = !this.outcome
      ? 'still open'
      : this.outcome.kind === 'error'
        ? `error message ${JSON.stringify(this.outcome.errors)}`
        : this.outcome.kind === 'close'
          ? `the socket closed (${this.outcome.code} ${this.outcome.reason ?? ''})`
          : this.outcome.kind === 'complete'
            ? 'a bare complete message'
            : `client failure ${this.outcome.error}`;
    const events = this.events.map((e) => JSON.stringify(e).slice(0, 300)).join('\n    ');
    return `subscription outcome: ${outcome}; ${this.events.length} next message(s)${events ? `:\n    ${events}` : ''}`;
  }

  /** Resolves with the first `next` payload (from index `from`) that satisfies `predicate`; rejects when the
   * subscription ends first or after `ms`. */
  waitFor(predicate, { ms = 10_000, from = 0, what = 'an event' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(predicate);
        if (found) return done(() => resolve(found));
        if (this.outcome) return done(() => reject(new Error(`the subscription ended before ${what}: ${this.describe()}`)));
        return undefined;
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${ms} ms: ${this.describe()}`))), ms);
      const done = (settle) => { clearTimeout(timer); this.listeners.delete(check); settle(); };
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves with the outcome once the subscription ends, or {kind: 'timeout'} after `ms`. */
  ended(ms = 10_000) {
    return new Promise((resolve) => {
      const check = () => { if (this.outcome) done(); };
      const timer = setTimeout(() => { this.listeners.delete(check); resolve({ kind: 'timeout' }); }, ms);
      const done = () => { clearTimeout(timer); this.listeners.delete(check); resolve(this.outcome); };
      this.listeners.add(check);
      check();
    });
  }
}
