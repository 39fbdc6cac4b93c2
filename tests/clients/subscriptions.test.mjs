// The contract's subscriptions with graphql-ws 6 (graphql-transport-ws over `ws`), as GraphiQL and Node clients
// open them: the token in connection_init as {"Authorization": "Bearer …"}; events caused by mutations over
// HTTP; resuming with `after` after a reconnect; hash-only subscribe; refusals as `error` messages with codes.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { missingFields } from './lib/checks.mjs';
import { loadManifest, loadOperations } from './lib/contract.mjs';
import { Fixtures } from './lib/fixtures.mjs';
import { useServer, withServerLog } from './lib/server.mjs';
import { Subscription, connect, within } from './lib/ws.mjs';

const operations = loadOperations();
const manifest = loadManifest();
const h = useServer();
const f = new Fixtures(h, operations);

const TEST = { timeout: 45_000 };
const opened = [];

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map(({ client }) => client.dispose()));
});

/** A connected graphql-ws client, the token in connection_init under `key` (GraphiQL's spelling by default). */
async function open(token, key = 'Authorization') {
  const connection = connect(h.wsUrl, { [key]: `Bearer ${token}` });
  opened.push(connection);
  await within(connection.connected, 10_000, 'connection_ack');
  return connection;
}

const contractPayload = (name, variables = {}) => ({ query: operations.get(name).text, operationName: name, variables });
const eventOf = (payload) => (payload?.data ? Object.values(payload.data)[0] : undefined);

/** An agent's note on the order, over HTTP; resolves with its event ({sequence, …}). */
async function note(orderId, message, visibility = 'CUSTOMER') {
  const { event } = await f.mutate('AddOrderNote', { input: { orderId, message, visibility } });
  return event;
}

/**
 * graphql-transport-ws has no acknowledgement of `subscribe`: add CUSTOMER-visible notes to the order until one
 * arrives (at most 3 tries), so that what follows happens while the subscription is live. Resolves with the
 * note's event as delivered.
 */
async function untilLive(subscription, orderId) {
  for (let attempt = 1; ; attempt += 1) {
    const event = await note(orderId, `Live check ${attempt} ${randomUUID()}`);
    try {
      return await subscription.waitFor((e) => eventOf(e)?.sequence === event.sequence, {
        ms: 4_000,
        what: `the note with sequence ${event.sequence}`,
      });
    } catch (error) {
      if (subscription.outcome || attempt === 3) throw error;
    }
  }
}

function assertNoErrors(payload, subscription) {
  assert.equal(payload.errors, undefined, `the event carries errors: ${subscription.describe()}`);
}

describe('connection_init payload: the token under any case of the key', () => {
  for (const key of ['Authorization', 'AUTHORIZATION', 'authorization']) {
    const why = key === 'Authorization' ? " (GraphiQL's Headers tab)" : key === 'authorization' ? ' (as the README shows)' : '';
    test(`{"${key}": "Bearer …"}${why} is acknowledged`, TEST, withServerLog(h, async () => {
      const connection = connect(h.wsUrl, { [key]: `Bearer ${h.tokens.agent}` });
      opened.push(connection);
      await within(connection.connected, 10_000, 'connection_ack');
    }));
  }
});

