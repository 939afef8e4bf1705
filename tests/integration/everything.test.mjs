// The proxy in front of the reference server (@modelcontextprotocol/server-everything), reached
// over stdio and over Streamable HTTP, with the official SDK client on /mcp/all: tool names are
// prefixed, calls reach the right upstream, results (structuredContent included) and tool
// definitions pass through unchanged, and prefix "" exposes bare names.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  callTool,
  connectHttpClient,
  everythingStdioServer,
  fixtureServer,
  listAllTools,
  startEverythingHttp,
  startProxyWithClient,
  stopProcess,
  textOf,
  toolNames,
  waitFor,
  waitForTools,
} from './harness.mjs';

/** The listed definitions keyed by name, without the name itself. */
function definitionsByName(tools, prefix = '') {
  const out = new Map();
  for (const tool of tools) {
    if (!tool.name.startsWith(prefix)) continue;
    const { name, ...rest } = tool;
    out.set(name.slice(prefix.length), rest);
  }
  return out;
}

describe('server-everything behind the proxy', () => {
  let everythingHttp;
  let direct; // an SDK client connected straight to server-everything over HTTP
  let proxy;
  let client;

  before(async () => {
    everythingHttp = await startEverythingHttp();
    direct = await connectHttpClient(everythingHttp.url);
    ({ proxy, client } = await startProxyWithClient({
      mcpServers: [
        everythingStdioServer('evs'),
        { name: 'evh', url: everythingHttp.url, protocol: 'streamable-http' },
      ],
    }));
    await waitForTools(client, ['evs__echo', 'evh__echo']);
  });

  test('initialize reports mcpproxy with tools.listChanged', () => {
    assert.equal(client.getServerVersion()?.name, 'mcpproxy');
    assert.equal(client.getServerCapabilities()?.tools?.listChanged, true);
  });

  test('every upstream tool is listed once per server with the <server>__ prefix', async () => {
    const upstream = (await listAllTools(direct)).tools.map((tool) => tool.name).sort();
    assert.ok(upstream.includes('echo') && upstream.includes('get-sum'));
    const names = await toolNames(client);
    assert.equal(new Set(names).size, names.length, 'no duplicate names');
    for (const server of ['evs', 'evh']) {
      const exposed = names
        .filter((name) => name.startsWith(`${server}__`))
        .map((name) => name.slice(server.length + 2));
      assert.deepEqual(exposed.sort(), upstream, `tools of ${server}`);
    }
    assert.ok(names.includes('upstream_servers'), 'the management proxy tool (issue 6)');
    assert.equal(names.length, upstream.length * 2 + 1, 'nothing else is listed');
  });

  test('tool definitions (schemas, descriptions, annotations) pass through unchanged', async () => {
    const upstream = definitionsByName((await listAllTools(direct)).tools);
    const { tools } = await listAllTools(client);
    for (const server of ['evs', 'evh']) {
      const proxied = definitionsByName(tools, `${server}__`);
      for (const [name, definition] of upstream) {
        assert.deepEqual(proxied.get(name), definition, `definition of ${server}__${name}`);
      }
    }
  });

  test('echo and get-sum over stdio and over HTTP', async () => {
    for (const server of ['evs', 'evh']) {
      const echoed = await callTool(client, `${server}__echo`, { message: `hello ${server} ✓` });
      assert.equal(textOf(echoed), `Echo: hello ${server} ✓`);
      assert.ok(!echoed.isError);
      const sum = await callTool(client, `${server}__get-sum`, { a: 19, b: 23 });
      assert.match(textOf(sum), /\b42\b/);
    }
  });

  test('structuredContent is preserved exactly', async () => {
    const expected = await callTool(direct, 'get-structured-content', { location: 'Chicago' });
    assert.ok(expected.structuredContent, 'server-everything returns structuredContent');
    for (const server of ['evs', 'evh']) {
      const result = await callTool(client, `${server}__get-structured-content`, { location: 'Chicago' });
      assert.deepEqual(result.structuredContent, expected.structuredContent);
      assert.deepEqual(result.content, expected.content);
    }
  });

  test('an upstream argument error comes back as the upstream reported it', async () => {
    const expected = await callTool(direct, 'get-sum', { a: 'not a number' }).then(
      (result) => ({ result }),
      (error) => ({ error: { code: error.code, message: error.message } }),
    );
    const actual = await callTool(client, 'evh__get-sum', { a: 'not a number' }).then(
      (result) => ({ result }),
      (error) => ({ error: { code: error.code, message: error.message } }),
    );
    if (expected.error) {
      assert.equal(actual.error?.code, expected.error.code, JSON.stringify(actual));
    } else {
      assert.equal(actual.result?.isError, expected.result.isError, JSON.stringify(actual));
      assert.deepEqual(actual.result?.content, expected.result.content);
    }
  });

  test('concurrent calls to both upstreams each get their own answer', async () => {
    const calls = [];
    for (let i = 0; i < 24; i += 1) {
      const server = i % 2 === 0 ? 'evs' : 'evh';
      calls.push(callTool(client, `${server}__echo`, { message: `m${i}` }).then((result) => textOf(result)));
    }
    const texts = await Promise.all(calls);
    texts.forEach((text, i) => assert.equal(text, `Echo: m${i}`));
  });

  test('an unknown tool is a JSON-RPC error, not a hang', async () => {
    await assert.rejects(callTool(client, 'evs__no-such-tool', {}), (err) => {
      assert.equal(err.code, -32602);
      assert.match(err.message, /Unknown tool/);
      return true;
    });
  });
});

