// What the config says about stdio upstreams, observed from inside the child (the fixture's env,
// cwd and pid tools) and from a client: the environment allowlist, env, working_dir, stderr log
// files, disabled servers, a command that does not exist, and how tools are aggregated (both
// sides paginated, name collisions, errors passed through).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  FIXTURE_BIN,
  callTool,
  fixtureServer,
  listAllTools,
  makeTempDir,
  startProxyWithClient,
  textOf,
  toolNames,
  upstreamLog,
  waitFor,
  waitForTools,
} from './harness.mjs';

const envOf = async (client, server, name) => textOf(await callTool(client, `${server}__env`, { name }));

describe('stdio upstream process settings', () => {
  test('the child gets the allowlisted environment plus its configured env, nothing else', async () => {
    const workDir = makeTempDir('mcpproxy-it-cwd-');
    const { proxy, client } = await startProxyWithClient(
      {
        mcpServers: [
          fixtureServer('fx', [], {
            env: { FIXTURE_CONFIGURED: 'from-config', PATH_EXTRA: 'x' },
            working_dir: workDir,
          }),
          fixtureServer('plain'),
        ],
      },
      { env: { MCPPROXY_IT_SECRET: 'do-not-leak', AWS_SECRET_ACCESS_KEY: 'nope', LC_IT_TEST: 'lc-ok' } },
    );
    await waitForTools(client, ['fx__env', 'plain__env']);
    assert.equal(await envOf(client, 'fx', 'FIXTURE_CONFIGURED'), 'from-config');
    assert.equal(await envOf(client, 'plain', 'FIXTURE_CONFIGURED'), '<unset>', 'env is per server');
    for (const server of ['fx', 'plain']) {
      assert.equal(await envOf(client, server, 'MCPPROXY_IT_SECRET'), '<unset>', `${server}: secrets stay out`);
      assert.equal(await envOf(client, server, 'AWS_SECRET_ACCESS_KEY'), '<unset>');
      assert.equal(await envOf(client, server, 'PATH'), process.env.PATH, `${server}: PATH passes`);
      assert.equal(await envOf(client, server, 'LC_IT_TEST'), 'lc-ok', `${server}: LC_* passes`);
    }
    assert.equal(textOf(await callTool(client, 'fx__cwd')), fs.realpathSync(workDir), 'working_dir');
    assert.equal(textOf(await callTool(client, 'plain__cwd')).length > 0, true);
    // The child's stderr goes to <data dir>/logs/<server>.log.
    assert.equal(textOf(await callTool(client, 'fx__stderr', { lines: 5 })), 'ok');
    await waitFor(() => upstreamLog(proxy, 'fx').includes('fixture stderr line 4'), { timeout: 5000, what: 'fx.log' });
    assert.ok(!upstreamLog(proxy, 'plain').includes('fixture stderr line'), 'logs are per server');
    assert.ok(!proxy.proc.stderrText().includes('fixture stderr line'), "not in the proxy's own log");
  });

  test('a command found through PATH (no shell involved)', async () => {
    const binDir = path.dirname(FIXTURE_BIN);
    const { client } = await startProxyWithClient(
      { mcpServers: [{ name: 'viapath', command: path.basename(FIXTURE_BIN), args: ['--name', 'viapath'] }] },
      { env: { PATH: `${binDir}:${process.env.PATH}` } },
    );
    await waitForTools(client, ['viapath__echo']);
    // Shell metacharacters in args reach the child verbatim.
    assert.equal(textOf(await callTool(client, 'viapath__echo', { message: '$HOME; `id`' })), '$HOME; `id`');
  });

  test('a missing command and a disabled server do not hold up the others', async () => {
    const { proxy, client } = await startProxyWithClient({
      mcpServers: [
        { name: 'missing', command: '/nonexistent/mcp-server-binary', args: [] },
        fixtureServer('off', [], { enabled: false }),
        fixtureServer('fx'),
      ],
    });
    const names = await waitForTools(client, ['fx__echo']);
    assert.ok(!names.some((name) => name.startsWith('missing__') || name.startsWith('off__')));
    await waitFor(() => /upstream missing: .*retrying/.test(proxy.proc.stderrText()), {
      timeout: 10000,
      what: 'the missing command to be reported and retried',
    });
    assert.equal(upstreamLog(proxy, 'off'), '', 'a disabled server is never started');
    assert.equal(textOf(await callTool(client, 'fx__echo', { message: 'ok' })), 'ok');
  });
});

describe('tool aggregation', () => {
  test('upstream pages are followed and the merged list is paginated by tools_page_size', async () => {
    const { client } = await startProxyWithClient({
      mcpServers: [
        fixtureServer('big', ['--tools', '300', '--page-size', '7']),
        fixtureServer('small', ['--page-size', '3']),
      ],
      tools_page_size: 50,
    });
    await waitForTools(client, ['big__tool_299', 'small__echo']);
    const { tools, pages } = await listAllTools(client);
    const names = tools.map((tool) => tool.name);
    assert.equal(new Set(names).size, names.length, 'no tool listed twice');
    const big = names.filter((name) => name.startsWith('big__'));
    const small = names.filter((name) => name.startsWith('small__'));
    assert.equal(big.filter((name) => name.startsWith('big__tool_')).length, 300);
    assert.equal(small.length, big.length - 300, 'small has the same built-in tools');
    assert.equal(pages, Math.ceil(names.length / 50));
    const first = await client.listTools({}, { timeout: 10000 });
    assert.equal(first.tools.length, 50);
    assert.equal(textOf(await callTool(client, 'big__tool_123')), 'tool_123');
  });

  test('collisions under prefix "": first configured server wins, the other gets <server>__<tool>', async () => {
    const { proxy, client } = await startProxyWithClient({
      mcpServers: [fixtureServer('one', [], { prefix: '' }), fixtureServer('two', [], { prefix: '' })],
    });
    await waitForTools(client, ['echo', 'two__echo', 'two__pid']);
    const pidOne = Number(textOf(await callTool(client, 'pid')));
    const pidTwo = Number(textOf(await callTool(client, 'two__pid')));
    assert.notEqual(pidOne, pidTwo);
    assert.match(proxy.proc.stderrText(), /collision/);
    const names = await toolNames(client);
    assert.ok(!names.includes('one__echo'), 'the winner keeps only its bare name');
  });

  test('a custom prefix', async () => {
    const { client } = await startProxyWithClient({ mcpServers: [fixtureServer('fx', [], { prefix: 'my.' })] });
    await waitForTools(client, ['my.echo']);
    assert.equal(textOf(await callTool(client, 'my.echo', { message: 'p' })), 'p');
  });

  test('tool results and upstream JSON-RPC errors pass through', async () => {
    const { client } = await startProxyWithClient({ mcpServers: [fixtureServer('fx')] });
    await waitForTools(client, ['fx__fail']);
    const failed = await callTool(client, 'fx__fail');
    assert.equal(failed.isError, true);
    assert.equal(textOf(failed), 'fixture failure');
    const structured = await callTool(client, 'fx__structured', { value: 'héllo' });
    assert.deepEqual(structured.structuredContent, { value: 'héllo', length: 6 });
    await assert.rejects(callTool(client, 'fx__rpc_error'), (err) => {
      assert.equal(err.code, -32099);
      assert.match(err.message, /fixture rpc error/);
      assert.deepEqual(err.data, { detail: 'x' });
      return true;
    });
    // Large results come through whole.
    const big = 'z'.repeat(2 * 1024 * 1024);
    assert.equal(textOf(await callTool(client, 'fx__echo', { message: big })), big);
  });
});
