// Every contract query and mutation through Apollo Client 4, in one mode (lib/apollo.mjs), each as the role of
// the client that sends it (spa: customer, agent-console: agent, bi: analyst).
//
// For each operation: its preconditions are made with plain HTTP (lib/fixtures.mjs), the operation runs through a
// fresh ApolloClient, and the result must have no error, every selected field (fragments included: Apollo's
// cache drops what it cannot match), and for queries exactly what the server answers to the contract text.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeError, describeExchanges, runOperation } from './apollo.mjs';
import { alignClockValues, expectedCacheIds, missingFields, stripTypename } from './checks.mjs';
import { loadManifest, loadOperations } from './contract.mjs';
import { Fixtures, uniqueId } from './fixtures.mjs';
import { rawGraphQL, useServer, withServerLog } from './server.mjs';

const DAY = 24 * 3600 * 1000;

/**
 * name -> {prepare(f, h): variables, check(data, {f, h, variables}): extra assertions}. `f`: Fixtures, `h`: the
 * server handle (customer, tokens, url).
 */
const SCENARIOS = {
  // ---- spa.graphql (customer) ----
  MyOrderHistory: {
    prepare: async () => ({ first: 10 }),
    check: async (data, { h }) => {
      assert.equal(data.me.id, h.customer.id);
      assert.ok(data.me.orders.edges.length > 0, 'the customer has orders');
      for (const { node } of data.me.orders.edges) {
        assert.match(node.number, /^OG-/);
        assert.ok(node.lines.length > 0, `order ${node.number} has lines`);
        assert.ok(node.total.amount, `order ${node.number} has a total`);
      }
    },
  },
  MyOrderDetail: {
    prepare: async (f) => ({ id: (await f.seededOrder(['DELIVERED', 'SHIPPED'])).id }),
    check: async (data, { variables }) => {
      assert.equal(data.node.id, variables.id);
      assert.match(data.node.number, /^OG-/);
      assert.ok(data.node.lines.length > 0);
      assert.ok(data.node.shipments.length > 0);
      assert.ok(data.node.timeline.edges.length > 0);
    },
  },
  ProductAvailability: {
    prepare: async (f) => {
      const { shippable, postalCode } = await f.catalog();
      return { skus: shippable.slice(0, 2), postalCode };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.products.map((p) => p.sku), variables.skus);
      for (const p of data.products) {
        assert.ok(p.price.amount);
        assert.ok(p.availability.locations.length > 0);
        assert.ok(p.availability.deliveryOptions.length > 0);
      }
    },
  },
  PlaceOrder: {
    prepare: async (f) => ({ input: await f.placeOrderInput() }),
    check: async (data, { f, h, variables }) => {
      assert.deepEqual(data.placeOrder.userErrors, []);
      const { order } = data.placeOrder;
      assert.match(order.number, /^OG-/);
      assert.equal(order.channel, 'WEB');
      assert.deepEqual(order.lines.map((l) => [l.sku, l.quantity]), [[variables.input.lines[0].sku, 1]]);
      const held = await f.orderDetail(order.id);
      assert.equal(held.number, order.number);
      assert.equal(held.customer.id, h.customer.id);
    },
  },
  ChangeMyShipping: {
    prepare: async (f) => {
      const order = await f.order();
      return { input: { orderId: order.id, shippingAddress: { ...(await f.address()), line2: 'Apt 7' } } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.updateOrderShipping.userErrors, []);
      assert.equal(data.updateOrderShipping.order.id, variables.input.orderId);
      assert.equal(data.updateOrderShipping.order.shippingAddress.line2, 'Apt 7');
      assert.ok(data.updateOrderShipping.order.lines.length > 0);
    },
  },
  CancelMyOrder: {
    prepare: async (f) => ({ input: { orderId: (await f.order()).id } }),
    check: async (data) => {
      assert.deepEqual(data.cancelOrder.userErrors, []);
      assert.equal(data.cancelOrder.order.status, 'CANCELLED');
      for (const line of data.cancelOrder.order.lines) assert.equal(line.quantityCancelled, line.quantity);
    },
  },
  RequestReturn: {
    prepare: async (f) => {
      const order = await f.deliveredOrder();
      return {
        input: { orderId: order.id, lines: [{ orderLineId: order.lines[0].id, quantity: 1, reason: 'DAMAGED' }], method: 'MAIL' },
      };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.requestReturn.userErrors, []);
      const ret = data.requestReturn.return;
      assert.ok(ret.id);
      assert.ok(['REQUESTED', 'APPROVED'].includes(ret.status), ret.status);
      assert.equal(ret.method, 'MAIL');
      assert.deepEqual(ret.lines.map((l) => [l.orderLine.id, l.quantity, l.reason]), [
        [variables.input.lines[0].orderLineId, 1, 'DAMAGED'],
      ]);
    },
  },
  UpdateMyNotificationPreferences: {
    prepare: async () => ({ input: { email: true, sms: true, phone: '+12125550123' } }),
    check: async (data, { h }) => {
      assert.deepEqual(data.updateNotificationPreferences.userErrors, []);
      assert.equal(data.updateNotificationPreferences.customer.id, h.customer.id);
      assert.deepEqual(stripTypename(data.updateNotificationPreferences.customer.notificationPreferences), {
        email: true,
        sms: true,
        phone: '+12125550123',
      });
    },
  },

  // ---- agent-console.graphql (agent) ----
  SearchOrders: {
    prepare: async (f, h) => ({ filter: { customerId: h.customer.id }, first: 10 }),
    check: async (data, { h }) => {
      assert.ok(data.orders.totalCount > 0);
      assert.ok(data.orders.edges.length > 0);
      for (const { node } of data.orders.edges) {
        assert.match(node.number, /^OG-/);
        assert.equal(node.customer.id, h.customer.id);
        assert.ok(node.total.amount);
      }
    },
  },
  SearchCustomers: {
    prepare: async (f, h) => ({ search: h.customer.name.split(' ').at(-1) }),
    check: async (data, { h }) => {
      assert.ok(data.customers.edges.some(({ node }) => node.id === h.customer.id), 'finds the customer');
    },
  },
  Customer360: {
    prepare: async (f, h) => ({ id: h.customer.id }),
    check: async (data, { h }) => {
      assert.equal(data.node.id, h.customer.id);
      assert.equal(data.node.name, h.customer.name);
      assert.ok(data.node.addresses.length > 0);
      assert.ok(data.node.orders.edges.length > 0);
      for (const { node } of data.node.orders.edges) assert.ok(node.lines.length > 0, `order ${node.number} has lines`);
      assert.ok(data.node.activity.edges.length > 0);
    },
  },
  AgentOrderDetail: {
    prepare: async (f) => ({ id: (await f.seededOrder(['DELIVERED', 'PARTIALLY_SHIPPED', 'SHIPPED'])).id }),
    check: async (data, { variables }) => {
      assert.equal(data.node.id, variables.id);
      assert.match(data.node.number, /^OG-/);
      assert.ok(data.node.lines.length > 0);
      assert.ok(data.node.fulfillmentOrders.length > 0);
      assert.ok(data.node.payments.length > 0);
      assert.ok(data.node.timeline.edges.length > 0);
    },
  },
  PlaceOrderOnBehalf: {
    prepare: async (f, h) => ({ input: await f.placeOrderInput({ customerId: h.customer.id }) }),
    check: async (data, { f, h, variables }) => {
      assert.deepEqual(data.placeOrder.userErrors, []);
      const { order } = data.placeOrder;
      assert.match(order.number, /^OG-/);
      assert.equal(order.channel, 'AGENT');
      assert.deepEqual(stripTypename(order.placedBy), { kind: 'AGENT', name: 'Ci Agent' });
      assert.deepEqual(order.lines.map((l) => l.sku), [variables.input.lines[0].sku]);
      assert.equal((await f.orderDetail(order.id)).customer.id, h.customer.id);
    },
  },
  AgentChangeShipping: {
    prepare: async (f) => {
      const order = await f.order();
      return { input: { orderId: order.id, shippingAddress: { ...(await f.address()), line2: 'Suite 9' } } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.updateOrderShipping.userErrors, []);
      assert.equal(data.updateOrderShipping.order.id, variables.input.orderId);
      assert.equal(data.updateOrderShipping.order.shippingAddress.line2, 'Suite 9');
    },
  },
  AgentCancelOrder: {
    prepare: async (f) => ({ input: { orderId: (await f.order()).id, reason: 'Customer called to cancel' } }),
    check: async (data) => {
      assert.deepEqual(data.cancelOrder.userErrors, []);
      assert.equal(data.cancelOrder.order.status, 'CANCELLED');
      assert.ok(data.cancelOrder.order.lines.length > 0);
      assert.ok(data.cancelOrder.order.payments.length > 0);
      for (const p of data.cancelOrder.order.payments) assert.ok(p.refundedAmount.currency);
    },
  },
  HoldOrder: {
    prepare: async (f) => ({ input: { orderId: (await f.order()).id, reason: 'Address check' } }),
    check: async (data) => {
      assert.deepEqual(data.holdOrder.userErrors, []);
      assert.equal(data.holdOrder.order.status, 'ON_HOLD');
      assert.equal(data.holdOrder.order.holdReason, 'Address check');
    },
  },
  ReleaseOrderHold: {
    prepare: async (f) => {
      const order = await f.order();
      await f.mutate('HoldOrder', { input: { orderId: order.id, reason: 'Address check' } });
      return { input: { orderId: order.id } };
    },
    check: async (data) => {
      assert.deepEqual(data.releaseOrderHold.userErrors, []);
      assert.notEqual(data.releaseOrderHold.order.status, 'ON_HOLD');
      assert.equal(data.releaseOrderHold.order.holdReason, null);
    },
  },
  AddOrderNote: {
    prepare: async (f) => ({
      input: { orderId: (await f.order()).id, message: 'Customer asked for a call back', visibility: 'CUSTOMER' },
    }),
    check: async (data) => {
      assert.deepEqual(data.addOrderNote.userErrors, []);
      assert.match(String(data.addOrderNote.event.sequence), /^\d+$/);
      assert.equal(data.addOrderNote.event.type, 'ORDER_NOTE_ADDED');
      assert.equal(data.addOrderNote.event.message, 'Customer asked for a call back');
      assert.equal(data.addOrderNote.event.visibility, 'CUSTOMER');
    },
  },
  ApproveReturn: {
    prepare: async (f) => {
      const { ret } = await f.requestedReturn();
      assert.equal(ret.status, 'REQUESTED', 'precondition: a return waiting for an agent');
      return { input: { returnId: ret.id } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.approveReturn.userErrors, []);
      assert.equal(data.approveReturn.return.id, variables.input.returnId);
      assert.equal(data.approveReturn.return.status, 'APPROVED');
      assert.ok(data.approveReturn.return.labelUrl, 'a MAIL return has a label once approved');
    },
  },
  ReceiveReturn: {
    prepare: async (f) => ({ input: { returnId: (await f.approvedReturn()).ret.id } }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.receiveReturn.userErrors, []);
      const ret = data.receiveReturn.return;
      assert.equal(ret.id, variables.input.returnId);
      assert.ok(['RECEIVED', 'REFUNDED'].includes(ret.status), ret.status);
      assert.ok(Number(ret.refundAmount.amount) > 0);
      assert.ok(ret.order.id);
      assert.ok(ret.order.payments.some((p) => Number(p.refundedAmount.amount) > 0), 'the order shows the refund');
    },
  },
  AdjustInventory: {
    prepare: async (f) => {
      const { pickup } = await f.catalog();
      return { input: { sku: pickup[0].sku, locationId: pickup[0].locationId, delta: 3, reason: 'Cycle count' } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.adjustInventory.userErrors, []);
      const level = data.adjustInventory.inventoryLevel;
      assert.equal(level.sku, variables.input.sku);
      assert.equal(level.location.id, variables.input.locationId);
      assert.ok(Number.isInteger(level.onHand) && level.onHand >= 3, `onHand ${level.onHand}`);
      assert.ok(level.available <= level.onHand - level.reserved, JSON.stringify(level));
    },
  },
  StartFulfillment: {
    prepare: async (f) => ({ input: { fulfillmentOrderId: (await f.order()).fulfillmentOrders[0].id } }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.startFulfillment.userErrors, []);
      assert.deepEqual(stripTypename(data.startFulfillment.fulfillmentOrder), {
        id: variables.input.fulfillmentOrderId,
        status: 'IN_PROGRESS',
      });
    },
  },
  ShipFulfillmentOrder: {
    prepare: async (f) => {
      const order = await f.startFulfillment(await f.order());
      return { input: { fulfillmentOrderId: order.fulfillmentOrders[0].id, carrier: 'UPS', trackingNumber: '1ZCLIENTS0001' } };
    },
    check: async (data) => {
      assert.deepEqual(data.shipFulfillmentOrder.userErrors, []);
      const { shipment, order } = data.shipFulfillmentOrder;
      assert.equal(shipment.status, 'LABEL_CREATED');
      assert.equal(shipment.carrier, 'UPS');
      assert.equal(shipment.trackingNumber, '1ZCLIENTS0001');
      assert.ok(shipment.trackingUrl);
      assert.equal(order.status, 'SHIPPED');
      assert.ok(order.payments.some((p) => Number(p.capturedAmount.amount) > 0), 'the payment is captured');
    },
  },
  RecordShipmentEvent: {
    prepare: async (f) => {
      const { shipments } = await f.ship(await f.order());
      return {
        input: {
          shipmentId: shipments[0].id,
          status: 'IN_TRANSIT',
          carrierEventId: uniqueId('ups'),
          description: 'Departed facility',
          location: 'Miami, FL',
        },
      };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.recordShipmentEvent.userErrors, []);
      const { shipment } = data.recordShipmentEvent;
      assert.equal(shipment.id, variables.input.shipmentId);
      assert.equal(shipment.status, 'IN_TRANSIT');
      assert.ok(shipment.events.some((e) => e.status === 'IN_TRANSIT' && e.location === 'Miami, FL'));
    },
  },
  MarkReadyForPickup: {
    prepare: async (f) => {
      const order = await f.startFulfillment(await f.order({ pickup: true }));
      return { input: { fulfillmentOrderId: order.fulfillmentOrders[0].id } };
    },
    check: async (data) => {
      assert.deepEqual(data.markReadyForPickup.userErrors, []);
      assert.equal(data.markReadyForPickup.fulfillmentOrder.status, 'READY_FOR_PICKUP');
    },
  },
  ConfirmPickup: {
    prepare: async (f) => {
      const order = await f.startFulfillment(await f.order({ pickup: true }));
      const fulfillmentOrderId = order.fulfillmentOrders[0].id;
      await f.mutate('MarkReadyForPickup', { input: { fulfillmentOrderId } });
      return { input: { fulfillmentOrderId } };
    },
    check: async (data) => {
      assert.deepEqual(data.confirmPickup.userErrors, []);
      assert.equal(data.confirmPickup.fulfillmentOrder.status, 'PICKED_UP');
      assert.equal(data.confirmPickup.order.status, 'DELIVERED');
    },
  },

  // ---- bi.graphql (analyst) ----
  RevenueByDayAndStatus: {
    prepare: async () => ({ from: new Date(Date.now() - 730 * DAY).toISOString(), to: new Date(Date.now() + DAY).toISOString() }),
    check: async (data) => {
      assert.ok(data.orderStats.groups.length > 0);
      assert.ok(data.orderStats.totals.orderCount >= 100);
      assert.ok(data.orderStats.totals.revenue.length > 0);
      for (const g of data.orderStats.groups) assert.ok(g.day && g.status && g.revenue.amount);
    },
  },
  RevenueByChannelAndLocation: {
    prepare: async () => ({ from: new Date(Date.now() - 730 * DAY).toISOString(), to: new Date(Date.now() + DAY).toISOString() }),
    check: async (data) => {
      assert.ok(data.orderStats.groups.length > 0);
      for (const g of data.orderStats.groups) assert.ok(g.channel && g.location?.id && g.revenue.amount);
    },
  },
  OrdersExport: {
    prepare: async () => ({ first: 50 }),
    check: async (data) => {
      assert.equal(data.orders.edges.length, 50);
      assert.equal(data.orders.pageInfo.hasNextPage, true);
      for (const { node } of data.orders.edges) {
        assert.match(node.number, /^OG-/);
        assert.ok(node.lines.length > 0);
        assert.equal(node.customer.email, null, 'analysts see customers masked');
      }
    },
  },
  InventoryPosition: {
    prepare: async () => ({ first: 50 }),
    check: async (data) => {
      assert.equal(data.inventoryLevels.edges.length, 50);
      for (const { node } of data.inventoryLevels.edges) assert.ok(node.sku && node.location.id);
    },
  },
};