describe('routing_mode "direct"', () => {
  test('/mcp serves the same tools as /mcp/all', async () => {
    const { proxy, client } = await startProxyWithClient({
      mcpServers: [everythingStdioServer('ev')],
      routing_mode: 'direct',
    });
    await waitForTools(client, ['ev__echo']);
    const other = await connectHttpClient(`${proxy.baseUrl}/mcp`);
    assert.deepEqual((await toolNames(other)).sort(), (await toolNames(client)).sort());
    assert.equal(textOf(await callTool(other, 'ev__echo', { message: 'via /mcp' })), 'Echo: via /mcp');
  });
});

describe('prefix ""', () => {
  test('exposes bare names; a colliding later server falls back to <server>__<tool>', async () => {
    const { client } = await startProxyWithClient({
      mcpServers: [everythingStdioServer('ev', { prefix: '' }), fixtureServer('fx', [], { prefix: '' })],
    });
    const names = await waitForTools(client, ['echo', 'get-sum', 'add', 'fx__echo']);
    assert.ok(!names.includes('ev__echo'), 'no prefixed copy of a bare name');
    assert.equal(new Set(names).size, names.length);
    // The first server in the config keeps the colliding name.
    assert.equal(textOf(await callTool(client, 'echo', { message: 'bare' })), 'Echo: bare');
    assert.equal(textOf(await callTool(client, 'fx__echo', { message: 'fallback' })), 'fallback');
    assert.equal(textOf(await callTool(client, 'add', { a: 1, b: 2 })), '3');
    assert.match(textOf(await callTool(client, 'get-sum', { a: 1, b: 2 })), /\b3\b/);
  });
});

describe('server-everything over HTTP going away', () => {
  /** An HTTP everything server and a proxy (health checks every second) fronting it as evh. */
  async function setUp() {
    const upstream = await startEverythingHttp();
    const { client } = await startProxyWithClient({
      mcpServers: [{ name: 'evh', url: upstream.url, protocol: 'streamable-http' }],
      health_check_interval: '1s',
      call_tool_timeout: '20s',
    });
    await waitForTools(client, ['evh__echo']);
    assert.equal(textOf(await callTool(client, 'evh__echo', { message: 'before' })), 'Echo: before');
    return { upstream, client };
  }

  test('while it is down, calls fail promptly and the health check withdraws its tools', async () => {
    const { upstream, client } = await setUp();
    await stopProcess(upstream.proc);
    // Whether the proxy has noticed yet (isError result) or already dropped the tools (unknown
    // tool), the call is answered well before the 20 s call timeout.
    const started = Date.now();
    const outcome = await callTool(client, 'evh__echo', { message: 'down' }).then(
      (result) => result,
      (error) => ({ rejected: error }),
    );
    assert.ok(outcome.rejected || outcome.isError, `an error while down: ${JSON.stringify(outcome)}`);
    assert.ok(Date.now() - started < 15000, 'answered promptly');
    // A failed ping (every 1 s, 10 s ping timeout) marks it failed, which withdraws its tools.
    await waitFor(async () => !(await toolNames(client)).includes('evh__echo'), {
      timeout: 25000,
      interval: 250,
      what: 'the dead HTTP upstream to be marked failed (its tools withdrawn)',
    });
  });

  test('restarted on the same port (a new process that does not know our session), it is used again', async () => {
    const { upstream, client } = await setUp();
    await stopProcess(upstream.proc);
    await startEverythingHttp({ port: upstream.port });
    await waitFor(
      async () => {
        const result = await callTool(client, 'evh__echo', { message: 'after' });
        return !result.isError && textOf(result) === 'Echo: after';
      },
      { timeout: 30000, interval: 250, what: 'evh to work again after its restart' },
    );
  });
});
