// Messages in both directions through the proxy, with the official SDK client and the real
// server-everything as upstream (over stdio and over Streamable HTTP): sampling, elicitation and
// roots requests relayed to the client that made the call and answered by it; progress with the
// client's own token; cancellation reaching the upstream; a client without a capability gets
// the upstream a proper error; old clients on the legacy HTTP+SSE endpoint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  cleanupAll,
  connectHttpClient,
  everythingStdioServer,
  fixtureServer,
  startEverythingHttp,
  startProxy,
  textOf,
  types,
  upstreamLog,
  waitFor,
  waitForTools,
  sdkModule,
  Client,
  withTimeout,
} from './harness.mjs';

const { SSEClientTransport } = await sdkModule('client/sse.js');

const RELAY_CAPABILITIES = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };
// Upstreams cache roots per connection, and the proxy's upstream connection is shared: any relay
// client may be the one asked, so roots requests are counted over all of them.
const rootsAsked = { count: 0, name: 'relay-root' };

// A client that answers every relayed request in a recognisable way and records what it got.
async function relayClient(url) {
  const seen = { sampling: [], elicitation: [], roots: 0 };
  const client = await connectHttpClient(url, {
    capabilities: RELAY_CAPABILITIES,
    setup(c) {
      c.setRequestHandler(types.CreateMessageRequestSchema, async (request) => {
        seen.sampling.push(request.params);
        return {
          role: 'assistant',
          model: 'relay-test-model',
          content: { type: 'text', text: 'sampled by the test client' },
        };
      });
      c.setRequestHandler(types.ElicitRequestSchema, async (request) => {
        seen.elicitation.push(request.params);
        return { action: 'accept', content: { name: 'Ada Lovelace', check: true, email: 'ada@example.com' } };
      });
      c.setRequestHandler(types.ListRootsRequestSchema, async () => {
        seen.roots += 1;
        rootsAsked.count += 1;
        return { roots: [{ uri: `file:///tmp/${rootsAsked.name}`, name: rootsAsked.name }] };
      });
    },
  });
  return { client, seen };
}

