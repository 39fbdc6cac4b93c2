// Preconditions for the operations under test, made with plain HTTP requests (the contract's documents as full
// text, a separate "Fixture Agent" token so the caller under test keeps its own cost bucket). A failure here is
// a failed precondition, reported as such.

import { randomUUID } from 'node:crypto';
import { rawGraphQL } from './server.mjs';

export class Fixtures {
  constructor(handle, operations) {
    this.handle = handle;
    this.operations = operations;
    this.cache = new Map();
  }

  /** Runs a contract operation as full text; resolves with its data, or throws with the errors. */
  async run(name, variables, token = this.handle.tokens.fixtureAgent) {
    const operation = this.operations.get(name);
    if (!operation) throw new Error(`no contract operation ${name}`);
    try {
      const { data } = await rawGraphQL(this.handle.url, { token, query: operation.text, variables, operationName: name });
      return data;
    } catch (error) {
      error.message = `precondition ${name} failed: ${error.message}`;
      throw error;
    }
  }

  /** Like run() for a mutation whose payload has userErrors: throws when there are any. */
  async mutate(name, variables, token) {
    const data = await this.run(name, variables, token);
    const payload = Object.values(data)[0];
    if (payload?.userErrors?.length) {
      throw new Error(`precondition ${name} refused: ${JSON.stringify(payload.userErrors)}`);
    }
    return payload;
  }

  async once(key, make) {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key);
  }

  /** The suite customer's first address, as an AddressInput. */
  address() {
    return this.once('address', async () => {
      const data = await this.run('Customer360', { id: this.handle.customer.id });
      const address = data.node.addresses[0];
      if (!address) throw new Error('the suite customer has no address');
      return { ...address };
    });
  }

  /** An order of the suite customer in one of `statuses` that has shipments (chosen once: the same each time). */
  seededOrder(statuses) {
    return this.once(`seeded:${statuses}`, async () => {
      const data = await this.run('SearchOrders', {
        filter: { customerId: this.handle.customer.id, status: statuses },
        first: 20,
      });
      for (const { node } of data.orders.edges) {
        const detail = await this.orderDetail(node.id);
        if (detail.fulfillmentOrders.length && detail.shipments.length) return detail;
      }
      throw new Error(`the suite customer has no shipped order in ${statuses}`);
    });
  }

  /**
   * SKUs to order: in stock, shipped STANDARD to the customer's postal code, priced over 60.00 (so a return of one
   * unit is over the auto-approval limit and waits for an agent); and a SKU with a store where it can be picked up.
   */
  catalog() {
    return this.once('catalog', async () => {
      const { postalCode } = await this.address();
      const skus = Array.from({ length: 60 }, (_, i) => `SKU-${String(i + 1).padStart(5, '0')}`);
      const data = await this.run('ProductAvailability', { skus, postalCode });
      const shippable = data.products.filter(
        (p) =>
          Number(p.price.amount) >= 60 &&
          Number(p.price.amount) < 400 &&
          p.availability.totalAvailable >= 200 &&
          p.availability.deliveryOptions.some((o) => o.method.code === 'STANDARD' && o.available),
      );
      const pickup = [];
      for (const p of data.products) {
        for (const l of p.availability.locations) {
          if (l.pickupAvailable && l.available >= 10 && l.location.kind === 'STORE') {
            pickup.push({ sku: p.sku, locationId: l.location.id, locationName: l.location.name });
          }
        }
      }
      if (shippable.length < 2) throw new Error(`too few shippable SKUs among ${skus.length}`);
      if (!pickup.length) throw new Error(`no SKU can be picked up near ${postalCode}`);
      return { shippable: shippable.map((p) => p.sku), pickup, postalCode };
    });
  }

  /** Input for placeOrder: one unit of a shippable SKU (STANDARD) or of a pickup SKU (PICKUP). */
  async placeOrderInput({ pickup = false, customerId } = {}) {
    const catalog = await this.catalog();
    const base = { paymentToken: 'tok_visa', idempotencyKey: `clients-${randomUUID()}` };
    if (customerId) base.customerId = customerId;
    if (pickup) {
      const { sku, locationId } = catalog.pickup[0];
      return { ...base, lines: [{ sku, quantity: 1 }], deliveryMethodCode: 'PICKUP', pickupLocationId: locationId };
    }
    this.placed = (this.placed ?? 0) + 1; // spread the orders over the SKUs
    return {
      ...base,
      lines: [{ sku: catalog.shippable[this.placed % catalog.shippable.length], quantity: 1 }],
      deliveryMethodCode: 'STANDARD',
      shippingAddress: await this.address(),
    };
  }

  /** A new order of the suite customer (placed by the fixture agent), with its fulfillment orders. */
  async order({ pickup = false } = {}) {
    const input = await this.placeOrderInput({ pickup, customerId: this.handle.customer.id });
    const { order } = await this.mutate('PlaceOrderOnBehalf', { input });
    return this.orderDetail(order.id);
  }

  async orderDetail(id) {
    const data = await this.run('AgentOrderDetail', { id });
    if (!data.node) throw new Error(`order ${id} not found`);
    return data.node;
  }

  async startFulfillment(order) {
    for (const fo of order.fulfillmentOrders) {
      await this.mutate('StartFulfillment', { input: { fulfillmentOrderId: fo.id } });
    }
    return this.orderDetail(order.id);
  }

  async ship(order) {
    const started = await this.startFulfillment(order);
    const shipments = [];
    for (const fo of started.fulfillmentOrders) {
      const payload = await this.mutate('ShipFulfillmentOrder', {
        input: { fulfillmentOrderId: fo.id, carrier: 'UPS', trackingNumber: `1Z${randomUUID().slice(0, 12).toUpperCase()}` },
      });
      shipments.push(payload.shipment);
    }
    return { order: await this.orderDetail(order.id), shipments };
  }

  /** A new order, shipped and delivered: its units can be returned. */
  async deliveredOrder() {
    const { order, shipments } = await this.ship(await this.order());
    for (const shipment of shipments) {
      await this.mutate('RecordShipmentEvent', {
        input: { shipmentId: shipment.id, status: 'DELIVERED', carrierEventId: `ups-${randomUUID()}`, description: 'Delivered' },
      });
    }
    return this.orderDetail(order.id);
  }

  /** A MAIL return of one unit of a delivered order, REQUESTED (over the auto-approval limit). */
  async requestedReturn() {
    const order = await this.deliveredOrder();
    const line = order.lines[0];
    const { return: ret } = await this.mutate('RequestReturn', {
      input: { orderId: order.id, lines: [{ orderLineId: line.id, quantity: 1, reason: 'DAMAGED' }], method: 'MAIL' },
    });
    return { order, line, ret };
  }

  async approvedReturn() {
    const requested = await this.requestedReturn();
    if (requested.ret.status === 'REQUESTED') {
      const { return: ret } = await this.mutate('ApproveReturn', { input: { returnId: requested.ret.id } });
      return { ...requested, ret };
    }
    return requested;
  }
}

export const uniqueId = (prefix) => `${prefix}-${randomUUID()}`;