const TOKEN_OF_ROLE = { customer: 'customer', agent: 'agent', analyst: 'analyst' };

/** The requests were what the mode promises: full text; hash only with the manifest's id; APQ's hash first. */
function assertTransport(mode, exchanges, manifestId, context) {
  const sent = exchanges.map((e) => {
    try { return JSON.parse(e.request); } catch { return {}; }
  });
  assert.ok(sent.length > 0, `no request was sent${context()}`);
  const hashOf = (body) => body.extensions?.persistedQuery?.sha256Hash;
  if (mode === 'text') {
    assert.equal(typeof sent[0].query, 'string', `the document is sent${context()}`);
    assert.equal(hashOf(sent[0]), undefined, `no persistedQuery extension${context()}`);
  } else if (mode === 'manifest') {
    for (const body of sent) {
      assert.equal(body.query, undefined, `hash only: no request may carry the document${context()}`);
      assert.equal(hashOf(body), manifestId, `the manifest's id is sent${context()}`);
    }
  } else {
    assert.equal(sent[0].query, undefined, `APQ's first request is hash only${context()}`);
    assert.match(hashOf(sent[0]) ?? '', /^[0-9a-f]{64}$/, `APQ sends a sha256${context()}`);
    if (sent.length > 1) {
      assert.equal(typeof sent[1].query, 'string', `APQ's second request carries the document${context()}`);
      assert.equal(hashOf(sent[1]), hashOf(sent[0]), `with the same hash${context()}`);
    }
  }
}

