// The retrieve_tools mode of /mcp end to end, with the official SDK client and real upstreams
// (server-everything and server-filesystem over stdio, the fixture): the proxy tools are all a
// client lists; search finds the right tool; call_tool_* route, check arguments, refuse
// destructive tools on the wrong variant; long responses page through read_cache; statistics
// land in the SQLite database; /mcp/all stays direct; `mcpproxy tools search` agrees.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import {
  EVERYTHING_JS,
  FILESYSTEM_JS,
  MCPPROXY_BIN,
  callTool,
  connectHttpClient,
  fixtureServer,
  makeTempDir,
  startProxy,
  textOf,
  toolNames,
  waitFor,
} from './harness.mjs';

const PROXY_TOOLS = [
  'call_tool_destructive',
  'call_tool_read',
  'call_tool_write',
  'describe_tool',
  'quarantine_security',
  'read_cache',
  'retrieve_tools',
  'tools_stat',
  'upstream_servers',
];

describe('proxy tools on /mcp', () => {
  let proxy;
  let client;
  let files;

  before(async () => {
    files = makeTempDir('mcpproxy-it-files-');
    fs.writeFileSync(path.join(files, 'notes.txt'), 'hello from the filesystem\n');
    const config = {
      tool_response_limit: 200,
      mcpServers: [
        { name: 'ev', command: process.execPath, args: [EVERYTHING_JS, 'stdio'] },
        { name: 'files', command: process.execPath, args: [FILESYSTEM_JS, files] },
        fixtureServer('fx'),
      ],
    };
    proxy = await startProxy(config);
    client = await connectHttpClient(`${proxy.baseUrl}/mcp`);
    // The upstreams connect in the background: wait until search sees all three.
    await waitFor(
      async () => {
        const result = await callTool(client, 'retrieve_tools', { query: 'echo message', limit: 20 });
        const servers = new Set(result.structuredContent.tools.map((t) => t.server));
        return servers.has('ev') && servers.has('fx') ? true : null;
      },
      { timeout: 30000, interval: 250, what: 'upstreams to be searchable' },
    );
    await waitFor(
      async () => {
        const result = await callTool(client, 'retrieve_tools', { query: 'read a text file' });
        return result.structuredContent.tools.some((t) => t.server === 'files') ? true : null;
      },
      { timeout: 30000, interval: 250, what: 'filesystem server to be searchable' },
    );
  });

  test('lists only the proxy tools, each with a schema', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), PROXY_TOOLS);
    for (const tool of tools) assert.equal(tool.inputSchema.type, 'object', tool.name);
  });

  test('retrieve_tools ranks the right tool first and returns its schema', async () => {
    const result = await callTool(client, 'retrieve_tools', { query: 'add two numbers together', limit: 3 });
    assert.ok(!result.isError);
    const { tools } = result.structuredContent;
    assert.ok(tools.length > 0 && tools.length <= 3);
    assert.equal(tools[0].name, 'ev:get-sum');
    assert.equal(tools[0].server, 'ev');
    assert.equal(tools[0].tool, 'get-sum');
    assert.ok(tools[0].inputSchema.properties.a, 'inputSchema is included');
    assert.ok(tools[0].score >= tools[tools.length - 1].score, 'best first');
    assert.deepEqual(JSON.parse(textOf(result)), result.structuredContent, 'text mirrors structuredContent');

    const files = await callTool(client, 'retrieve_tools', { query: 'read the contents of a text file' });
    assert.ok(
      files.structuredContent.tools.slice(0, 3).some((t) => t.name === 'files:read_text_file'),
      JSON.stringify(files.structuredContent.tools.slice(0, 3).map((t) => t.name)),
    );
  });

  test('call_tool_read calls through and returns the upstream result intact', async () => {
    const result = await callTool(client, 'call_tool_read', { name: 'ev:get-sum', args: { a: 2, b: 40 } });
    assert.ok(!result.isError, textOf(result));
    assert.match(textOf(result), /42/);
    const structured = await callTool(client, 'call_tool_read', {
      name: 'ev:get-structured-content',
      args: { location: 'New York' },
    });
    assert.equal(typeof structured.structuredContent.temperature, 'number');
  });

  test('arguments are checked against the inputSchema before dispatch', async () => {
    const result = await callTool(client, 'call_tool_read', { name: 'ev:get-sum', args: { a: 'two' } });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /missing required property "b"/);
    assert.match(textOf(result), /args\.a: expected number, got string/);
  });

  test('unknown tools get a helpful error', async () => {
    const result = await callTool(client, 'call_tool_read', { name: 'ev:nope' });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /retrieve_tools/);
  });

  test('destructive tools are refused on read/write and run on call_tool_destructive', async () => {
    const target = path.join(files, 'written.txt');
    const args = { path: target, content: 'written through the proxy' };
    for (const variant of ['call_tool_read', 'call_tool_write']) {
      const refused = await callTool(client, variant, { name: 'files:write_file', args });
      assert.equal(refused.isError, true, variant);
      assert.match(textOf(refused), /call_tool_destructive/);
    }
    assert.equal(fs.existsSync(target), false, 'nothing was written by a refused call');
    const done = await callTool(client, 'call_tool_destructive', { name: 'files:write_file', args });
    assert.ok(!done.isError, textOf(done));
    assert.equal(fs.readFileSync(target, 'utf8'), 'written through the proxy');
  });

  test('long responses are truncated and paged through read_cache', async () => {
    const message = 'x'.repeat(150) + 'MIDDLE' + 'y'.repeat(300) + 'END';
    const first = await callTool(client, 'call_tool_read', { name: 'fx:echo', args: { message } });
    const text = textOf(first);
    const hint = text.match(/"key": "([0-9a-f]+)", "offset": (\d+)/);
    assert.ok(hint, text);
    assert.ok(text.startsWith('x'.repeat(150)));
    assert.ok(!text.includes('END'));
    let offset = Number(hint[2]);
    let rest = '';
    for (let i = 0; i < 10 && offset !== null; i++) {
      const page = textOf(await callTool(client, 'read_cache', { key: hint[1], offset }));
      const next = page.match(/next offset (\d+)/);
      rest += page.replace(/\n\n\[mcpproxy: .*\]$/s, '');
      offset = next ? Number(next[1]) : null;
    }
    assert.equal(text.slice(0, 200) + rest, message);
    const missing = await callTool(client, 'read_cache', { key: 'nope' });
    assert.equal(missing.isError, true);
  });

  test('describe_tool and tools_stat', async () => {
    const described = await callTool(client, 'describe_tool', { name: 'ev:get-sum' });
    assert.equal(described.structuredContent.name, 'ev:get-sum');
    assert.ok(described.structuredContent.inputSchema);
    const stats = await callTool(client, 'tools_stat', {});
    const sum = stats.structuredContent.tools.find((t) => t.name === 'ev:get-sum');
    assert.ok(sum, JSON.stringify(stats.structuredContent));
    assert.ok(sum.calls >= 1);
    assert.ok(fs.existsSync(path.join(proxy.dataDir, 'mcpproxy.db')));
  });

  test('/mcp/all stays direct on the same proxy', async () => {
    const direct = await connectHttpClient(proxy.url);
    const names = await toolNames(direct);
    assert.ok(names.includes('ev__get-sum'));
    assert.ok(!names.includes('retrieve_tools'));
  });

  test('mcpproxy tools search prints the same ranking', async () => {
    const { stdout } = await promisify(execFile)(
      MCPPROXY_BIN,
      ['tools', 'search', 'add two numbers together', '--limit', '3', '--json', '--config', proxy.configPath,
        '--data-dir', makeTempDir('mcpproxy-it-cli-')],
      { timeout: 60000 },
    );
    const { tools } = JSON.parse(stdout);
    assert.equal(tools[0].name, 'ev:get-sum');
  });
});