describe('events caused by mutations over HTTP', () => {
  test('LiveOrderEvents (agent) delivers the note an agent adds', TEST, withServerLog(h, async () => {
    const order = await f.order();
    const { client } = await open(h.tokens.agent);
    const sub = new Subscription(client, contractPayload('LiveOrderEvents', { filter: { customerId: h.customer.id } }));
    const payload = await untilLive(sub, order.id);
    assertNoErrors(payload, sub);
    assert.deepEqual(missingFields(operations.get('LiveOrderEvents'), payload.data), [], sub.describe());
    const event = eventOf(payload);
    assert.equal(event.type, 'ORDER_NOTE_ADDED');
    assert.match(event.message, /^Live check/);
    assert.deepEqual({ ...event.actor }, { kind: 'AGENT', name: 'Fixture Agent' });
    assert.equal(event.order.id, order.id);
    assert.equal(event.order.number, order.number);
    assert.equal(event.order.total.amount, order.total.amount);
    assert.equal(event.order.customer.id, h.customer.id);
  }));

  test('WatchOrder (agent) delivers the hold and the release an agent makes', TEST, withServerLog(h, async () => {
    const order = await f.order();
    const { client } = await open(h.tokens.agent);
    const sub = new Subscription(client, contractPayload('WatchOrder', { id: order.id }));
    await untilLive(sub, order.id);
    const from = sub.events.length;
    await f.mutate('HoldOrder', { input: { orderId: order.id, reason: 'Address check' } });
    const held = await sub.waitFor((e) => eventOf(e)?.type === 'ORDER_HELD', { from, what: 'ORDER_HELD' });
    assertNoErrors(held, sub);
    assert.deepEqual(missingFields(operations.get('WatchOrder'), held.data), [], sub.describe());
    assert.equal(eventOf(held).order.id, order.id);
    assert.equal(eventOf(held).order.status, 'ON_HOLD');
    assert.ok(eventOf(held).order.lines.length > 0, 'OrderSummary lines arrive');
    await f.mutate('ReleaseOrderHold', { input: { orderId: order.id } });
    const released = await sub.waitFor((e) => eventOf(e)?.type === 'ORDER_HOLD_RELEASED', { from, what: 'ORDER_HOLD_RELEASED' });
    assert.notEqual(eventOf(released).order.status, 'ON_HOLD');
  }));

  test('MyOrderUpdates (customer) delivers the cancellation the customer makes', TEST, withServerLog(h, async () => {
    const order = await f.order();
    const { client } = await open(h.tokens.customer);
    const sub = new Subscription(client, contractPayload('MyOrderUpdates'));
    await untilLive(sub, order.id);
    const from = sub.events.length;
    await f.mutate('CancelMyOrder', { input: { orderId: order.id } }, h.tokens.customer);
    const cancelled = await sub.waitFor(
      (e) => eventOf(e)?.type === 'ORDER_CANCELLED' && eventOf(e).order?.id === order.id,
      { from, what: 'ORDER_CANCELLED' },
    );
    assertNoErrors(cancelled, sub);
    assert.deepEqual(missingFields(operations.get('MyOrderUpdates'), cancelled.data), [], sub.describe());
    assert.equal(eventOf(cancelled).order.status, 'CANCELLED');
    assert.equal(eventOf(cancelled).order.number, order.number);
  }));
});

describe('reconnecting with `after`: the events missed while away, then live, no gap, no duplicate', () => {
  const cases = [
    { name: 'LiveOrderEvents', role: 'agent', variables: () => ({ filter: { customerId: h.customer.id } }) },
    { name: 'WatchOrder', role: 'agent', variables: (order) => ({ id: order.id }) },
    { name: 'MyOrderUpdates', role: 'customer', variables: () => ({}), hidesInternal: true },
  ];
  for (const { name, role, variables, hidesInternal } of cases) {
    test(`${name} (${role})`, TEST, withServerLog(h, async () => {
      const order = await f.order();
      const token = h.tokens[role];
      const first = await open(token);
      const before = new Subscription(first.client, contractPayload(name, variables(order)));
      const last = eventOf(await untilLive(before, order.id)).sequence;
      await first.client.dispose();

      const missed = [(await note(order.id, 'Missed one')).sequence];
      const internal = hidesInternal ? (await note(order.id, 'Internal, missed', 'INTERNAL')).sequence : null;
      missed.push((await note(order.id, 'Missed two')).sequence);

      const second = await open(token);
      const after = new Subscription(second.client, contractPayload(name, { ...variables(order), after: last }));
      await after.waitFor((e) => eventOf(e)?.sequence === missed[1], { what: `the missed event ${missed[1]}` });
      const live = (await note(order.id, 'Live after the reconnect')).sequence;
      await after.waitFor((e) => eventOf(e)?.sequence === live, { what: `the live event ${live}` });

      for (const payload of after.events) assertNoErrors(payload, after);
      const sequences = after.events.map((e) => eventOf(e).sequence);
      assert.ok(sequences.every((s) => BigInt(s) > BigInt(last)), `nothing at or before after=${last}: ${sequences}`);
      assert.equal(new Set(sequences).size, sequences.length, `no duplicate: ${sequences}`);
      assert.deepEqual([...sequences].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)), sequences, `in order: ${sequences}`);
      for (const s of [...missed, live]) assert.ok(sequences.includes(s), `event ${s} delivered: ${sequences}`);
      if (internal) assert.ok(!sequences.includes(internal), `the INTERNAL note ${internal} is not delivered to the customer`);
      assert.deepEqual(missingFields(operations.get(name), after.events.at(-1).data), [], after.describe());
    }));
  }
});

