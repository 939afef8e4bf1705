// Versioned approvals with a real daemon and the fixture server: the config baseline is v1, a
// changed definition approved by a person is v2, `mcpproxy tools history` lists both, and
// `mcpproxy tools rollback` re-pins v1 as v3 — the running daemon then blocks the definition
// the server still presents, until a person approves it again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { mcpproxy } from './cli_helpers.mjs';
import { callTool, connectHttpClient, fixtureServer, makeTempDir, startProxy, textOf, toolNames, waitFor } from './harness.mjs';

const home = makeTempDir('mcpproxy-it-versions-home-');

describe('tools history and rollback', () => {
  test('approve, change, approve, roll back: the daemon blocks the newer definition again', async () => {
    const proxy = await startProxy({ mcpServers: [fixtureServer('fx', [], { quarantined: false })] });
    const flags = ['--data-dir', proxy.dataDir];
    const run = (args) => mcpproxy([...args, ...flags], { home });
    const client = await connectHttpClient(proxy.url); // /mcp/all: direct
    const search = await connectHttpClient(`${proxy.baseUrl}/mcp`); // the proxy tools
    const has = async (name) => (await toolNames(client)).includes(name);
    await waitFor(() => has('fx__echo'), { what: 'fx tools' });
    await waitFor(async () => JSON.parse((await run(['tools', 'history', 'fx:echo', '--json'])).stdout).versions.length === 1, {
      what: 'the config baseline to be pinned',
    });

    const changed = 'Returns `message` as text, politely.';
    await callTool(client, 'fx__mutate_tool', { name: 'echo', description: changed });
    await waitFor(async () => !(await has('fx__echo')), { what: 'the changed echo to be blocked' });
    let r = await run(['tools', 'approve', 'fx:echo']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => has('fx__echo'), { what: 'echo back after approval' });

    r = await run(['tools', 'history', 'fx:echo', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const history = JSON.parse(r.stdout);
    assert.deepEqual(history.versions.map((v) => [v.version, v.approved_by, v.current]), [
      [1, 'config', false],
      [2, 'cli', true],
    ]);
    assert.equal(history.versions[1].definition.description, changed);
    assert.equal(history.listed_hash, history.versions[1].hash);
    r = await run(['tools', 'history', 'fx:echo']);
    assert.match(r.stdout, /fx:echo: 2 approved version\(s\), v2 pinned/);
    assert.match(r.stdout, /\* v2 .* cli /);
    assert.match(r.stdout, /the server lists the pinned definition now/);

    r = await run(['tools', 'rollback', 'fx:echo']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /fx:echo: rollback to v1, pinned as v3/);
    assert.match(r.stdout, /blocked until a person decides/);
    // The running daemon picks the rollback up and blocks what the server presents (v2's).
    await waitFor(async () => !(await has('fx__echo')), { what: 'echo blocked after the rollback' });
    const refused = await callTool(search, 'call_tool_read', { name: 'fx:echo', args: { message: 'x' } });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /changed since it was approved/);
    r = await run(['tools', 'history', 'fx:echo']);
    assert.match(r.stdout, /\* v3 .*rollback to v1/);
    assert.match(r.stdout, /the server lists the definition of v2 now: blocked until approved/);
    const events = JSON.parse((await run(['security', 'events', '--json'])).stdout).events;
    assert.ok(events.some((e) => e.kind === 'tool_rolled_back' && e.tool === 'echo'), JSON.stringify(events));

    // Errors: not found (exit 3), nothing to go back to (exit 1), bad target (exit 2).
    assert.equal((await run(['tools', 'rollback', 'fx:echo', '--to', '9'])).code, 3);
    assert.equal((await run(['tools', 'rollback', 'fx:ghost'])).code, 3);
    assert.equal((await run(['tools', 'history', 'fx:ghost'])).code, 3);
    r = await run(['tools', 'rollback', 'fx:add']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no earlier definition/);
    assert.equal((await run(['tools', 'rollback', 'nocolon'])).code, 2);

    // A person decides: approving the presented definition releases it (v4).
    r = await run(['tools', 'approve', 'fx:echo']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => has('fx__echo'), { what: 'echo released by a new approval' });
    r = await run(['tools', 'rollback', 'fx:echo', '--to', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.version, 5);
    assert.equal(json.listed_blocked, true);
  });
});
