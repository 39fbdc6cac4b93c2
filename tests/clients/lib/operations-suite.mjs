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
  // ---- bi-exports.graphql (analyst) ----
  StartBulkExport: {
    prepare: async () => ({ query: { filter: { status: ['SHIPPED'] }, selection: 'number total { amount currency }' }, format: 'CSV' }),
    check: async (data) => {
      assert.deepEqual(data.startBulkExport.userErrors, []);
      const job = data.startBulkExport.bulkExport;
      assert.equal(job.format, 'CSV');
      assert.equal(job.selection, 'number total { amount currency }');
      assert.ok(['QUEUED', 'RUNNING', 'COMPLETED'].includes(job.status), job.status);
    },
  },
  BulkExportStatus: {
    prepare: async (f, h) => {
      const started = await f.mutate('StartBulkExport', { query: { selection: 'number customer { email }' }, format: 'JSONL' }, h.tokens.analyst);
      const id = started.bulkExport.id;
      for (let poll = 0; poll < 600; poll += 1) { // a guard against hanging only: 60 s
        const data = await f.run('BulkExportStatus', { id }, h.tokens.analyst);
        if (['COMPLETED', 'FAILED'].includes(data.bulkExport.status)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return { id };
    },
    check: async (data, { h, variables }) => {
      const job = data.bulkExport;
      assert.equal(job.id, variables.id);
      assert.equal(job.status, 'COMPLETED');
      assert.equal(job.percent, 100);
      assert.ok(job.rowsWritten >= 100, 'every seeded order');
      const response = await fetch(new URL(new URL(job.downloadUrl).pathname, h.url));
      assert.equal(response.status, 200);
      const rows = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
      assert.equal(rows.length, job.rowsWritten);
      for (const row of rows) assert.equal(row.customer.email, null, 'analysts export customers masked');
    },
  },
  // ---- spa-company-orders.graphql (customer) and agent-company-orders.graphql (agent), #21 ----
  // The suite's customer is a consumer (or a buyer of another company): a ship-to location that is not theirs and an
  // order that is not a company's are refused as unknown. tests/companies/test_company_orders.py drives the flows.
  PlaceCompanyOrder: {
    prepare: async (f) => ({ input: await companyOrderInput(f) }),
    check: async (data) => {
      assert.equal(data.placeOrder.order, null);
      assert.deepEqual(data.placeOrder.userErrors.map((e) => e.code), ['NOT_FOUND']);
    },
  },
  PendingApprovals: {
    prepare: async () => ({}),
    check: async (data) => {
      for (const order of data.pendingApprovals) {
        assert.equal(order.status, 'AWAITING_APPROVAL');
        assert.equal(order.approval.state, 'PENDING');
      }
    },
  },
  ApproveOrder: {
    prepare: async (f) => ({ input: { orderId: (await f.seededOrder(['CONFIRMED', 'SHIPPED', 'DELIVERED'])).id } }),
    check: async (data) => {
      assert.equal(data.approveOrder.order, null);
      assert.deepEqual(data.approveOrder.userErrors.map((e) => e.code), ['NOT_FOUND']);
    },
  },
  RejectOrder: {
    prepare: async (f) => ({ input: { orderId: (await f.seededOrder(['CONFIRMED', 'SHIPPED', 'DELIVERED'])).id, reason: 'Over budget' } }),
    check: async (data) => {
      assert.equal(data.rejectOrder.order, null);
      assert.deepEqual(data.rejectOrder.userErrors.map((e) => e.code), ['NOT_FOUND']);
    },
  },
  MyCompanyInvoices: {
    prepare: async () => ({}),
    check: async (data) => {
      for (const invoice of data.companyInvoices) assert.match(invoice.number, /^INV-/);
    },
  },
  MyUnpaidCompanyInvoices: {
    prepare: async () => ({}),
    check: async (data) => {
      for (const invoice of data.companyInvoices) assert.equal(invoice.settledAt, null);
    },
  },
  PlaceCompanyOrderOnBehalf: {
    prepare: async (f, h) => ({ input: { ...(await companyOrderInput(f)), customerId: h.customer.id } }),
    check: async (data) => {
      assert.equal(data.placeOrder.order, null);
      assert.deepEqual(data.placeOrder.userErrors.map((e) => e.code), ['NOT_FOUND']);
    },
  },
  AllPendingApprovals: {
    prepare: async () => ({}),
    check: async (data) => {
      for (const order of data.pendingApprovals) assert.equal(order.status, 'AWAITING_APPROVAL');
    },
  },
  CompanyInvoicesForAgent: {
    prepare: async (f) => ({ companyId: await suiteCompany(f), unpaidOnly: true }),
    check: async (data) => {
      for (const invoice of data.companyInvoices) assert.equal(invoice.settledAt, null);
    },
  },
  RecordInvoicePayment: {
    prepare: async () => ({ input: { invoiceNumber: 'INV-US-1999-000001', amount: '10.00', reference: 'WIRE-1' } }),
    check: async (data) => {
      assert.equal(data.recordInvoicePayment.invoice, null);
      assert.deepEqual(data.recordInvoicePayment.userErrors.map((e) => e.code), ['NOT_FOUND']);
    },
  },
};

/** A company order to a ship-to location that no company of the suite has. */
async function companyOrderInput(f) {
  const { lines, idempotencyKey } = await f.placeOrderInput();
  return {
    lines,
    deliveryMethodCode: 'STANDARD',
    companyLocationId: Buffer.from('CompanyLocation:999999999').toString('base64url'),
    purchaseOrderNumber: 'PO-SUITE-1',
    paymentMethod: 'ON_ACCOUNT',
    idempotencyKey,
  };
}

/** A company of the suite's own, without buyers (agents' company pages read it). */
async function suiteCompany(f) {
  return f.once('suite-company', async () => {
    const created = await f.mutate('CreateCompany', {
      input: {
        name: 'Suite Orders Co',
        market: 'US',
        billingAddress: { line1: '1 Suite Way', city: 'New York', region: 'NY', postalCode: '10001', country: 'US' },
        paymentTermsDays: 30,
        creditLimit: '1000.00',
      },
    });
    return created.company.id;
  });
}

// ---- spa-company.graphql (customer), agent-companies.graphql (agent), bi-companies.graphql (analyst): #21 ----
// The suite's customer is made the COMPANY_ADMIN of a company of its own (buyersCompany); the SPA's company views
// read and manage that company. tests/companies/test_company_access.py probes the other companies' data.
Object.assign(SCENARIOS, {
  MyCompany: {
    prepare: async (f, h) => {
      await buyersCompany(f, h);
      return {};
    },
    check: async (data, { f, h }) => {
      const made = await buyersCompany(f, h);
      assert.equal(data.me.id, h.customer.id);
      assert.equal(data.me.companyMembership.role, 'COMPANY_ADMIN');
      const company = data.me.company;
      assert.equal(company.id, made.company.id);
      assert.equal(company.name, 'Suite Buyers Co');
      assert.equal(company.paymentTermsDays, 30);
      assert.equal(company.creditLimit.amount, '2500.00');
      assert.equal(company.priceList.id, made.priceList.id);
      assert.ok(company.locations.some((l) => l.id === made.location.id), 'its ship-to location');
      assert.ok(company.locations.every((l) => !l.archived), 'the active ones only');
    },
  },
  MyCompanyBuyers: {
    prepare: async (f, h) => {
      await buyersCompany(f, h);
      return {};
    },
    check: async (data, { h }) => {
      const mine = data.me.company.buyers.find((b) => b.id === globalId('CompanyBuyer', h.customer.numericId));
      assert.equal(mine?.role, 'COMPANY_ADMIN');
      assert.equal(mine.name, h.customer.name);
    },
  },
  MyCompanyOrders: {
    prepare: async (f, h) => {
      await buyersCompany(f, h);
      return { first: 10 };
    },
    check: async (data) => {
      const orders = data.me.company.orders;
      assert.equal(typeof orders.totalCount, 'number');
      for (const { node } of orders.edges) assert.match(node.number, /^OG-/);
    },
  },
  AddMyCompanyLocation: {
    prepare: async (f, h) => {
      const { company } = await buyersCompany(f, h);
      return { input: { companyId: company.id, label: 'Suite annex', address: await f.address() } };
    },
    check: async (data) => {
      assert.deepEqual(data.addCompanyLocation.userErrors, []);
      assert.equal(data.addCompanyLocation.location.label, 'Suite annex');
    },
  },
  UpdateMyCompanyLocation: {
    prepare: async (f, h) => ({ input: { locationId: await newCompanyLocation(f, h), label: 'Suite back door' } }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.updateCompanyLocation.userErrors, []);
      assert.equal(data.updateCompanyLocation.location.id, variables.input.locationId);
      assert.equal(data.updateCompanyLocation.location.label, 'Suite back door');
    },
  },
  ArchiveMyCompanyLocation: {
    prepare: async (f, h) => ({ input: { locationId: await newCompanyLocation(f, h) } }),
    check: async (data) => {
      assert.deepEqual(data.archiveCompanyLocation.userErrors, []);
      assert.equal(data.archiveCompanyLocation.location.archived, true);
    },
  },
  SetMyCompanyBuyerRole: {
    prepare: async (f, h) => ({ input: { buyerId: await newBuyer(f, h), role: 'APPROVER' } }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.setCompanyBuyerRole.userErrors, []);
      assert.equal(data.setCompanyBuyerRole.buyer.role, 'APPROVER');
      assert.ok(data.setCompanyBuyerRole.company.buyers.some((b) => b.id === variables.input.buyerId));
    },
  },
  RemoveMyCompanyBuyer: {
    prepare: async (f, h) => ({ input: { buyerId: await newBuyer(f, h) } }),
    check: async (data, { variables }) => {
      assert.deepEqual(data.removeCompanyBuyer.userErrors, []);
      assert.equal(data.removeCompanyBuyer.buyer, null);
      assert.ok(!data.removeCompanyBuyer.company.buyers.some((b) => b.id === variables.input.buyerId), 'unlinked');
    },
  },
  FindCompanies: {
    prepare: async (f, h) => {
      await buyersCompany(f, h);
      return { search: 'suite buyers', first: 10 };
    },
    check: async (data, { f, h }) => {
      const { company } = await buyersCompany(f, h);
      assert.deepEqual(data.companies.edges.map((e) => e.node.id), [company.id]);
    },
  },
  CompanyDetail: {
    prepare: async (f, h) => ({ id: (await buyersCompany(f, h)).company.id }),
    check: async (data, { h, variables }) => {
      assert.equal(data.company.id, variables.id);
      assert.ok(data.company.buyers.some((b) => b.customer?.id === h.customer.id && b.role === 'COMPANY_ADMIN'));
      assert.ok(data.company.locations.length > 0);
      assert.equal(typeof data.company.orders.totalCount, 'number');
    },
  },
  CreateCompany: {
    prepare: async (f, h) => ({ input: await companyInput(f, h, 'Suite New Co') }),
    check: async (data) => {
      assert.deepEqual(data.createCompany.userErrors, []);
      assert.equal(data.createCompany.company.name, 'Suite New Co');
      assert.equal(data.createCompany.company.paymentTermsDays, 30);
    },
  },
  UpdateCompany: {
    prepare: async (f, h) => {
      const { company } = await f.mutate('CreateCompany', { input: await companyInput(f, h, 'Suite Update Co') });
      return { input: { companyId: company.id, paymentTermsDays: 60, creditLimit: '750.00', purchaseOrderRequired: true } };
    },
    check: async (data) => {
      assert.deepEqual(data.updateCompany.userErrors, []);
      assert.equal(data.updateCompany.company.paymentTermsDays, 60);
      assert.equal(data.updateCompany.company.creditLimit.amount, '750.00');
      assert.equal(data.updateCompany.company.purchaseOrderRequired, true);
    },
  },
  AssignCompanyPriceList: {
    prepare: async (f, h) => {
      const input = await companyInput(f, h, 'Suite Priced Co');
      const { company } = await f.mutate('CreateCompany', { input });
      const { priceList } = await f.mutate('CreatePriceList', { input: { name: 'Suite list', currency: company.market.currency } });
      return { input: { companyId: company.id, priceListId: priceList.id } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.assignCompanyPriceList.userErrors, []);
      assert.equal(data.assignCompanyPriceList.company.priceList.id, variables.input.priceListId);
    },
  },
  AddCompanyLocation: {
    prepare: async (f, h) => {
      const { company } = await buyersCompany(f, h);
      return { input: { companyId: company.id, label: 'Suite yard', address: await f.address() } };
    },
    check: async (data) => {
      assert.deepEqual(data.addCompanyLocation.userErrors, []);
      assert.equal(data.addCompanyLocation.location.label, 'Suite yard');
    },
  },
  UpdateCompanyLocation: {
    prepare: async (f, h) => ({ input: { locationId: await newCompanyLocation(f, h), label: 'Suite gate 2' } }),
    check: async (data) => {
      assert.deepEqual(data.updateCompanyLocation.userErrors, []);
      assert.equal(data.updateCompanyLocation.location.label, 'Suite gate 2');
    },
  },
  ArchiveCompanyLocation: {
    prepare: async (f, h) => ({ input: { locationId: await newCompanyLocation(f, h) } }),
    check: async (data) => {
      assert.deepEqual(data.archiveCompanyLocation.userErrors, []);
      assert.equal(data.archiveCompanyLocation.location.archived, true);
    },
  },
  AddCompanyBuyer: {
    prepare: async (f, h) => {
      const { company } = await buyersCompany(f, h);
      return { input: { companyId: company.id, customerId: await newCustomer(f), role: 'BUYER' } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.addCompanyBuyer.userErrors, []);
      assert.equal(data.addCompanyBuyer.buyer.role, 'BUYER');
      assert.equal(data.addCompanyBuyer.buyer.customer.id, variables.input.customerId);
    },
  },
  SetCompanyBuyerRole: {
    prepare: async (f, h) => ({ input: { buyerId: await newBuyer(f, h), role: 'COMPANY_ADMIN' } }),
    check: async (data) => {
      assert.deepEqual(data.setCompanyBuyerRole.userErrors, []);
      assert.equal(data.setCompanyBuyerRole.buyer.role, 'COMPANY_ADMIN');
    },
  },
  RemoveCompanyBuyer: {
    prepare: async (f, h) => ({ input: { buyerId: await newBuyer(f, h) } }),
    check: async (data) => {
      assert.deepEqual(data.removeCompanyBuyer.userErrors, []);
      assert.equal(data.removeCompanyBuyer.buyer, null);
    },
  },
  PriceLists: {
    prepare: async (f, h) => {
      await buyersCompany(f, h);
      return { first: 50 };
    },
    check: async (data) => {
      assert.ok(data.priceLists.edges.length > 0);
      for (const { node } of data.priceLists.edges) assert.match(node.currency, /^[A-Z]{3}$/);
    },
  },
  CreatePriceList: {
    prepare: async () => ({ input: { name: 'Suite wholesale', currency: 'USD' } }),
    check: async (data) => {
      assert.deepEqual(data.createPriceList.userErrors, []);
      assert.equal(data.createPriceList.priceList.currency, 'USD');
      assert.deepEqual(data.createPriceList.priceList.entries, []);
    },
  },
  SetPriceListPrices: {
    prepare: async (f) => {
      const { priceList } = await f.mutate('CreatePriceList', { input: { name: 'Suite set', currency: 'USD' } });
      const { shippable } = await f.catalog();
      return { input: { priceListId: priceList.id, prices: [{ sku: shippable[0], unitPrice: '12.34' }] } };
    },
    check: async (data, { variables }) => {
      assert.deepEqual(data.setPriceListPrices.userErrors, []);
      assert.deepEqual(
        data.setPriceListPrices.priceList.entries.map((e) => [e.sku, e.unitPrice.amount]),
        [[variables.input.prices[0].sku, '12.34']],
      );
    },
  },
  CompanyDirectory: {
    prepare: async (f, h) => {
      await buyersCompany(f, h);
      return { first: 50 };
    },
    check: async (data) => {
      assert.ok(data.companies.edges.some((e) => e.node.name === 'Suite Buyers Co'), 'analysts see company names');
      for (const { node } of data.companies.edges) {
        assert.equal(node.billingAddress.name, null);
        assert.equal(node.billingAddress.line1, null);
        assert.ok(node.billingAddress.city && node.billingAddress.country);
        for (const buyer of node.buyers) {
          assert.equal(buyer.name, null, 'no buyer name for analysts');
          assert.equal(buyer.email, null, 'no buyer email for analysts');
        }
      }
    },
  },
});

