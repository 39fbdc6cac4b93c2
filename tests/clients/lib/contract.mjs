// The client contract: frontend-contract/operations/*.graphql (what the clients send verbatim) and
// frontend-contract/trusted-documents.json (Apollo's persisted-query manifest format).

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, visit } from 'graphql';
import { CONTRACT_DIR } from './server.mjs';

export const OPERATIONS_DIR = join(CONTRACT_DIR, 'operations');
export const MANIFEST_PATH = join(CONTRACT_DIR, 'trusted-documents.json');

/** Which client (and so which role) sends the operations of each file. */
export const ROLE_OF_FILE = {
  'spa.graphql': 'customer',
  'agent-console.graphql': 'agent',
  'bi.graphql': 'analyst',
  'spa-account.graphql': 'customer',
  'agent-customers.graphql': 'agent',
  'spa-stores.graphql': 'customer',
  'agent-stock.graphql': 'agent',
  'spa-notifications.graphql': 'customer',
  'spa-invoices.graphql': 'customer',
  'spa-company.graphql': 'customer',
  'agent-companies.graphql': 'agent',
  'bi-companies.graphql': 'analyst',
  'spa-company-orders.graphql': 'customer',
  'agent-company-orders.graphql': 'agent',
  'bi-exports.graphql': 'analyst',
};

let manifest;
/** The manifest as this process first read it (one snapshot for the whole test file). */
export function loadManifest() {
  manifest ??= JSON.parse(readFileSync(MANIFEST_PATH, 'utf8'));
  return manifest;
}

function spreadsIn(node) {
  const names = new Set();
  visit(node, { FragmentSpread(spread) { names.add(spread.name.value); } });
  return names;
}

/**
 * name -> {name, type, role, file, document (DocumentNode: the operation and the fragments it uses, as a client
 * would hand it to Apollo), text (its printed form)}.
 */
export function loadOperations() {
  const fragments = new Map();
  const operations = [];
  for (const file of readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).sort()) {
    const document = parse(readFileSync(join(OPERATIONS_DIR, file), 'utf8'));
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      if (definition.kind === Kind.OPERATION_DEFINITION) operations.push({ file, definition });
    }
  }
  const result = new Map();
  for (const { file, definition } of operations) {
    const needed = new Set();
    const todo = [...spreadsIn(definition)];
    while (todo.length) {
      const name = todo.pop();
      if (needed.has(name)) continue;
      if (!fragments.has(name)) throw new Error(`${definition.name.value} spreads unknown fragment ${name}`);
      needed.add(name);
      todo.push(...spreadsIn(fragments.get(name)));
    }
    const document = {
      kind: Kind.DOCUMENT,
      definitions: [definition, ...[...needed].sort().map((n) => fragments.get(n))],
    };
    const name = definition.name.value;
    result.set(name, {
      name,
      type: definition.operation,
      role: ROLE_OF_FILE[file],
      file,
      document: parse(print(document)), // fresh locations: the document alone
      text: print(document),
    });
  }
  return result;
}

/** The document without any `__typename` selection (to tell a __typename-only difference from others). */
export function withoutTypename(text) {
  return print(visit(parse(text), { Field(node) { return node.name.value === '__typename' ? null : undefined; } }));
}

/** name -> printed definition, for each operation and fragment in a document's text (order does not matter). */
export function definitionsOf(text) {
  return Object.fromEntries(parse(text).definitions.map((d) => [d.name.value, print(d)]).sort(([a], [b]) => a.localeCompare(b)));
}
