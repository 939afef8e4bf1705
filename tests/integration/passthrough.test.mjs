// Resources and prompts through the proxy with the official SDK client: server-everything's
// paged resources arrive merged in one listing, a resource reads back intact, templates are
// listed, prompts are exposed as "<server>__<prompt>" and get routed, and a quarantined server's
// resources and prompts stay hidden.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  Client,
  EVERYTHING_JS,
  StdioClientTransport,
  connectHttpClient,
  fixtureServer,
  onCleanup,
  startProxy,
  waitFor,
} from './harness.mjs';

/** Every resource of server-everything without the proxy, following its cursors. */
async function directResources() {
  const client = new Client({ name: 'direct', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING_JS, 'stdio'] }));
  onCleanup(() => client.close());
  const all = [];
  let cursor;
  do {
    const page = await client.listResources(cursor ? { cursor } : {});
    all.push(...page.resources);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

describe('resources and prompts pass through', () => {
  let client;
  let direct; // server-everything without the proxy, for comparison

  before(async () => {
    const proxy = await startProxy(
      {
        mcpServers: [
          { name: 'ev', command: process.execPath, args: [EVERYTHING_JS, 'stdio'], quarantined: false },
          { name: 'hidden', command: process.execPath, args: [EVERYTHING_JS, 'stdio'] },
          fixtureServer('fx', [], { quarantined: false }),
        ],
      },
      { quarantineByDefault: true },
    );
    client = await connectHttpClient(proxy.url);
    await waitFor(
      async () => ((await client.listResources()).resources.length > 0 ? true : null),
      { timeout: 30000, interval: 200, what: 'resources to be listed' },
    );
  });

  test('the proxy states what it relays', () => {
    const caps = client.getServerCapabilities();
    assert.ok(caps.resources && caps.prompts && caps.tools);
  });

  test('resources of every page are merged and read back intact', async () => {
    const { resources, nextCursor } = await client.listResources();
    assert.equal(nextCursor, undefined, 'one page holds everything');
    const expected = await directResources();
    assert.deepEqual(
      resources.map((r) => r.uri),
      expected.map((r) => r.uri),
      'the same resources as the server itself lists, once each: the quarantined copy is hidden',
    );
    assert.deepEqual(resources[0], expected[0], 'definitions intact');
    const first = resources[0];
    const read = await client.readResource({ uri: first.uri });
    assert.equal(read.contents[0].uri, first.uri);
    const templates = await client.listResourceTemplates();
    assert.ok(templates.resourceTemplates.length > 0);
  });

  test('unknown resources get a JSON-RPC error', async () => {
    await assert.rejects(client.readResource({ uri: 'nope://missing' }));
  });

  test('prompts are prefixed and routed', async () => {
    const { prompts } = await client.listPrompts();
    const names = prompts.map((p) => p.name);
    assert.ok(names.some((n) => n.startsWith('ev__')), names.join(','));
    assert.ok(!names.some((n) => n.startsWith('hidden__')), 'quarantined prompts are hidden');
    const simple = names.find((n) => n.startsWith('ev__') && /simple/.test(n));
    assert.ok(simple, names.join(','));
    const got = await client.getPrompt({ name: simple });
    assert.ok(got.messages.length > 0);
    await assert.rejects(client.getPrompt({ name: 'hidden__simple-prompt' }));
  });

  test('completion/complete is routed by the prompt reference', async () => {
    const result = await client.complete({
      ref: { type: 'ref/prompt', name: 'ev__completable-prompt' },
      argument: { name: 'department', value: 'S' },
    });
    assert.deepEqual(result.completion.values.sort(), ['Sales', 'Support']);
    const dependent = await client.complete({
      ref: { type: 'ref/prompt', name: 'ev__completable-prompt' },
      argument: { name: 'name', value: '' },
      context: { arguments: { department: 'Engineering' } },
    });
    assert.deepEqual(dependent.completion.values, ['Alice', 'Bob', 'Charlie']);
    await assert.rejects(
      client.complete({ ref: { type: 'ref/prompt', name: 'nope__x' }, argument: { name: 'a', value: '' } }),
    );
  });
});
