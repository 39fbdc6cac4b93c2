// Apollo Client 4 as the three clients would set it up: InMemoryCache with default settings and an HttpLink to
// the server, in one of three modes:
//   text      the full document in every request;
//   manifest  hash only, ids from the persisted-query manifest (@apollo/persisted-query-lists);
//   apq       automatic persisted queries: PersistedQueryLink with sha256 (hash first, then hash and query).
// Every HTTP exchange is recorded so that a failure can show what was sent and what came back.

import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import { loadManifest } from './contract.mjs';

export const MODES = ['text', 'manifest', 'apq'];

export const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** A fetch that records each request body and response body (for failure messages). */
function recordingFetch(exchanges) {
  return async (input, init = {}) => {
    const entry = { method: init.method ?? 'GET', url: String(input), request: init.body };
    exchanges.push(entry);
    const response = await fetch(input, { ...init, signal: init.signal ?? AbortSignal.timeout(20_000) });
    const text = await response.clone().text();
    entry.status = response.status;
    entry.response = text;
    return response;
  };
}

function truncate(text, max = 1500) {
  if (text == null) return String(text);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

export function describeExchanges(exchanges) {
  return exchanges
    .map((e, i) => {
      let sent = e.request;
      try {
        const body = JSON.parse(e.request);
        sent = JSON.stringify({
          operationName: body.operationName,
          query: body.query === undefined ? undefined : `${body.query.length} chars`,
          extensions: body.extensions,
        });
      } catch { /* GET or not JSON */ }
      return `  #${i + 1} ${e.method} ${e.method === 'GET' ? e.url : ''} sent ${sent}\n      got HTTP ${e.status} ${truncate(e.response)}`;
    })
    .join('\n');
}

/** A new ApolloClient (fresh cache) for one role in one mode, and the list its exchanges are recorded in. */
export function makeClient({ url, token, mode }) {
  const exchanges = [];
  const http = new HttpLink({
    uri: url,
    fetch: recordingFetch(exchanges),
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  let link = http;
  if (mode === 'manifest') {
    link = ApolloLink.from([
      new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => loadManifest() })),
      http,
    ]);
  } else if (mode === 'apq') {
    link = ApolloLink.from([new PersistedQueryLink({ sha256 }), http]);
  } else if (mode !== 'text') {
    throw new Error(`unknown mode ${mode}`);
  }
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  return { client, exchanges };
}

/** Runs a contract query or mutation through a fresh client; resolves with {data, error, exchanges}. */
export async function runOperation({ url, token, mode, operation, variables }) {
  const { client, exchanges } = makeClient({ url, token, mode });
  try {
    const result =
      operation.type === 'mutation'
        ? await client.mutate({ mutation: operation.document, variables, errorPolicy: 'all' })
        : await client.query({ query: operation.document, variables, errorPolicy: 'all' });
    return { data: result.data, error: result.error, exchanges, cache: client.cache.extract() };
  } catch (error) {
    return { data: undefined, error, exchanges, cache: client.cache.extract() };
  } finally {
    client.stop();
  }
}

export function describeError(error) {
  if (!error) return 'none';
  const errors = error.errors ?? error.result?.errors;
  if (errors) {
    return `${error.name}: ${errors.map((e) => `${e.message} [${e.extensions?.code ?? 'no code'}]`).join('; ')}`;
  }
  return `${error.name ?? 'Error'}: ${error.message}`;
}
