// frontend-contract/trusted-documents.json against Apollo's own manifest generator
// (@apollo/generate-persisted-query-manifest, its CLI as a client project would run it): the same operations,
// ids and bodies. Apollo Client sends exactly what the generator writes (with __typename added), so a manifest
// that differs has hashes Apollo never sends and documents whose answers Apollo's cache cannot use.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Kind, parse, print } from 'graphql';
import { sha256 } from './lib/apollo.mjs';
import { OPERATIONS_DIR, definitionsOf, loadManifest, loadOperations, withoutTypename } from './lib/contract.mjs';
import { CLIENTS_DIR } from './lib/server.mjs';

const require = createRequire(import.meta.url);
const CLI = require.resolve('@apollo/generate-persisted-query-manifest/cli.js');
const temp = mkdtempSync(join(tmpdir(), 'ordergraph-manifest-'));
after(() => rmSync(temp, { recursive: true, force: true }));

/** Runs Apollo's CLI (cwd tests/clients) with a JSON config; resolves with {code, output, manifest}. */
function generate(name, documents) {
  const output = join(temp, `${name}.json`);
  const config = join(temp, `${name}.config.json`);
  writeFileSync(config, JSON.stringify({ documents, output }, null, 2));
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, '--config', config], { cwd: CLIENTS_DIR, timeout: 60_000 }, (error, stdout, stderr) => {
      let manifest = null;
      try { manifest = JSON.parse(readFileSync(output, 'utf8')); } catch { /* not written */ }
      resolve({ code: error ? (error.code ?? error.signal) : 0, output: `${stdout}${stderr}`.trim(), manifest });
    });
  });
}

/** Why Apollo's body differs from the server's. */
function howBodiesDiffer(apolloBody, ourBody) {
  const stripped = withoutTypename(apolloBody);
  if (stripped === ourBody) return '(only by the __typename Apollo adds to every selection set)';
  if (stripped === print(parse(ourBody))) {
    return (
      '(by the __typename Apollo adds, and by printing: graphql-js 16 prints an input object literal as ' +
      '{field: X, …} where the manifest, printed by graphql-core, has { field: X, … })'
    );
  }
  return `(not only by __typename or printing:\n    Apollo:   ${JSON.stringify(stripped)}\n    manifest: ${JSON.stringify(ourBody)})`;
}

/** Differences between Apollo's manifest and the server's, by operation name. */
function compare(apollo, ours) {
  const problems = [];
  const theirs = new Map(apollo.operations.map((o) => [o.name, o]));
  const mine = new Map(ours.operations.map((o) => [o.name, o]));
  for (const name of theirs.keys()) if (!mine.has(name)) problems.push(`${name}: only in Apollo's manifest`);
  for (const name of mine.keys()) if (!theirs.has(name)) problems.push(`${name}: only in trusted-documents.json`);
  for (const [name, op] of mine) {
    const other = theirs.get(name);
    if (!other) continue;
    if (other.type !== op.type) problems.push(`${name}: type ${op.type}, Apollo ${other.type}`);
    if (other.id !== op.id) problems.push(`${name}: id ${op.id.slice(0, 12)}…, Apollo ${other.id.slice(0, 12)}…`);
    if (other.body !== op.body) problems.push(`${name}: body differs ${howBodiesDiffer(other.body, op.body)}`);
  }
  return problems;
}

const ours = loadManifest();

describe("trusted-documents.json", () => {
  test("is Apollo's manifest format, each id the sha256 of its body", () => {
    assert.equal(ours.format, 'apollo-persisted-query-manifest');
    assert.equal(ours.version, 1);
    for (const op of ours.operations) assert.equal(op.id, sha256(op.body), `${op.name}'s id`);
  });

  test('holds every contract operation, as operations/*.graphql define it', () => {
    const operations = loadOperations();
    assert.deepEqual(ours.operations.map((o) => o.name).sort(), [...operations.keys()].sort());
    for (const op of ours.operations) {
      const contract = operations.get(op.name);
      assert.equal(op.type, contract.type, op.name);
      // (Apollo's generator adds __typename to every selection set: that is the same operation.)
      assert.deepEqual(
        definitionsOf(withoutTypename(op.body)),
        definitionsOf(contract.text),
        `${op.name}'s body is the operation with exactly the fragments it uses`,
      );
    }
  });
});

describe("Apollo's manifest generator (@apollo/generate-persisted-query-manifest CLI)", () => {
  // Apollo's CLI takes one operation per file; the contract's files hold several each and are kept byte for
  // byte as the clients wrote them, so the comparison below splits them first (the bodies do not change).
  test('writes the same ids and bodies as trusted-documents.json (one operation per file, as Apollo requires)', async () => {
    // The same documents, each operation in a file of its own, the fragments file as it is.
    const dir = join(temp, 'one-per-file');
    mkdirSync(dir, { recursive: true });
    const fragments = [];
    for (const file of readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).sort()) {
      const source = readFileSync(join(OPERATIONS_DIR, file), 'utf8');
      for (const definition of parse(source).definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION) writeFileSync(join(dir, `${definition.name.value}.graphql`), `${print(definition)}\n`);
        else fragments.push(print(definition));
      }
    }
    writeFileSync(join(dir, '_fragments.graphql'), `${fragments.join('\n\n')}\n`);
    const { code, output, manifest } = await generate('one-per-file', [`${dir}/*.graphql`]);
    assert.equal(code, 0, `the generator failed:\n${output}`);
    assert.equal(manifest.operations.length, ours.operations.length, output);
    const problems = compare(manifest, ours);
    if (problems.length) {
      assert.fail(`Apollo's manifest differs from trusted-documents.json in ${problems.length} ways:\n  ${problems.join('\n  ')}`);
    }
  });
});