describe('relay of server->client requests and notifications', () => {
  let proxy;
  let everythingHttp;

  before(async () => {
    everythingHttp = await startEverythingHttp();
    proxy = await startProxy({
      mcpServers: [
        everythingStdioServer('evs'),
        { name: 'evh', url: everythingHttp.url, protocol: 'streamable-http' },
        fixtureServer('fx'),
      ],
    });
  });
  after(cleanupAll);

  for (const server of ['evs', 'evh']) {
    test(`${server}: sampling is answered by the calling client`, async () => {
      const { client, seen } = await relayClient(`${proxy.baseUrl}/mcp/all`);
      await waitForTools(client, [`${server}__trigger-sampling-request`]);
      const result = await withTimeout(
        client.callTool({ name: `${server}__trigger-sampling-request`, arguments: { prompt: 'hello relay' } }),
        30000,
        'sampling call',
      );
      assert.match(textOf(result), /sampled by the test client/);
      assert.equal(seen.sampling.length, 1);
      assert.match(seen.sampling[0].messages[0].content.text, /hello relay/);
    });

    test(`${server}: elicitation is answered by the calling client`, async () => {
      const { client, seen } = await relayClient(`${proxy.baseUrl}/mcp/all`);
      await waitForTools(client, [`${server}__trigger-elicitation-request`]);
      const result = await withTimeout(
        client.callTool({ name: `${server}__trigger-elicitation-request`, arguments: {} }),
        30000,
        'elicitation call',
      );
      assert.equal(seen.elicitation.length, 1);
      assert.ok(seen.elicitation[0].requestedSchema?.properties?.name, 'the schema arrives intact');
      assert.match(textOf(result), /Ada Lovelace/);
    });

    test(`${server}: progress notifications carry the client's own token`, async () => {
      const { client } = await relayClient(`${proxy.baseUrl}/mcp/all`);
      await waitForTools(client, [`${server}__trigger-long-running-operation`]);
      const progress = [];
      const result = await withTimeout(
        client.callTool(
          { name: `${server}__trigger-long-running-operation`, arguments: { duration: 1, steps: 3 } },
          undefined,
          { onprogress: (p) => progress.push(p) },
        ),
        30000,
        'long-running call',
      );
      assert.match(textOf(result), /Long running operation completed/);
      assert.deepEqual(
        progress.map((p) => p.progress),
        [1, 2, 3],
        `progress seen: ${JSON.stringify(progress)}`,
      );
    });
  }

  test('roots/list reaches a client that declared roots; roots/list_changed reaches upstreams', async () => {
    const { client, seen } = await relayClient(`${proxy.baseUrl}/mcp/all`);
    await client.getStreamReady;
    await waitForTools(client, ['evs__get-roots-list']);
    const first = await withTimeout(
      client.callTool({ name: 'evs__get-roots-list', arguments: {} }),
      30000,
      'roots call',
    );
    assert.ok(rootsAsked.count >= 1, 'a client was asked for its roots');
    assert.match(textOf(first), /relay-root/);

    // The client's roots change: the notification reaches the upstream, which asks again (an
    // unrelated request: it goes to the most recently active client that declared roots).
    const before = seen.roots;
    rootsAsked.name = 'relay-root-changed';
    await client.sendRootsListChanged();
    await waitFor(() => seen.roots > before, { timeout: 10000, what: 'the upstream to ask for roots again' });
    const second = await withTimeout(
      client.callTool({ name: 'evs__get-roots-list', arguments: {} }),
      30000,
      'roots call after the change',
    );
    assert.match(textOf(second), /relay-root-changed/);
  });

  test('a client without the sampling capability: the upstream gets an error, not a hang', async () => {
    const client = await connectHttpClient(`${proxy.baseUrl}/mcp/all`);
    await waitForTools(client, ['evs__trigger-sampling-request']);
    const result = await withTimeout(
      client.callTool({ name: 'evs__trigger-sampling-request', arguments: { prompt: 'x' } }),
      30000,
      'sampling call without capability',
    );
    assert.equal(result.isError, true);
    assert.match(textOf(result), /sampling/);
  });

  test('cancelling a call reaches the upstream', async () => {
    const { client } = await relayClient(`${proxy.baseUrl}/mcp/all`);
    await waitForTools(client, ['fx__sleep']);
    const controller = new AbortController();
    const started = Date.now();
    const call = client.callTool({ name: 'fx__sleep', arguments: { ms: 20000 } }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort('test cancels'), 300);
    await assert.rejects(call);
    // The fixture logs the notifications/cancelled it received for its call (stderr -> log).
    await waitFor(() => /sleep 20000 cancelled/.test(upstreamLog(proxy, 'fx')), {
      timeout: 10000,
      what: 'the upstream to see the cancellation',
    });
    assert.ok(Date.now() - started < 15000, 'the upstream call ended early');
  });

  test('legacy HTTP+SSE clients (protocol 2024-11-05) list and call tools on /sse', async () => {
    const client = new Client({ name: 'legacy-client', version: '1.0.0' }, { capabilities: {} });
    const transport = new SSEClientTransport(new URL(`${proxy.baseUrl}/sse/all`));
    await withTimeout(client.connect(transport), 20000, 'legacy SSE connect');
    try {
      await waitForTools(client, ['fx__echo']);
      const result = await withTimeout(
        client.callTool({ name: 'fx__echo', arguments: { message: 'over legacy sse' } }),
        10000,
        'legacy call',
      );
      assert.equal(textOf(result), 'over legacy sse');
    } finally {
      await client.close();
    }
  });
});

describe('legacy HTTP+SSE upstreams (protocol 2024-11-05)', () => {
  let proxy;

  before(async () => {
    const legacy = await startEverythingHttp({ mode: 'sse' });
    proxy = await startProxy({
      mcpServers: [
        { name: 'old', url: legacy.url, protocol: 'sse' },
        // "auto": the Streamable HTTP POST is refused, so the proxy falls back to SSE.
        { name: 'guess', url: legacy.url },
      ],
    });
  });
  after(cleanupAll);

  for (const server of ['old', 'guess']) {
    test(`${server}: tools listed and called; sampling relayed over the legacy stream`, async () => {
      const { client, seen } = await relayClient(`${proxy.baseUrl}/mcp/all`);
      await waitForTools(client, [`${server}__echo`, `${server}__trigger-sampling-request`]);
      const echo = await withTimeout(
        client.callTool({ name: `${server}__echo`, arguments: { message: 'through old sse' } }),
        20000,
        'legacy echo',
      );
      assert.match(textOf(echo), /through old sse/);
      const sampled = await withTimeout(
        client.callTool({ name: `${server}__trigger-sampling-request`, arguments: { prompt: 'legacy' } }),
        20000,
        'legacy sampling',
      );
      assert.match(textOf(sampled), /sampled by the test client/);
      assert.equal(seen.sampling.length, 1);
    });
  }
});
