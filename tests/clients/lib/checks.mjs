// What a result must hold: every field the operation selects (directly or through fragments) is present, so
// that nothing was lost on the way through Apollo's cache.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, buildSchema, getNamedType, isAbstractType, isCompositeType } from 'graphql';
import { CONTRACT_DIR } from './server.mjs';

let schema;
export function contractSchema() {
  schema ??= buildSchema(readFileSync(join(CONTRACT_DIR, 'schema.graphql'), 'utf8'));
  return schema;
}

/** Paths of selected fields missing from `data` for `operation` (from lib/contract.mjs). */
export function missingFields(operation, data) {
  const s = contractSchema();
  const fragments = new Map(
    operation.document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const definition = operation.document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const root = { query: s.getQueryType(), mutation: s.getMutationType(), subscription: s.getSubscriptionType() }[
    definition.operation
  ];
  const missing = [];
  if (data == null) return ['(no data at all)'];

  const walk = (selectionSet, type, value, path) => {
    if (value == null) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(selectionSet, type, item, `${path}[${i}]`));
      return;
    }
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        if (selection.name.value === '__typename') continue;
        const fieldPath = path ? `${path}.${key}` : key;
        if (!(key in value)) {
          missing.push(fieldPath);
          continue;
        }
        if (selection.selectionSet) {
          const field = type.getFields()[selection.name.value];
          walk(selection.selectionSet, getNamedType(field.type), value[key], fieldPath);
        }
      } else {
        const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
        const condition = fragment.typeCondition ? s.getType(fragment.typeCondition.name.value) : type;
        // Where the parent is abstract (Query.node), the fragment applies when the object is of its type; an
        // object without __typename is taken to be of the type the test asked for.
        if (isAbstractType(type) && value.__typename && value.__typename !== condition.name) {
          if (!(isAbstractType(condition) && s.isSubType(condition, s.getType(value.__typename)))) continue;
        }
        walk(fragment.selectionSet, isCompositeType(condition) ? condition : type, value, path);
      }
    }
  };
  walk(definition.selectionSet, root, data, '');
  return missing;
}

/** A deep copy without `__typename` keys (Apollo adds them; the server's answer to the contract text has none). */
export function stripTypename(value) {
  if (Array.isArray(value)) return value.map(stripTypename);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).filter(([k]) => k !== '__typename').map(([k, v]) => [k, stripTypename(v)]),
    );
  }
  return value;
}

const ISO_DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

/**
 * `actual` with each date-time that is within `toleranceMs` of the one at the same place in `expected` replaced
 * by it: some answers are computed from the clock (a pickup's "ready in two hours"), so two requests a few
 * milliseconds apart differ there and nowhere else.
 */
export function alignClockValues(actual, expected, toleranceMs = 10_000) {
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.map((v, i) => alignClockValues(v, expected[i], toleranceMs));
  }
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    return Object.fromEntries(Object.entries(actual).map(([k, v]) => [k, alignClockValues(v, expected[k], toleranceMs)]));
  }
  if (typeof actual === 'string' && typeof expected === 'string' && ISO_DATETIME.test(actual) && ISO_DATETIME.test(expected)) {
    const gap = Math.abs(Date.parse(actual) - Date.parse(expected));
    if (gap <= toleranceMs) return expected;
  }
  return actual;
}

/**
 * The cache entries Apollo's InMemoryCache (default dataIdFromObject: `${__typename}:${id}`) must hold after
 * writing `data`: one per object with an `id`. The type is read from the global ID ("Order:12" in base64), so
 * this holds whether or not the answer had __typename; without it, Apollo cannot normalize, and a mutation's
 * answer does not update the objects other queries show.
 */
export function expectedCacheIds(data) {
  const ids = new Set();
  const walk = (value) => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return undefined;
    if (typeof value.id === 'string') {
      const type = Buffer.from(value.id, 'base64url').toString().split(':')[0];
      if (/^[A-Z]\w*$/.test(type)) ids.add(`${type}:${value.id}`);
    }
    return Object.values(value).forEach(walk);
  };
  walk(data);
  return [...ids];
}
