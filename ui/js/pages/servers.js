// Servers: the configured upstreams with their actions (enable/disable, restart, logs, edit,
// remove), the add/edit form for stdio and HTTP servers, and the review flow for quarantined
// servers: their tools and the scanner's findings first, then the approval.
import { api, query, seg } from '../api.js';
import { badge, busy, errorBox, field, h, loading, openDialog, replace, serverBadge, table, toast } from '../dom.js';

const NAME_PATTERN = '[A-Za-z0-9_.\\-]{1,64}';

/** "KEY=VALUE" (or "Key: Value" for headers) lines to an object; throws on a malformed line. */
function parsePairs(text, separator, what) {
  const out = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf(separator);
    if (at <= 0) throw new Error(`${what} line ${i + 1}: expected KEY${separator}VALUE`);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

const lines = (text) => text.split('\n').map((s) => s.trim()).filter(Boolean);

function commandText(server) {
  if (server.url) return server.url;
  return [server.command, ...(server.args ?? [])].filter(Boolean).join(' ');
}

export default {
  title: 'Servers',
  async render(root, ctx) {
    const listBox = h('div');
    const addButton = h('button', { type: 'button', class: 'btn btn-primary', id: 'add-server', 'aria-keyshortcuts': 'n', onclick: () => openForm(null) }, 'Add server');
    replace(root,
      h('div', { class: 'page-head' }, h('h1', { text: 'Servers' }), addButton),
      listBox);
    listBox.appendChild(loading());

    let servers = [];

    function actionsFor(server) {
      const name = server.name;
      const act = (label, path, done, extra = {}) =>
        h('button', {
          type: 'button', class: 'btn btn-small', ...extra,
          'aria-label': `${label} ${name}`,
          onclick: (e) => busy(e.currentTarget, async () => {
            await api(`/servers/${seg(name)}/${path}`, { method: 'POST' });
            toast(`${name}: ${done}`);
            await load();
          }),
        }, label);
      return h('div', { class: 'actions' },
        server.quarantined ? h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Review ${name}`, onclick: () => openReview(name) }, 'Review') : null,
        server.enabled === false ? act('Enable', 'enable', 'enabled') : act('Disable', 'disable', 'disabled'),
        act('Restart', 'restart', 'restarting', { disabled: server.enabled === false }),
        h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Logs of ${name}`, onclick: () => openLogs(name) }, 'Logs'),
        h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Edit ${name}`, onclick: () => openForm(server) }, 'Edit'),
        h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Remove ${name}`, onclick: () => confirmRemove(name) }, 'Remove'));
    }

    function renderList() {
      replace(listBox, table({
        caption: 'Configured servers',
        className: 'servers-table',
        columns: [{ label: 'Name' }, { label: 'State' }, { label: 'Tools', class: 'num' }, { label: 'Command or URL', class: 'wrap' }, { label: 'Last error', class: 'wrap' }, { label: 'Actions' }],
        rows: servers.map((s) => ({
          attrs: { dataset: { server: s.name } },
          cells: [
            h('strong', { text: s.name }),
            serverBadge(s),
            String(s.tool_count ?? 0),
            h('code', { class: 'cmd', title: commandText(s), text: commandText(s) }),
            s.last_error ? h('span', { class: 'error-text', text: s.last_error }) : h('span', { class: 'muted', text: '—' }),
            actionsFor(s),
          ],
        })),
        empty: 'No servers yet. Add one with the button above (or press n).',
      }));
    }

    async function load() {
      try {
        const data = await api('/servers');
        if (!ctx.isCurrent()) return;
        servers = data.servers ?? [];
        renderList();
      } catch (err) {
        if (ctx.isCurrent() && err.status !== 401) replace(listBox, errorBox(err));
      }
    }

    // -- Add / edit form ------------------------------------------------------------------------

    function openForm(server) {
      const editing = Boolean(server);
      const protocol = server?.protocol && server.protocol !== 'auto' ? server.protocol : (server?.url ? 'http' : 'stdio');
      const name = h('input', { name: 'name', required: true, pattern: NAME_PATTERN, autocomplete: 'off', spellcheck: 'false', value: server?.name ?? '', disabled: editing });
      const proto = h('select', { name: 'protocol' },
        h('option', { value: 'stdio', text: 'stdio (a local command)' }),
        h('option', { value: 'http', text: 'Streamable HTTP (a URL)' }),
        h('option', { value: 'sse', text: 'HTTP+SSE (legacy URL)' }));
      proto.value = ['stdio', 'http', 'sse'].includes(protocol) ? protocol : 'stdio';
      const command = h('input', { name: 'command', autocomplete: 'off', spellcheck: 'false', value: server?.command ?? '', placeholder: 'npx' });
      const args = h('textarea', { name: 'args', rows: 3, spellcheck: 'false', placeholder: '-y\n@modelcontextprotocol/server-everything' });
      args.value = (server?.args ?? []).join('\n');
      const workingDir = h('input', { name: 'working_dir', autocomplete: 'off', spellcheck: 'false', value: server?.working_dir ?? '' });
      const env = h('textarea', { name: 'env', rows: 2, spellcheck: 'false', placeholder: editing && server.env_keys?.length ? `${server.env_keys.join('=…\n')}=…` : 'API_TOKEN=…' });
      const url = h('input', { name: 'url', type: 'url', autocomplete: 'off', spellcheck: 'false', value: server?.url ?? '', placeholder: 'https://example.com/mcp' });
      const headers = h('textarea', { name: 'headers', rows: 2, spellcheck: 'false', placeholder: editing && server.header_keys?.length ? `${server.header_keys.join(': …\n')}: …` : 'Authorization: Bearer …' });
      const trust = h('select', { name: 'trust_mode' },
        h('option', { value: 'manual', text: 'manual: approve every new or changed tool' }),
        h('option', { value: 'scan', text: 'scan: approve automatically when the scanner finds nothing' }),
        h('option', { value: 'auto', text: 'auto: trust whatever the server lists' }));
      trust.value = server?.trust_mode ?? 'manual';
      const enabled = h('input', { type: 'checkbox', name: 'enabled', id: 'server-form-enabled', checked: server ? server.enabled !== false : true });
      const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
      const keep = editing ? ' Values are never shown; leave empty to keep the current ones.' : '';

      const stdioFields = h('fieldset', { class: 'group' }, h('legend', { text: 'Local process' }),
        field('Command', command, 'The program to start, e.g. npx, uvx, node or an absolute path.'),
        field('Arguments', args, 'One argument per line.'),
        field('Working directory', workingDir),
        field('Environment', env, `KEY=VALUE, one per line.${keep}`));
      const httpFields = h('fieldset', { class: 'group' }, h('legend', { text: 'Remote endpoint' }),
        field('URL', url),
        field('Headers', headers, `Name: value, one per line.${keep}`));
      const syncProtocol = () => {
        const stdio = proto.value === 'stdio';
        stdioFields.hidden = !stdio;
        httpFields.hidden = stdio;
        command.required = stdio;
        url.required = !stdio;
      };
      proto.addEventListener('change', syncProtocol);
      syncProtocol();

      const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save' : 'Add server');
      const form = h('form', { class: 'form', novalidate: true, 'aria-label': editing ? `Edit ${server.name}` : 'Add a server' },
        field('Name', name, editing ? 'Names cannot change.' : 'Letters, digits, _ - . (tools are exposed as name__tool).'),
        field('Transport', proto),
        stdioFields,
        httpFields,
        field('Trust', trust),
        h('div', { class: 'field field-inline' }, enabled, h('label', { for: enabled.id, text: 'Enabled' })),
        editing ? null : h('p', { class: 'callout callout-quarantine', text: 'New servers start quarantined: their tools stay hidden from AI clients until you review and approve them.' }),
        error,
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'),
          submit));

      const { dialog } = openDialog({ title: editing ? `Edit ${server.name}` : 'Add a server', content: form });
      (editing ? proto : name).focus();

      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        error.hidden = true;
        let body;
        try {
          body = buildBody();
        } catch (err) {
          error.textContent = err.message;
          error.hidden = false;
          return;
        }
        await busy(submit, async () => {
          try {
            if (editing && Object.keys(body).length === 0) {
              dialog.close('unchanged');
              toast(`${server.name}: nothing changed`);
              return;
            }
            const path = editing ? `/servers/${seg(server.name)}` : '/servers';
            const answer = await api(path, { method: editing ? 'PATCH' : 'POST', body });
            dialog.close('ok');
            const saved = answer?.server ?? body;
            toast(editing ? `${saved.name}: saved` : `${saved.name} added${saved.quarantined ? ' (quarantined)' : ''}`);
            await load();
          } catch (err) {
            if (err.status === 401) return;
            error.textContent = err.message;
            error.hidden = false;
          }
        });
      });

      function buildBody() {
        if (!editing && !new RegExp(`^${NAME_PATTERN}$`).test(name.value.trim())) {
          name.focus();
          throw new Error('Name: use 1-64 characters of A-Z a-z 0-9 _ - .');
        }
        const stdio = proto.value === 'stdio';
        const body = { protocol: proto.value, trust_mode: trust.value, enabled: enabled.checked };
        if (!editing) body.name = name.value.trim();
        if (stdio) {
          if (!command.value.trim()) {
            command.focus();
            throw new Error('Command: required for a stdio server.');
          }
          body.command = command.value.trim();
          body.args = lines(args.value);
          body.working_dir = workingDir.value.trim();
          if (env.value.trim() || !editing) body.env = parsePairs(env.value, '=', 'Environment');
          if (editing) body.url = '';
        } else {
          if (!/^https?:\/\//.test(url.value.trim())) {
            url.focus();
            throw new Error('URL: must start with http:// or https://');
          }
          body.url = url.value.trim();
          if (headers.value.trim() || !editing) body.headers = parsePairs(headers.value, ':', 'Headers');
          if (editing) body.command = '';
        }
        if (!editing) return body;
        // PATCH only what changed: connection fields restart the upstream.
        const changed = {};
        const current = { trust_mode: 'manual', ...server, protocol };
        for (const [key, value] of Object.entries(body)) {
          if (key === 'env' || key === 'headers') changed[key] = value;
          else if (JSON.stringify(value) !== JSON.stringify(current[key] ?? (Array.isArray(value) ? [] : typeof value === 'boolean' ? !value : ''))) changed[key] = value;
        }
        return changed;
      }
    }

    // -- Review and approve ---------------------------------------------------------------------

    async function openReview(name) {
      const content = h('div', { class: 'review' }, loading('Loading tools and scanner findings…'));
      const approve = h('button', { type: 'button', class: 'btn btn-primary', disabled: true, id: 'approve-server' }, 'Approve');
      const actions = h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Keep quarantined'),
        approve);
      const { dialog, closed } = openDialog({ title: `Review ${name}`, content: h('div', {}, content, actions), wide: true });
      closed.then(() => ctx.isCurrent() && ctx.setParams({}));

      async function fill() {
        let tools = [];
        let findings = [];
        let server = null;
        try {
          const [t, f, s] = await Promise.all([
            api(`/servers/${seg(name)}/tools`),
            api(`/security/scan${query({ server: name })}`),
            api(`/servers/${seg(name)}`),
          ]);
          tools = t.tools ?? [];
          findings = f.findings ?? [];
          server = s.server;
        } catch (err) {
          if (err.status !== 401) replace(content, errorBox(err));
          return;
        }
        // The scan endpoint sees all servers (shadowing, cross-references); a tool's own findings
        // add what it may have missed. The same finding (rule, field, detail) shows once, counted.
        const byTool = new Map();
        const add = (toolName, finding) => {
          if (!byTool.has(toolName)) byTool.set(toolName, new Map());
          const key = `${finding.rule}|${finding.field ?? ''}|${finding.detail}`;
          const seen = byTool.get(toolName).get(key);
          if (seen) seen.count += 1;
          else byTool.get(toolName).set(key, { ...finding, count: 1 });
        };
        for (const finding of findings) add(finding.tool, finding);
        for (const tool of tools) {
          const known = byTool.get(tool.name);
          for (const finding of tool.findings ?? []) {
            const key = `${finding.rule}|${finding.field ?? ''}|${finding.detail}`;
            if (!known?.has(key)) add(tool.name, finding);
          }
        }
        for (const [name, map] of byTool) byTool.set(name, [...map.values()]);
        const total = [...byTool.values()].reduce((n, l) => n + l.length, 0);
        const severe = [...byTool.values()].flat().filter((f) => ['high', 'critical', 'block', 'error'].includes(String(f.severity).toLowerCase())).length;
        const intro = h('div', { class: 'review-summary' },
          h('p', {}, 'State: ', server ? serverBadge(server) : badge('unknown'),
            ` · ${tools.length} tool${tools.length === 1 ? '' : 's'} · `,
            h('span', { class: total ? 'error-text' : '', id: 'review-findings-count', text: `${total} scanner finding${total === 1 ? '' : 's'}` })),
          h('p', { class: 'muted', text: 'Approving releases the quarantine and pins these tool definitions: a later change to any of them is held back until approved again.' }));
        if (tools.length === 0) {
          replace(content, intro,
            h('p', { class: 'callout', text: server?.state === 'connecting' ? 'The server is still connecting; its tools are not known yet.' : 'The server lists no tools (yet). It may have failed to start: check its logs.' }),
            h('button', { type: 'button', class: 'btn btn-small', onclick: fill }, 'Reload'));
        } else {
          // Tools with findings first: that is where the reviewer should look.
          const ordered = [...tools].sort((a, b) => Number(Boolean(byTool.get(b.name)?.length)) - Number(Boolean(byTool.get(a.name)?.length)));
          const list = h('ol', { class: 'review-tools', 'aria-label': `Tools of ${name}` }, ordered.map((tool) => {
            const toolFindings = byTool.get(tool.name) ?? [];
            return h('li', { class: toolFindings.length ? 'has-findings' : '', dataset: { tool: tool.name } },
              h('div', { class: 'review-tool-head' }, h('code', { class: 'tool-name', text: tool.name }), tool.approval ? badge(tool.approval) : null,
                toolFindings[0]?.verdict ? badge(toolFindings[0].verdict, `scanner: ${toolFindings[0].verdict}`) : null),
              h('p', { class: 'tool-desc', text: tool.description || '(no description)' }),
              toolFindings.length ? h('ul', { class: 'findings' }, toolFindings.map((f) =>
                h('li', {}, badge(f.severity ?? 'warn'), ' ', h('strong', { text: f.rule ?? 'finding' }), ': ', f.detail ?? '',
                  f.field ? h('span', { class: 'muted', text: ` (${f.field})` }) : null,
                  f.count > 1 ? h('span', { class: 'muted', text: ` ×${f.count}` }) : null))) : null);
          }));
          replace(content, intro, list);
        }
        approve.disabled = false;
        approve.textContent = severe ? `Approve anyway (${tools.length} tools)` : `Approve ${tools.length} tool${tools.length === 1 ? '' : 's'}`;
        if (severe) approve.classList.add('btn-danger');
      }

      approve.addEventListener('click', () => busy(approve, async () => {
        await api(`/servers/${seg(name)}/approve`, { method: 'POST' });
        dialog.close('approved');
        toast(`${name} approved`);
        await load();
      }));
      await fill();
      if (!approve.disabled) approve.focus();
    }

    // -- Logs -----------------------------------------------------------------------------------

    function openLogs(name) {
      const pre = h('pre', { class: 'logs', tabindex: 0, 'aria-label': `Log of ${name}` });
      const count = h('select', { 'aria-label': 'Lines' }, [100, 500, 2000].map((n) => h('option', { value: n, text: `last ${n} lines` })));
      const refresh = h('button', { type: 'button', class: 'btn btn-small' }, 'Refresh');
      const loadLogs = () => busy(refresh, async () => {
        const data = await api(`/servers/${seg(name)}/logs${query({ lines: count.value })}`);
        const text = (data.lines ?? []).join('\n');
        pre.textContent = text || '(empty)';
        pre.scrollTop = pre.scrollHeight;
      });
      refresh.addEventListener('click', loadLogs);
      count.addEventListener('change', loadLogs);
      openDialog({ title: `Logs of ${name}`, wide: true, content: h('div', {}, h('div', { class: 'toolbar' }, count, refresh), pre) });
      loadLogs();
      pre.focus();
    }

    // -- Remove ---------------------------------------------------------------------------------

    function confirmRemove(name) {
      const remove = h('button', { type: 'button', class: 'btn btn-danger' }, 'Remove');
      const { dialog } = openDialog({
        title: `Remove ${name}?`,
        content: h('div', {}, h('p', { text: `${name} is removed from the configuration and stopped. Its tools disappear from every client.` }),
          h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: () => dialog.close('cancel') }, 'Cancel'), remove)),
      });
      remove.addEventListener('click', () => busy(remove, async () => {
        await api(`/servers/${seg(name)}`, { method: 'DELETE' });
        dialog.close('removed');
        toast(`${name} removed`);
        await load();
      }));
      remove.focus();
    }

    ctx.on('server.state', (event) => {
      const server = servers.find((s) => s.name === event.name);
      if (!server) return load();
      server.state = event.state;
      if (event.last_error !== undefined) server.last_error = event.last_error;
      // Update the row's state cell in place (keeps keyboard focus on the row's buttons).
      const row = listBox.querySelector(`tr[data-server="${CSS.escape(server.name)}"]`);
      if (row) replace(row.children[1], serverBadge(server));
      else renderList();
      return undefined;
    });
    ctx.on('servers.changed', load);
    ctx.on('tools.changed', load);

    await load();
    if (ctx.params.get('add')) openForm(null);
    else if (ctx.params.get('review')) openReview(ctx.params.get('review'));
    return { refresh: load, create: () => openForm(null) };
  },
};