describe('hash-only subscribe (persistedQuery extension, empty query)', () => {
  for (const { name, role } of [
    { name: 'MyOrderUpdates', role: 'customer' },
    { name: 'LiveOrderEvents', role: 'agent' },
  ]) {
    test(`${name} by its manifest id (${role})`, TEST, withServerLog(h, async () => {
      const entry = manifest.operations.find((o) => o.name === name);
      const order = await f.order();
      const { client } = await open(h.tokens[role]);
      const sub = new Subscription(client, {
        query: '',
        operationName: name,
        variables: {},
        extensions: { persistedQuery: { version: 1, sha256Hash: entry.id } },
      });
      const payload = await untilLive(sub, order.id);
      assertNoErrors(payload, sub);
      assert.deepEqual(missingFields(operations.get(name), payload.data), [], sub.describe());
      assert.equal(eventOf(payload).order.id, order.id);
    }));
  }
});

describe('refused subscriptions end with an `error` message whose errors carry extensions.code', () => {
  // 15 levels; the connections once without arguments (their default size), once with `first`.
  const deep = (args) =>
    `subscription TooDeep { orderEvents { order { customer { orders${args} { edges { node { customer { orders${args} {` +
    ` edges { node { customer { orders${args} { edges { node { id } } } } } } } } } } } } } } }`;
  const cases = [
    {
      title: 'a document deeper than 12 levels (agent): QUERY_TOO_DEEP',
      role: 'agent',
      payload: async () => ({ query: deep(''), operationName: 'TooDeep', variables: {} }),
      code: 'QUERY_TOO_DEEP',
    },
    {
      title: 'a document deeper than 12 levels, its connections with first: 1 (agent): QUERY_TOO_DEEP',
      role: 'agent',
      payload: async () => ({ query: deep('(first: 1)'), operationName: 'TooDeep', variables: {} }),
      code: 'QUERY_TOO_DEEP',
    },
    {
      title: 'an unknown persisted-query hash (customer): PERSISTED_QUERY_NOT_FOUND',
      role: 'customer',
      payload: async () => ({
        query: '',
        operationName: 'MyOrderUpdates',
        variables: {},
        extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } },
      }),
      code: 'PERSISTED_QUERY_NOT_FOUND',
    },
    {
      title: "a customer watching another customer's order: NOT_FOUND",
      role: 'customer',
      payload: async () => {
        const data = await f.run('SearchOrders', { filter: { customerId: h.otherCustomer.id }, first: 1 });
        const id = data.orders.edges[0]?.node.id;
        assert.ok(id, 'precondition: the other customer has an order');
        return contractPayload('WatchOrder', { id });
      },
      code: 'NOT_FOUND',
    },
  ];
  for (const { title, role, payload, code } of cases) {
    test(title, TEST, withServerLog(h, async () => {
      const { client } = await open(h.tokens[role]);
      const sub = new Subscription(client, await payload());
      const outcome = await sub.ended(10_000);
      assert.equal(outcome.kind, 'error', `expected an error message with code ${code}; got ${sub.describe()}`);
      assert.ok(outcome.errors.length > 0);
      for (const error of outcome.errors) {
        assert.equal(typeof error.extensions?.code, 'string', `every error has extensions.code: ${JSON.stringify(error)}`);
      }
      assert.ok(outcome.errors.some((e) => e.extensions.code === code), `code ${code}: ${sub.describe()}`);
      assert.equal(sub.events.length, 0, `no data before the refusal: ${sub.describe()}`);
    }));
  }
});
