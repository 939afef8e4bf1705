// The management CLI without a daemon: import from each client's config format, connect
// (dry run and real, with backup), doctor on good and broken setups, and the upstream / tools /
// call / status / logs commands working standalone on the config file and the database. Every
// command runs the built binary with HOME pointed at a temp dir, so the user's real client
// configs are never read or written. Secrets in the fixtures contain "SECRET" and must never
// appear in any output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { mcpproxy } from './cli_helpers.mjs';
import { FIXTURE_BIN, MCPPROXY_BIN, fixtureServer, makeTempDir } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const IMPORT_DATA = path.resolve(here, '..', 'data', 'import');

function assertNoSecrets(result) {
  assert.doesNotMatch(result.stdout, /SECRET/, 'a secret reached stdout');
  assert.doesNotMatch(result.stderr, /SECRET/, 'a secret reached stderr');
}

/** A fresh home, config and data dir. */
function setup(config = { listen: '127.0.0.1:18080', mcpServers: [] }) {
  const home = makeTempDir('mcpproxy-cli-home-');
  const dataDir = path.join(home, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const configPath = path.join(home, 'config.json');
  if (config) fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const flags = ['--config', configPath, '--data-dir', dataDir];
  return { home, dataDir, configPath, flags };
}

const readConfig = (configPath) => JSON.parse(fs.readFileSync(configPath, 'utf8'));
const serversOf = (config) =>
  Array.isArray(config.mcpServers)
    ? config.mcpServers
    : Object.entries(config.mcpServers).map(([name, entry]) => ({ name, ...entry }));

describe('mcpproxy import', () => {
  const cases = [
    ['claude-desktop', 'claude_desktop_config.json', ['filesystem', 'github', 'My-Notes']],
    ['claude-code', 'claude.json', ['sentry', 'everything', 'postgres', 'linear']],
    ['cursor', 'cursor_mcp.json', ['browser', 'remote', 'old-one']],
    ['vscode', 'vscode_mcp.json', ['memory', 'perplexity', 'github-remote']],
    ['vscode', 'vscode_settings.json', ['fetch']],
    ['codex', 'codex_config.toml', ['context7', 'db', 'figma']],
  ];
  for (const [client, file, expected] of cases) {
    test(`--from ${client} ${file}: servers added quarantined, secrets never printed`, async () => {
      const { home, configPath, flags } = setup();
      const result = await mcpproxy(['import', '--from', client, path.join(IMPORT_DATA, file), ...flags, '--json'], {
        home,
      });
      assert.equal(result.code, 0, result.stderr);
      assertNoSecrets(result);
      const report = JSON.parse(result.stdout);
      const added = report.servers.filter((s) => s.result === 'added').map((s) => s.name);
      assert.deepEqual(added, expected);
      const written = serversOf(readConfig(configPath));
      assert.deepEqual(written.map((s) => s.name), expected);
      for (const server of written) assert.equal(server.quarantined, true, server.name);
      // The written config is valid for the daemon's parser: upstream list reads it back.
      const list = await mcpproxy(['upstream', 'list', ...flags, '--json'], { home });
      assert.equal(list.code, 0, list.stderr);
      const listed = JSON.parse(list.stdout).servers;
      assert.deepEqual(listed.map((s) => s.name), expected);
      assert.ok(listed.every((s) => s.quarantined === true));
      // Env and header values never (arguments and URLs are shown as configured).
      assert.doesNotMatch(list.stdout, /ghp_|SECRETpg|SECRETsentry|SECRETcodex|SECRETcursor/);
    });
  }

  test('details survive the conversion (env, headers, protocol, disabled, timeouts)', async () => {
    const { home, configPath, flags } = setup();
    let r = await mcpproxy(['import', '--from', 'codex', path.join(IMPORT_DATA, 'codex_config.toml'), ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    r = await mcpproxy(['import', '--from', 'cursor', path.join(IMPORT_DATA, 'cursor_mcp.json'), ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    const byName = Object.fromEntries(serversOf(readConfig(configPath)).map((s) => [s.name, s]));
    assert.deepEqual(byName.db.env, { DB_TOKEN: 'SECRETcodex0123456789' });
    assert.equal(byName.db.call_timeout, 45);
    assert.deepEqual(byName.figma.headers, { 'X-Figma-Region': 'us-east-1' });
    assert.equal(byName.remote.url, 'http://localhost:3000/mcp');
    assert.equal(byName['old-one'].enabled, false);
    // Cursor's "broken" entry has neither command nor url: reported, not written.
    assert.equal(byName.broken, undefined);
  });

  test('the text report names keys only, redacts URL queries, and reports skips', async () => {
    const { home, flags } = setup();
    const r = await mcpproxy(['import', '--from', 'claude-code', path.join(IMPORT_DATA, 'claude.json'), ...flags], {
      home,
    });
    assert.equal(r.code, 0, r.stderr);
    assertNoSecrets(r);
    assert.match(r.stdout, /sentry\s+http\s+https:\/\/mcp\.sentry\.dev\/mcp\?token=\*\*\*\s+Authorization/);
    assert.match(r.stdout, /postgres .*PGPASSWORD.*added/);
    // The second project's "postgres" collides with the first: skipped and said so.
    assert.match(r.stdout, /postgres .*duplicate/);
    assert.match(r.stdout, /added 4 server\(s\), quarantined/);
  });

  test('--dry-run changes nothing; existing names are skipped and reported', async () => {
    const { home, configPath, flags } = setup({
      listen: '127.0.0.1:18080',
      mcpServers: { github: { command: 'gh-mcp' } },
    });
    const before = fs.readFileSync(configPath, 'utf8');
    const dry = await mcpproxy(
      ['import', '--from', 'claude-desktop', path.join(IMPORT_DATA, 'claude_desktop_config.json'), ...flags, '--dry-run'],
      { home },
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /filesystem .*would add/);
    assert.match(dry.stdout, /github .*exists/);
    assert.match(dry.stdout, /dry run: nothing written/);
    assert.equal(fs.readFileSync(configPath, 'utf8'), before);
    assertNoSecrets(dry);

    const real = await mcpproxy(
      ['import', '--from', 'claude-desktop', path.join(IMPORT_DATA, 'claude_desktop_config.json'), ...flags, '--json'],
      { home },
    );
    assert.equal(real.code, 0, real.stderr);
    const report = JSON.parse(real.stdout);
    assert.equal(report.servers.find((s) => s.name === 'github').result, 'exists');
    const config = readConfig(configPath);
    // The object form of the existing file is kept, and the existing entry is untouched.
    assert.ok(!Array.isArray(config.mcpServers));
    assert.deepEqual(config.mcpServers.github, { command: 'gh-mcp' });
    assert.deepEqual(Object.keys(config.mcpServers), ['github', 'filesystem', 'My-Notes']);
    assert.equal(config.listen, '127.0.0.1:18080');
  });

  test('default locations are read from HOME (and the project dir)', async () => {
    const { home, configPath, flags } = setup();
    const desktop = path.join(home, '.config', 'Claude');
    fs.mkdirSync(desktop, { recursive: true });
    fs.copyFileSync(path.join(IMPORT_DATA, 'claude_desktop_config.json'), path.join(desktop, 'claude_desktop_config.json'));
    let r = await mcpproxy(['import', '--from', 'claude-desktop', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(serversOf(readConfig(configPath)).length, 3);

    const project = makeTempDir('mcpproxy-cli-project-');
    fs.mkdirSync(path.join(project, '.vscode'));
    fs.copyFileSync(path.join(IMPORT_DATA, 'vscode_mcp.json'), path.join(project, '.vscode', 'mcp.json'));
    r = await mcpproxy(['import', '--from', 'vscode', ...flags, '--json'], { home, cwd: project });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).files.some((f) => f.endsWith(path.join('.vscode', 'mcp.json'))));
    assert.match(JSON.parse(r.stdout).warnings.join('\n'), /\$\{input:/);
  });

  test('errors: unknown client (2), nothing found (3), broken client file (1)', async () => {
    const { home, flags } = setup();
    let r = await mcpproxy(['import', '--from', 'notepad', ...flags], { home });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown client 'notepad'/);
    r = await mcpproxy(['import', '--from', 'cursor', ...flags], { home });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no cursor configuration found/);
    const bad = path.join(home, 'bad.toml');
    fs.writeFileSync(bad, '[mcp_servers.x\ncommand = 1\n');
    r = await mcpproxy(['import', '--from', 'codex', bad, ...flags], { home });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.toml:1/);
  });
});

describe('mcpproxy connect', () => {
  test('--dry-run prints the change and writes nothing', async () => {
    const { home, flags } = setup();
    const file = path.join(home, '.cursor', 'mcp.json');
    fs.mkdirSync(path.dirname(file));
    fs.copyFileSync(path.join(IMPORT_DATA, 'cursor_mcp.json'), file);
    const before = fs.readFileSync(file, 'utf8');
    const r = await mcpproxy(['connect', 'cursor', '--dry-run', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\+ +"mcpproxy": \{/);
    assert.match(r.stdout, /"url": "http:\/\/127\.0\.0\.1:18080\/mcp"/);
    assert.match(r.stdout, /dry run: nothing written/);
    assertNoSecrets(r);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['mcp.json']);
  });

  test('writes the entry, keeps every other key, makes a backup; a second run changes nothing', async () => {
    const { home, flags } = setup();
    const file = path.join(home, '.claude.json');
    fs.copyFileSync(path.join(IMPORT_DATA, 'claude.json'), file);
    const original = JSON.parse(fs.readFileSync(file, 'utf8'));
    const r = await mcpproxy(['connect', 'claude-code', ...flags, '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.changed, true);
    assert.ok(out.backup && fs.existsSync(out.backup));
    assert.deepEqual(JSON.parse(fs.readFileSync(out.backup, 'utf8')), original);
    const after = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(after.mcpServers.mcpproxy, { type: 'http', url: 'http://127.0.0.1:18080/mcp' });
    const { mcpproxy: added, ...rest } = after.mcpServers;
    assert.deepEqual(rest, original.mcpServers);
    assert.deepEqual(after.projects, original.projects);
    assert.equal(after.numStartups, 12);

    const again = await mcpproxy(['connect', 'claude-code', ...flags], { home });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to do/);
    assert.equal(fs.readdirSync(home).filter((f) => f.startsWith('.claude.json.bak-')).length, 1);
  });

  test('a symlinked config is edited where it points; the link stays', async () => {
    const { home, flags } = setup();
    const real = path.join(home, 'dotfiles-cursor.json');
    fs.copyFileSync(path.join(IMPORT_DATA, 'cursor_mcp.json'), real);
    fs.mkdirSync(path.join(home, '.cursor'));
    const link = path.join(home, '.cursor', 'mcp.json');
    fs.symlinkSync(real, link);
    const r = await mcpproxy(['connect', 'cursor', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(JSON.parse(fs.readFileSync(real, 'utf8')).mcpServers.mcpproxy.url, 'http://127.0.0.1:18080/mcp');
  });

  test('claude-desktop gets a stdio entry; a missing file is created', async () => {
    const { home, configPath, dataDir, flags } = setup();
    const r = await mcpproxy(['connect', 'claude-desktop', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(home, '.config', 'Claude', 'claude_desktop_config.json');
    const written = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(written.mcpServers.mcpproxy.command, fs.realpathSync(MCPPROXY_BIN));
    assert.deepEqual(written.mcpServers.mcpproxy.args, ['serve', '--stdio', '--config', configPath, '--data-dir', dataDir]);
  });

  test('vscode (JSON with comments) and codex (TOML) keep their other content', async () => {
    const { home, flags } = setup();
    const vscode = path.join(home, 'mcp.json');
    fs.copyFileSync(path.join(IMPORT_DATA, 'vscode_mcp.json'), vscode);
    let r = await mcpproxy(['connect', 'vscode', '--file', vscode, ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /comments or trailing commas/);
    assertNoSecrets(r);
    const v = JSON.parse(fs.readFileSync(vscode, 'utf8'));
    assert.deepEqual(v.servers.mcpproxy, { type: 'http', url: 'http://127.0.0.1:18080/mcp' });
    assert.equal(v.servers.memory.command, 'npx');
    assert.equal(v.inputs[0].id, 'api-key');

    const codexHome = path.join(home, '.codex');
    fs.mkdirSync(codexHome);
    const toml = path.join(codexHome, 'config.toml');
    fs.copyFileSync(path.join(IMPORT_DATA, 'codex_config.toml'), toml);
    r = await mcpproxy(['connect', 'codex', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assertNoSecrets(r);
    const text = fs.readFileSync(toml, 'utf8');
    assert.match(text, /\[mcp_servers\.mcpproxy\]\ncommand = ".*mcpproxy"\nargs = \["serve", "--stdio"/);
    assert.match(text, /model = "o4-mini"/);
    assert.match(text, /DB_TOKEN/);
    assert.match(text, /\[profiles\.fast\]/);
    // Importing it back finds the other servers plus mcpproxy's own entry, so the TOML is valid.
    const back = await mcpproxy(['import', '--from', 'codex', '--dry-run', ...flags, '--json'], { home });
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(JSON.parse(back.stdout).servers.map((s) => s.name), ['context7', 'db', 'figma', 'mcpproxy']);
    // Connecting again replaces the table instead of adding a second one.
    r = await mcpproxy(['connect', 'codex', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(toml, 'utf8').match(/\[mcp_servers\.mcpproxy\]/g).length, 1);
  });
});

describe('mcpproxy doctor', () => {
  test('a good setup passes (fixture runtime found, data dir private)', async () => {
    const { home, flags } = setup({ listen: '127.0.0.1:0', mcpServers: [fixtureServer('fx')] });
    const r = await mcpproxy(['doctor', ...flags, '--json'], { home });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, true);
    const byCheck = (name) => report.checks.find((c) => c.check === name);
    assert.equal(byCheck('config').status, 'ok');
    assert.equal(byCheck('listen').status, 'ok');
    assert.equal(byCheck('data dir').status, 'ok');
    assert.equal(byCheck(`runtime ${FIXTURE_BIN}`).status, 'ok');
    assert.equal(byCheck('daemon').status, 'warn');
  });

  test('node runtimes are reported with their version', async () => {
    const { home, flags } = setup({ listen: '127.0.0.1:0', mcpServers: [{ name: 'n', command: 'node', args: ['x.js'] }] });
    const r = await mcpproxy(['doctor', ...flags], { home, env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` } });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, new RegExp(`ok\\s+runtime node\\s+.*\\(${process.version.replace(/\./g, '\\.')}\\) for n`));
  });

  test('a broken config, a missing runtime, a busy port and an open data dir are reported', async () => {
    let { home, configPath, flags } = setup(null);
    fs.writeFileSync(configPath, '{"mcpServers": [{"name": "x", "command": 5}]}');
    let r = await mcpproxy(['doctor', ...flags], { home });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /fail\s+config\s+.*mcpServers\[0\]\.command: expected a string/);

    ({ home, flags } = setup({
      listen: '127.0.0.1:0',
      mcpServers: [{ name: 'ghost', command: 'no-such-runtime-xyz', args: [] }],
    }));
    r = await mcpproxy(['doctor', ...flags], { home });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /fail\s+runtime no-such-runtime-xyz\s+not found on PATH \(needed by ghost\)/);

    const net = await import('node:net');
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = server.address().port;
    try {
      const s = setup({ listen: `127.0.0.1:${port}`, mcpServers: [] });
      fs.chmodSync(s.dataDir, 0o755);
      r = await mcpproxy(['doctor', ...s.flags, '--json'], { home: s.home });
      assert.equal(r.code, 1);
      const checks = JSON.parse(r.stdout).checks;
      assert.equal(checks.find((c) => c.check === 'listen').status, 'fail');
      assert.match(checks.find((c) => c.check === 'data dir').detail, /mode 0755/);
    } finally {
      server.close();
    }
  });
});

describe('standalone management (no daemon running)', () => {
  test('upstream add / list / disable / enable / remove edit the config', async () => {
    const { home, configPath, flags } = setup();
    let r = await mcpproxy(
      ['upstream', 'add', 'fx', '--command', FIXTURE_BIN, '--env', 'FX_TOKEN=SECRETadd0123456789', ...flags, '--', '--name', 'fx'],
      { home },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /added server 'fx' \(quarantined\)/);
    let entry = serversOf(readConfig(configPath))[0];
    assert.deepEqual(entry.args, ['--name', 'fx']);
    assert.equal(entry.quarantined, true);

    r = await mcpproxy(['upstream', 'list', ...flags, '--json'], { home });
    assert.equal(r.code, 0);
    assertNoSecrets(r);
    const [listed] = JSON.parse(r.stdout).servers;
    assert.equal(listed.name, 'fx');
    assert.equal(listed.state, 'stopped');
    assert.deepEqual(listed.env_keys, ['FX_TOKEN']);
    assert.equal(JSON.parse(r.stdout).daemon, false);

    r = await mcpproxy(['upstream', 'add', 'fx', '--command', 'x', ...flags], { home });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists/);
    r = await mcpproxy(['upstream', 'add', 'bad name', '--command', 'x', ...flags], { home });
    assert.equal(r.code, 2);
    r = await mcpproxy(['upstream', 'add', 'both', '--command', 'x', '--url', 'http://a/', ...flags], { home });
    assert.equal(r.code, 2);

    r = await mcpproxy(['upstream', 'disable', 'fx', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(serversOf(readConfig(configPath))[0].enabled, false);
    r = await mcpproxy(['upstream', 'list', ...flags], { home });
    assert.match(r.stdout, /fx\s+disabled\s+no\s+yes/);
    r = await mcpproxy(['upstream', 'enable', 'fx', ...flags], { home });
    assert.equal(serversOf(readConfig(configPath))[0].enabled, true);
    r = await mcpproxy(['upstream', 'enable', 'nope', ...flags], { home });
    assert.equal(r.code, 3);

    r = await mcpproxy(['upstream', 'restart', 'fx', ...flags], { home });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /daemon is not running/);

    r = await mcpproxy(['upstream', 'remove', 'fx', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(serversOf(readConfig(configPath)), []);
    r = await mcpproxy(['upstream', 'remove', 'fx', ...flags], { home });
    assert.equal(r.code, 3);
  });

  test('call starts the one upstream, calls, stops; quarantine and unknown tools refused', async () => {
    const { home, dataDir, flags } = setup({
      listen: '127.0.0.1:0',
      mcpServers: [fixtureServer('fx', [], { quarantined: false }), fixtureServer('newbie')],
    });
    let r = await mcpproxy(['call', 'fx:echo', '--args', '{"message":"hello cli"}', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'hello cli');
    r = await mcpproxy(['call', 'fx:echo', '--args', '{"message":"j"}', ...flags, '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).content[0].text, 'j');

    r = await mcpproxy(['call', 'newbie:echo', '--args', '{"message":"x"}', ...flags], { home });
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /quarantined.*mcpproxy upstream approve newbie/s);
    r = await mcpproxy(['call', 'fx:no_such_tool', ...flags], { home });
    assert.equal(r.code, 3);
    r = await mcpproxy(['call', 'ghost:echo', ...flags], { home });
    assert.equal(r.code, 3);
    r = await mcpproxy(['call', 'fx:echo', '--args', '[1]', ...flags], { home });
    assert.equal(r.code, 2);
    r = await mcpproxy(['call', 'fxecho', ...flags], { home });
    assert.equal(r.code, 2);
    // The upstream's stderr went to its log, which `upstream logs` reads without a daemon.
    r = await mcpproxy(['upstream', 'logs', 'fx', ...flags, '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Array.isArray(JSON.parse(r.stdout).lines));
    assert.ok(fs.existsSync(path.join(dataDir, 'logs', 'fx.log')));
    r = await mcpproxy(['upstream', 'logs', 'ghost', ...flags], { home });
    assert.equal(r.code, 3);
  });

  test('status without a daemon: config facts, how to find the key, never the key itself', async () => {
    const { home, configPath, dataDir, flags } = setup({
      listen: '127.0.0.1:18099',
      api_key: 'SECRETapikey0123456789',
      mcpServers: [fixtureServer('a'), fixtureServer('b', [], { quarantined: false })],
    });
    // A stale socket file (a daemon that died) is not a running daemon.
    fs.writeFileSync(path.join(dataDir, 'mcpproxy.sock'), '');
    let r = await mcpproxy(['status', ...flags], { home });
    assert.equal(r.code, 0, r.stderr);
    assertNoSecrets(r);
    assert.match(r.stdout, /daemon:\s+not running/);
    assert.match(r.stdout, /endpoint:\s+http:\/\/127\.0\.0\.1:18099\/mcp/);
    assert.match(r.stdout, /servers:\s+2 total, 0 ready, 1 quarantined/);
    assert.ok(r.stdout.includes(`api key:    in ${configPath} under "api_key"`));
    r = await mcpproxy(['status', ...flags, '--json'], { home });
    const status = JSON.parse(r.stdout);
    assert.equal(status.running, false);
    assert.equal(status.api_key.set, true);
    assert.equal(status.api_key.value, undefined);
    r = await mcpproxy(['status', ...flags, '--show-key', '--json'], { home });
    assert.equal(JSON.parse(r.stdout).api_key.value, 'SECRETapikey0123456789');
  });

  test('usage errors exit 2; help exits 0', async () => {
    let r = await mcpproxy(['upstream', 'frobnicate']);
    assert.equal(r.code, 2);
    r = await mcpproxy(['upstream', 'add']);
    assert.equal(r.code, 2);
    r = await mcpproxy(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /import/);
  });
});
