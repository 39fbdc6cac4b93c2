// The GraphQL-over-HTTP audit of graphql-http (serverAudits): every audit, MUST, SHOULD and MAY, must be ok.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serverAudits } from 'graphql-http';
import { useServer, withServerLog } from './lib/server.mjs';

const h = useServer();

// The audits are listed before the server starts (their URL is asked for when each runs).
const audits = serverAudits({ url: () => h.url, fetchFn: fetch });

describe('GraphQL over HTTP (graphql-http serverAudits)', () => {
  for (const audit of audits) {
    test(`${audit.id} ${audit.name}`, withServerLog(h, async () => {
      const result = await audit.fn();
      if (result.status === 'ok') return;
      let detail = result.reason;
      if (result.response) {
        const body = await result.response.text().catch(() => '(body unreadable)');
        const headers = Object.fromEntries(result.response.headers);
        detail += `\n  response: HTTP ${result.response.status} content-type ${headers['content-type']}\n  body: ${body.slice(0, 1000)}`;
      }
      assert.fail(`${result.status}: ${detail}`);
    }));
  }
});
