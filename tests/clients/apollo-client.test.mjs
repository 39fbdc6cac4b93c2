// Every contract query and mutation through Apollo Client 4 (ApolloClient, InMemoryCache with default settings,
// HttpLink), as the role of the client that sends it, three ways: the full document text; hash only, with ids
// from the persisted-query manifest (@apollo/persisted-query-lists); automatic persisted queries (APQ).
// One server for the three: each test makes its own preconditions (lib/fixtures.mjs).
// Then APQ with a document that is not in the manifest: Apollo's registration round trip.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { parse, print } from 'graphql';
import { describeError, describeExchanges, runOperation } from './lib/apollo.mjs';
import { missingFields } from './lib/checks.mjs';
import { loadManifest } from './lib/contract.mjs';
import { defineOperationTests } from './lib/operations-suite.mjs';
import { withServerLog } from './lib/server.mjs';

const { h, f } = defineOperationTests(['text', 'manifest', 'apq']);

describe('APQ with a document the manifest does not hold (registration)', () => {
  // A product-page query as a client might add it; the operation name makes it new to this server.
  const name = `ApqProbe${randomUUID().replaceAll('-', '')}`;
  const document = parse(
    `query ${name}($skus: [String!]!) { products(skus: $skus) { sku name price { ...MoneyFields } } }\n` +
      'fragment MoneyFields on Money { amount currency }',
  );
  const operation = { name, type: 'query', document, text: print(document) };
  const sent = (exchange) => JSON.parse(exchange.request);
  const answer = (exchange) => JSON.parse(exchange.response);
  let skus;

  test('the first request, hash only, is PERSISTED_QUERY_NOT_FOUND; hash and text then answer', withServerLog(h, async () => {
    assert.ok(!loadManifest().operations.some((o) => o.name === name));
    skus = (await f.catalog()).shippable.slice(0, 2);
    const { data, error, exchanges } = await runOperation({ url: h.url, token: h.tokens.customer, mode: 'apq', operation, variables: { skus } });
    const context = `\nApollo: error ${describeError(error)}; data ${JSON.stringify(data)}\nHTTP exchanges:\n${describeExchanges(exchanges)}`;
    assert.equal(exchanges.length, 2, `two requests${context}`);
    assert.equal(sent(exchanges[0]).query, undefined, `the first is hash only${context}`);
    assert.deepEqual(answer(exchanges[0]).errors?.map((e) => e.extensions?.code), ['PERSISTED_QUERY_NOT_FOUND'], context);
    assert.equal(typeof sent(exchanges[1]).query, 'string', `the second carries the text${context}`);
    assert.equal(error, undefined, `Apollo reported an error${context}`);
    assert.deepEqual(missingFields(operation, data), [], context);
    assert.deepEqual(data.products.map((p) => p.sku), skus);
    assert.ok(data.products.every((p) => p.price.amount), context);
  }));

  test("once registered, another client's hash-only request is answered", withServerLog(h, async () => {
    assert.ok(skus, 'the registration test ran first');
    const { data, error, exchanges } = await runOperation({ url: h.url, token: h.tokens.customer, mode: 'apq', operation, variables: { skus } });
    const context = `\nApollo: error ${describeError(error)}; data ${JSON.stringify(data)}\nHTTP exchanges:\n${describeExchanges(exchanges)}`;
    assert.equal(error, undefined, `Apollo reported an error${context}`);
    assert.equal(exchanges.length, 1, `one request: the hash is known${context}`);
    assert.equal(sent(exchanges[0]).query, undefined, `hash only${context}`);
    assert.deepEqual(data.products.map((p) => p.sku), skus);
  }));
});