const MODE_TITLES = {
  text: 'Apollo Client 4, full document text',
  manifest: 'Apollo Client 4, hash only: ids from the persisted-query manifest',
  apq: 'Apollo Client 4, automatic persisted queries (APQ)',
};

/** Registers the server hooks and, for each mode, a test per contract query and mutation. */
export function defineOperationTests(modes) {
  const operations = loadOperations();
  const manifestIds = new Map(loadManifest().operations.map((o) => [o.name, o.id]));
  const h = useServer();
  const f = new Fixtures(h, operations);

  test('every contract query and mutation has a scenario here', () => {
    const wanted = [...operations.values()].filter((o) => o.type !== 'subscription').map((o) => o.name).sort();
    assert.deepEqual(Object.keys(SCENARIOS).sort(), wanted);
  });

  for (const mode of modes) {
    describe(MODE_TITLES[mode], () => defineModeTests({ mode, operations, manifestIds, h, f }));
  }
  return { h, f, operations };
}

function defineModeTests({ mode, operations, manifestIds, h, f }) {
  for (const file of ['spa.graphql', 'agent-console.graphql', 'bi.graphql']) {
    describe(`${file} (${mode})`, () => {
      for (const operation of operations.values()) {
        if (operation.file !== file || operation.type === 'subscription') continue;
        const scenario = SCENARIOS[operation.name];
        test(`${operation.type} ${operation.name} (as ${operation.role})`, { skip: !scenario && 'no scenario' }, withServerLog(h, async (t) => {
          const token = h.tokens[TOKEN_OF_ROLE[operation.role]];
          const variables = await scenario.prepare(f, h);
          const { data, error, exchanges, cache } = await runOperation({ url: h.url, token, mode, operation, variables });
          const context = () =>
            `\nApollo result: error ${describeError(error)}; data ${JSON.stringify(data)?.slice(0, 800)}` +
            `\nHTTP exchanges:\n${describeExchanges(exchanges)}`;
          assert.equal(error, undefined, `Apollo reported an error${context()}`);
          assertTransport(mode, exchanges, manifestIds.get(operation.name), context);
          const missing = missingFields(operation, data);
          assert.deepEqual(missing, [], `selected fields missing from Apollo's result (dropped by the cache?)${context()}`);
          if (operation.type === 'query') {
            // What the server holds: the same document as full text, same caller, straight after.
            const truth = await rawGraphQL(h.url, { token, query: operation.text, variables, operationName: operation.name });
            assert.deepEqual(alignClockValues(stripTypename(data), truth.data), truth.data, `Apollo's data differs from the server's answer${context()}`);
          }
          await scenario.check(data, { f, h, variables, t });
          // Apollo normalized what came back (what makes a mutation's answer update the screens showing it).
          const unnormalized = expectedCacheIds(data).filter((id) => !(id in cache));
          assert.deepEqual(unnormalized, [], `objects Apollo's cache could not normalize (no __typename in the answer?)${context()}`);
        }));
      }
    });
  }
}