function globalId(type, numericId) {
  return Buffer.from(`${type}:${numericId}`).toString('base64url');
}

/** A CreateCompanyInput in the market of the suite customer's address, billed there. */
async function companyInput(f, h, name) {
  const address = await f.address();
  const { data } = await rawGraphQL(h.url, { token: h.tokens.fixtureAgent, query: '{ markets { code currency countries } }' });
  const market = data.markets.find((m) => m.countries.includes(address.country));
  if (!market) throw new Error(`no market sells to ${address.country}`);
  return { name, taxId: 'SUITE-1', market: market.code, billingAddress: address, paymentTermsDays: 30, creditLimit: '2500.00' };
}

/** The suite customer's company: made once, with a ship-to location and a price list, the customer its admin. */
async function buyersCompany(f, h) {
  return f.once('buyers-company', async () => {
    const input = await companyInput(f, h, 'Suite Buyers Co');
    const { priceList } = await f.mutate('CreatePriceList', { input: { name: 'Suite contract prices', currency: 'USD' } });
    const { company } = await f.mutate('CreateCompany', { input });
    if (company.market.currency === priceList.currency) {
      await f.mutate('AssignCompanyPriceList', { input: { companyId: company.id, priceListId: priceList.id } });
    }
    const { location } = await f.mutate('AddCompanyLocation', {
      input: { companyId: company.id, label: 'Suite dock', address: await f.address() },
    });
    await f.mutate('AddCompanyBuyer', { input: { companyId: company.id, customerId: h.customer.id, role: 'COMPANY_ADMIN' } });
    return { company, location, priceList };
  });
}

