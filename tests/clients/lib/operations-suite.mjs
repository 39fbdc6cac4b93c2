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
  MyOrderInvoices: {
    prepare: async (f) => ({ id: (await f.seededOrder(['DELIVERED', 'SHIPPED'])).id }),
    check: async (data, { variables }) => {
      assert.equal(data.node.id, variables.id);
      assert.ok(data.node.invoices.length > 0, 'a shipped order has an invoice per capture');
      for (const invoice of data.node.invoices) {
        assert.match(invoice.number, /^INV-[A-Z]+-\d{4}-\d{6}$/);
        assert.equal(invoice.pdfUrl, `/invoices/${invoice.number}.pdf`);
        const lines = invoice.lines.reduce((sum, line) => sum + Number(line.total.amount), 0);
        assert.equal(lines.toFixed(2), Number(invoice.total.amount).toFixed(2), 'the lines add up to the total');
        for (const note of invoice.creditNotes) assert.equal(note.corrects, invoice.number);
      }
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
  // ---- spa-notifications.graphql (customer, #19) ----
  MyNotificationSettings: {
    prepare: async () => ({}),
    check: async (data, { h }) => {
      assert.equal(data.me.id, h.customer.id);
      assert.deepEqual(data.supportedLocales, ['en', 'cs', 'ar']);
      assert.ok(data.me.notificationPreferences.moments.length > 0, 'every moment is listed');
    },
  },
  UpdateMyNotificationSettings: {
    prepare: async () => ({
      input: {
        timeZone: 'Europe/Prague',
        quietHoursStart: '22:00',
        quietHoursEnd: '07:00',
        moments: [{ moment: 'PARCEL_SHIPPED', email: false }],
      },
    }),
    check: async (data) => {
      const { userErrors, customer } = data.updateNotificationPreferences;
      assert.deepEqual(userErrors, []);
      const preferences = customer.notificationPreferences;
      assert.deepEqual(stripTypename(preferences.quietHours), { start: '22:00', end: '07:00' });
      assert.equal(preferences.timeZone, 'Europe/Prague');
      const shipped = preferences.moments.find((m) => m.moment === 'PARCEL_SHIPPED');
      assert.equal(shipped.email, false);
    },
  },
  UpdateMyLanguage: {
    prepare: async () => ({ input: { locale: 'cs' } }),
    check: async (data) => {
      assert.deepEqual(data.updateMyLanguage.userErrors, []);
      assert.equal(data.updateMyLanguage.customer.notificationPreferences.locale, 'cs');
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

  // ---- spa-account.graphql (customer) ----
  MyAddresses: {
    prepare: async () => ({}),
    check: async (data, { h }) => {
      assert.equal(data.me.id, h.customer.id);
      assert.ok(data.me.addressBook.length > 0, 'the customer has saved addresses');
      for (const saved of data.me.addressBook) assert.ok(saved.id && saved.address.line1 && saved.address.country);
    },
  },
  UpdateMyProfile: {
    prepare: async (f, h) => ({ input: { name: h.customer.name, phone: '(212) 555-0123' } }),
    check: async (data, { h }) => {
      assert.deepEqual(data.updateMyProfile.userErrors, []);
      assert.equal(data.updateMyProfile.customer.id, h.customer.id);
      assert.equal(data.updateMyProfile.customer.name, h.customer.name);
      assert.equal(data.updateMyProfile.customer.phone, '+12125550123');
    },
  },
  AddMyAddress: {
    prepare: async (f) => ({ input: { address: { ...(await f.address()), line2: 'Unit 5' } } }),
    check: async (data, { h }) => {
      assert.deepEqual(data.addMyAddress.userErrors, []);
      assert.equal(data.addMyAddress.customer.id, h.customer.id);
      assert.equal(data.addMyAddress.address.address.line2, 'Unit 5');
    },
  },
  UpdateMyAddress: {
    prepare: async (f, h) => {
      const addressId = await savedAddress(f, h, 'Unit 6');
      return { input: { addressId, address: { ...(await f.address()), line2: 'Unit 7' }, defaultBilling: true } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.updateMyAddress.userErrors, []);
      assert.equal(data.updateMyAddress.address.id, variables.input.addressId);
      assert.equal(data.updateMyAddress.address.address.line2, 'Unit 7');
      assert.equal(data.updateMyAddress.address.defaultBilling, true);
    },
  },
  RemoveMyAddress: {
    prepare: async (f, h) => ({ input: { addressId: await savedAddress(f, h, 'Unit 8') } }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.removeMyAddress.userErrors, []);
      const book = data.removeMyAddress.customer.addressBook;
      assert.ok(!book.some((a) => a.id === variables.input.addressId), 'the address is gone');
      assert.ok(book.length > 0);
    },
  },
  SetMyDefaultAddress: {
    prepare: async (f, h) => ({ input: { addressId: await savedAddress(f, h, 'Unit 9'), shipping: true, billing: true } }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.setMyDefaultAddress.userErrors, []);
      const book = data.setMyDefaultAddress.customer.addressBook;
      assert.deepEqual(
        book.filter((a) => a.defaultShipping || a.defaultBilling).map((a) => [a.id, a.defaultShipping, a.defaultBilling]),
        [[variables.input.addressId, true, true]],
      );
    },
  },

  // ---- agent-customers.graphql (agent) ----
  FindCustomers: {
    prepare: async (f) => {
      const phone = nextCallerPhone();
      const { customer } = await f.mutate('CreateCustomer', { input: { name: 'Phone Caller', email: `${uniqueId('phone')}@example.com`, phone } });
      // The same number as a caller reads it out: digits only, without the country code.
      const search = phone.replace(/\D/g, '');
      createdWithPhone.set(search, customer.id);
      return { search, first: 20 };
    },
    check: async (data, { variables }) => {
      const expected = createdWithPhone.get(variables.search);
      assert.ok(data.customers.edges.some(({ node }) => node.id === expected), 'finds the customer by phone');
      for (const { node } of data.customers.edges) assert.match(node.phone ?? '', /^\+/);
    },
  },
  CreateCustomer: {
    prepare: async (f) => ({
      input: { name: 'Clients Caller', email: `${uniqueId('caller')}@Example.com`, phone: nextCallerPhone(), addresses: [await f.address()] },
    }),
    check: async (data, { f, variables }) => {
      assert.deepEqual(data.createCustomer.userErrors, []);
      const { customer } = data.createCustomer;
      assert.equal(customer.email, variables.input.email.toLowerCase());
      assert.match(customer.phone, /^\+1617555\d{4}$/);
      assert.deepEqual(customer.addressBook.map((a) => [a.defaultShipping, a.defaultBilling]), [[true, true]]);
      // The caller's first order, placed by the agent.
      const { order } = await f.mutate('PlaceOrderOnBehalf', { input: await f.placeOrderInput({ customerId: customer.id }) });
      assert.equal((await f.orderDetail(order.id)).customer.id, customer.id);
    },
  },
  UpdateCustomer: {
    prepare: async (f) => {
      const { customer } = await f.mutate('CreateCustomer', { input: { name: 'Old Name', email: `${uniqueId('rename')}@example.com` } });
      return { input: { customerId: customer.id, name: 'New Name', phone: nextCallerPhone() } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.updateCustomer.userErrors, []);
      assert.equal(data.updateCustomer.customer.id, variables.input.customerId);
      assert.equal(data.updateCustomer.customer.name, 'New Name');
    },
  },
  AgentAddCustomerAddress: {
    prepare: async (f, h) => ({ input: { customerId: h.customer.id, address: { ...(await f.address()), line2: 'Agent added' } } }),
    check: async (data, { h }) => {
      assert.deepEqual(data.addMyAddress.userErrors, []);
      assert.equal(data.addMyAddress.customer.id, h.customer.id);
      assert.ok(data.addMyAddress.customer.addressBook.some((a) => a.id === data.addMyAddress.address.id));
    },
  },
  EraseCustomerPersonalData: {
    prepare: async (f) => {
      const input = { name: 'Erase Me', email: `${uniqueId('erase')}@example.com`, phone: nextCallerPhone(), addresses: [await f.address()] };
      const { customer } = await f.mutate('CreateCustomer', { input });
      return { input: { customerId: customer.id } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.eraseCustomerPersonalData.userErrors, []);
      const { customer } = data.eraseCustomerPersonalData;
      assert.equal(customer.id, variables.input.customerId);
      assert.equal(customer.name, 'Erased customer');
      assert.match(customer.email, /^erased-\d+@invalid$/);
      assert.equal(customer.phone, null);
      assert.deepEqual(customer.addressBook, []);
      assert.ok(customer.erasedAt);
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

  // ---- spa-stores.graphql (customer; public) ----
  StoreFinder: {
    prepare: async (f) => ({ filter: { pickup: true, near: { country: 'US', postalCode: (await f.catalog()).postalCode } }, first: 5 }),
    check: async (data) => {
      assert.ok(data.locations.length > 0, 'stores near the customer');
      const distances = data.locations.map((r) => r.distanceKm);
      assert.deepEqual(distances, [...distances].sort((a, b) => a - b), 'nearest first');
      for (const { location } of data.locations) {
        assert.ok(location.services.includes('PICKUP'));
        assert.equal(location.openingHours.length, 7, `${location.name} has seeded hours`);
      }
    },
  },
  StorePickupPromise: {
    prepare: async (f) => {
      const { pickup, postalCode } = await f.catalog();
      return { skus: [pickup[0].sku], country: 'US', postalCode };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.products.map((p) => p.sku), variables.skus);
      const option = data.products[0].availability.deliveryOptions.find((o) => o.method.code === 'PICKUP');
      assert.ok(option, 'a pickup option');
      assert.equal(option.pickupLocation !== null, option.available, JSON.stringify(option));
      assert.equal(option.estimatedDeliveryBy !== null, option.available, JSON.stringify(option));
      assert.equal(data.products[0].availability.backInStockBy, null, 'in stock');
    },
  },

  // ---- agent-stock.graphql (agent) ----
  StockLevels: {
    prepare: async (f) => ({ filter: { sku: [(await f.catalog()).pickup[0].sku] }, first: 10 }),
    check: async (data, { variables }) => {
      assert.ok(data.inventoryLevels.edges.length > 0);
      for (const { node } of data.inventoryLevels.edges) assert.equal(node.sku, variables.filter.sku[0]);
    },
  },
  InboundShipments: {
    prepare: async (f) => {
      const { sku } = (await inboundShipment(f)).lines[0];
      return { filter: { open: true, sku }, first: 10 };
    },
    check: async (data, { variables }) => {
      assert.ok(data.inboundShipments.edges.length > 0);
      for (const { node } of data.inboundShipments.edges) {
        assert.notEqual(node.status, 'RECEIVED');
        assert.ok(node.lines.some((l) => l.sku === variables.filter.sku));
      }
    },
  },
  StoreDetail: {
    prepare: async (f) => ({ filter: { pickup: true, near: { country: 'US', postalCode: (await f.catalog()).postalCode } }, first: 3 }),
    check: async (data) => {
      assert.ok(data.locations.length > 0);
      for (const { location } of data.locations) {
        assert.ok(location.code, 'agents see the code');
        assert.ok(location.inventoryLevels.edges.length > 0, `${location.name} holds stock`);
      }
    },
  },
  CreateInboundShipment: {
    prepare: async (f) => ({ input: await inboundInput(f) }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.createInboundShipment.userErrors, []);
      const shipment = data.createInboundShipment.inboundShipment;
      assert.equal(shipment.status, 'OPEN');
      assert.equal(shipment.location.id, variables.input.locationId);
      assert.deepEqual(shipment.lines.map((l) => l.outstanding), [5]);
    },
  },
  ReceiveInboundShipment: {
    prepare: async (f) => {
      const shipment = await inboundShipment(f);
      return { input: { shipmentId: shipment.id, lines: [{ sku: shipment.lines[0].sku, received: 3, damaged: 1 }] } };
    },
    check: async (data) => {
      assert.deepEqual(data.receiveInboundShipment.userErrors, []);
      const shipment = data.receiveInboundShipment.inboundShipment;
      assert.equal(shipment.status, 'PARTIALLY_RECEIVED');
      assert.deepEqual(shipment.lines.map((l) => [l.received, l.damaged, l.outstanding]), [[3, 1, 1]]);
    },
  },
  SetInventoryThresholds: {
    prepare: async (f) => {
      const { sku, locationId } = (await f.catalog()).pickup[0];
      return { input: { sku, locationId, reorderPoint: 5, maximum: 100000 } };
    },
    check: async (data) => {
      assert.deepEqual(data.setInventoryThresholds.userErrors, []);
      const level = data.setInventoryThresholds.inventoryLevel;
      assert.deepEqual([level.reorderPoint, level.maximum, level.overMaximum], [5, 100000, false]);
    },
  },
  SetLocationOpeningHours: {
    prepare: async (f) => {
      const days = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, intervals: [{ opens: '08:00', closes: '22:00' }] }));
      return { input: { locationId: (await f.catalog()).pickup[0].locationId, days } };
    },
    check: async (data) => {
      assert.deepEqual(data.setLocationOpeningHours.userErrors, []);
      const hours = data.setLocationOpeningHours.location.openingHours;
      assert.deepEqual(hours.map((d) => d.intervals.map((i) => `${i.opens}-${i.closes}`)), Array(7).fill(['08:00-22:00']));
    },
  },
  AddLocationClosure: {
    // A date of its own in each mode: a second closure on one date is refused.
    prepare: async (f) => ({ input: { locationId: (await f.catalog()).pickup[0].locationId, date: daysAhead(40 + closuresAdded++), reason: 'Refit' } }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.addLocationClosure.userErrors, []);
      assert.ok(data.addLocationClosure.location.closures.some((c) => c.date === variables.input.date));
    },
  },
  RemoveLocationClosure: {
    prepare: async (f) => {
      const input = { locationId: (await f.catalog()).pickup[0].locationId, date: daysAhead(60) };
      await f.mutate('AddLocationClosure', { input });
      return { input };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.removeLocationClosure.userErrors, []);
      assert.ok(!data.removeLocationClosure.location.closures.some((c) => c.date === variables.input.date));
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

let callerPhones = 0;
const createdWithPhone = new Map(); // FindCustomers: the digits searched -> the customer created with them
/** A valid US number of its own for each customer the scenarios create (617-555-01xx, the fictional range). */
function nextCallerPhone() {
  callerPhones += 1;
  return `(617) 555-01${String(callerPhones % 100).padStart(2, '0')}`;
}

let closuresAdded = 0;

/** A local date (YYYY-MM-DD, UTC) `days` from now. */
function daysAhead(days) {
  return new Date(Date.now() + days * DAY).toISOString().slice(0, 10);
}

/** Input for createInboundShipment: 5 units of the pickup SKU to its store, expected in a week. */
async function inboundInput(f) {
  const { sku, locationId } = (await f.catalog()).pickup[0];
  return { locationId, kind: 'PURCHASE_ORDER', expectedOn: daysAhead(7), reference: uniqueId('PO'), lines: [{ sku, quantity: 5 }] };
}

/** A new open inbound shipment (announced as the agent). */
async function inboundShipment(f) {
  return (await f.mutate('CreateInboundShipment', { input: await inboundInput(f) })).inboundShipment;
}

/** A new address in the suite customer's book (added as the customer), by its ID. */
async function savedAddress(f, h, line2) {
  const payload = await f.mutate('AddMyAddress', { input: { address: { ...(await f.address()), line2 } } }, h.tokens.customer);
  return payload.address.id;
}

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
  for (const file of ['spa.graphql', 'agent-console.graphql', 'bi.graphql', 'spa-account.graphql', 'agent-customers.graphql', 'spa-stores.graphql', 'agent-stock.graphql', 'spa-notifications.graphql', 'spa-invoices.graphql']) {
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