/** A new ship-to location of the suite customer's company, by its ID. */
async function newCompanyLocation(f, h) {
  const { company } = await buyersCompany(f, h);
  const { location } = await f.mutate('AddCompanyLocation', {
    input: { companyId: company.id, label: `Suite ${uniqueId('dock')}`, address: await f.address() },
  });
  return location.id;
}

/** A new customer (made by the agent), by their ID. */
async function newCustomer(f) {
  const { customer } = await f.mutate('CreateCustomer', { input: { name: 'Suite Buyer', email: `${uniqueId('buyer')}@example.com` } });
  return customer.id;
}

/** A new BUYER of the suite customer's company, by their CompanyBuyer ID. */
async function newBuyer(f, h) {
  const { company } = await buyersCompany(f, h);
  const { buyer } = await f.mutate('AddCompanyBuyer', { input: { companyId: company.id, customerId: await newCustomer(f), role: 'BUYER' } });
  return buyer.id;
}

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
  for (const file of ['spa.graphql', 'agent-console.graphql', 'bi.graphql', 'spa-account.graphql', 'agent-customers.graphql', 'spa-stores.graphql', 'agent-stock.graphql', 'spa-notifications.graphql', 'spa-invoices.graphql', 'bi-exports.graphql', 'spa-company-orders.graphql', 'agent-company-orders.graphql', 'spa-company.graphql', 'agent-companies.graphql', 'bi-companies.graphql']) {
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
