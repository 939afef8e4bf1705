// Tools: every tool of every server (approval state and call statistics), search across all of
// them through the proxy's own index (/api/v1/tools/search), and per tool: its definition,
// statistics, scanner findings and, for a changed tool, the diff against the approved version
// with an approve button.
import { api, query, seg } from '../api.js';
import { badge, busy, errorBox, formatMs, h, loading, openDialog, replace, table, timeCell, toast } from '../dom.js';

/** Line diff (LCS) of two texts: [{ op: ' ' | '-' | '+', text }]. */
export function diffLines(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  if (n * m > 4e6) return [...x.map((text) => ({ op: '-', text })), ...y.map((text) => ({ op: '+', text }))];
  const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) dp[i][j] = x[i] === y[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: ' ', text: x[i] });
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) out.push({ op: '-', text: x[i++] });
    else out.push({ op: '+', text: y[j++] });
  }
  while (i < n) out.push({ op: '-', text: x[i++] });
  while (j < m) out.push({ op: '+', text: y[j++] });
  return out;
}

const pretty = (value) => (value === null || value === undefined ? '' : JSON.stringify(value, null, 2));

// `record` is {hash, definition} (the API's diff) or a bare definition.
function definitionText(record) {
  const def = record?.definition ?? record;
  if (!def) return '';
  const { name, description, input_schema, inputSchema, annotations, ...rest } = def;
  return [`description:\n${description ?? ''}`, `input schema:\n${pretty(input_schema ?? inputSchema ?? {})}`,
    annotations ? `annotations:\n${pretty(annotations)}` : null,
    Object.keys(rest).length ? `other:\n${pretty(rest)}` : null].filter(Boolean).join('\n\n');
}

const fmtMs = formatMs;

export default {
  title: 'Tools',
  async render(root, ctx) {
    const search = h('input', {
      type: 'search', id: 'tool-search', placeholder: 'Search all tools, e.g. "read a file"', autocomplete: 'off', spellcheck: 'false',
      'aria-keyshortcuts': '/', 'aria-controls': 'tool-results', value: ctx.params.get('q') ?? '',
    });
    const serverFilter = h('select', { id: 'tool-server', 'aria-label': 'Server' }, h('option', { value: '', text: 'All servers' }));
    const results = h('div', { id: 'tool-results', 'aria-live': 'polite' });
    const count = h('p', { class: 'muted count', role: 'status' });
    replace(root,
      h('div', { class: 'page-head' }, h('h1', { text: 'Tools' })),
      h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); load(); } },
        h('label', { for: 'tool-search', class: 'sr-only', text: 'Search tools' }), search, serverFilter),
      count,
      results);
    results.appendChild(loading());

    let timer = null;
    let generation = 0;

    async function loadServers() {
      try {
        const data = await api('/servers');
        const selected = ctx.params.get('server') ?? serverFilter.value;
        replace(serverFilter, h('option', { value: '', text: 'All servers' }), (data.servers ?? []).map((s) => h('option', { value: s.name, text: s.name })));
        serverFilter.value = selected;
      } catch {
        // The list still works without the filter.
      }
    }

    // Search results may name tools with their exposed prefix (server__tool); show and fetch
    // them by the upstream's own name.
    const plainName = (server, name) => (name?.startsWith(`${server}__`) ? name.slice(server.length + 2) : name);

    function toolButton(server, name) {
      return h('button', { type: 'button', class: 'link tool-link', onclick: () => openTool(server, name), 'aria-label': `Details of ${server}__${name}` },
        h('span', { class: 'muted', text: `${server}__` }), h('strong', { text: name }));
    }

    async function load() {
      const q = search.value.trim();
      const server = serverFilter.value;
      ctx.setParams({ q, server });
      const mine = ++generation;
      try {
        if (q) {
          const data = await api(`/tools/search${query({ q, limit: 50 })}`);
          if (mine !== generation || !ctx.isCurrent()) return;
          let rows = (data.results ?? []).map((r) => ({ ...r, name: plainName(r.server, r.name) }));
          if (server) rows = rows.filter((r) => r.server === server);
          count.textContent = `${rows.length} result${rows.length === 1 ? '' : 's'} for “${q}”`;
          replace(results, table({
            caption: `Search results for ${q}`,
            className: 'tools-table',
            columns: [{ label: 'Tool' }, { label: 'Description', class: 'wrap' }, { label: 'Score', class: 'num' }],
            rows: rows.map((r) => ({ attrs: { dataset: { tool: `${r.server}__${r.name}` } }, cells: [toolButton(r.server, r.name), h('span', { class: 'clamp', text: r.description ?? '' }), typeof r.score === 'number' ? r.score.toFixed(2) : ''] })),
            empty: 'No tool matches. Quarantined servers and unapproved tools are not searchable.',
          }));
        } else {
          const data = await api(`/tools${query({ server })}`);
          if (mine !== generation || !ctx.isCurrent()) return;
          const tools = data.tools ?? [];
          count.textContent = `${tools.length} tool${tools.length === 1 ? '' : 's'}`;
          replace(results, table({
            caption: 'All tools',
            className: 'tools-table',
            columns: [{ label: 'Tool' }, { label: 'Approval' }, { label: 'Calls', class: 'num' }, { label: 'Errors', class: 'num' }, { label: 'p50', class: 'num' }, { label: 'Description', class: 'wrap' }],
            rows: tools.map((t) => ({
              attrs: { dataset: { tool: `${t.server}__${t.name}` } },
              cells: [toolButton(t.server, t.name), badge(t.approval ?? 'unknown'), String(t.stats?.calls ?? 0), String(t.stats?.errors ?? 0), t.stats?.calls ? fmtMs(t.stats.p50_ms) : '—', h('span', { class: 'clamp', text: t.description ?? '' })],
            })),
            empty: 'No tools. Servers list their tools once they are ready.',
          }));
        }
      } catch (err) {
        if (mine === generation && ctx.isCurrent() && err.status !== 401) replace(results, errorBox(err));
      }
    }

    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(load, 150);
    });
    search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && search.value) {
        search.value = '';
        load();
      } else if (e.key === 'ArrowDown') {
        const first = results.querySelector('.tool-link');
        if (first) {
          e.preventDefault();
          first.focus();
        }
      }
    });
    serverFilter.addEventListener('change', load);

    // -- Detail ---------------------------------------------------------------------------------

    async function openTool(server, name) {
      const body = h('div', { class: 'tool-detail' }, loading());
      const { dialog } = openDialog({ title: `${server}__${name}`, content: body, wide: true });
      async function fill() {
        let tool;
        try {
          tool = (await api(`/tools/${seg(server)}/${seg(name)}`)).tool;
        } catch (err) {
          if (err.status !== 401) replace(body, errorBox(err));
          return;
        }
        const stats = tool.stats ?? {};
        const approvable = ['changed', 'pending'].includes(tool.approval);
        const diffBox = h('div', { class: 'diff-box' });
        const approve = approvable ? h('button', { type: 'button', class: 'btn btn-primary', id: 'approve-tool' }, tool.approval === 'changed' ? 'Approve this change' : 'Approve tool') : null;
        approve?.addEventListener('click', () => busy(approve, async () => {
          await api(`/tools/${seg(server)}/${seg(name)}/approve`, { method: 'POST' });
          toast(`${server}__${name} approved`);
          dialog.close('approved');
          load();
        }));
        replace(body,
          h('p', {}, 'Approval: ', badge(tool.approval ?? 'unknown'),
            tool.approval === 'changed' ? h('span', { class: 'error-text', text: ' The definition changed since it was approved; calls are held back until you approve it.' }) : null,
            tool.approval === 'quarantined' ? h('span', { class: 'muted', text: ' The server is quarantined: review it on the Servers page.' }) : null),
          h('dl', { class: 'stats stats-inline' },
            h('div', { class: 'stat' }, h('dt', { class: 'stat-label', text: 'calls' }), h('dd', { class: 'stat-value', text: stats.calls ?? 0 })),
            h('div', { class: 'stat' }, h('dt', { class: 'stat-label', text: 'errors' }), h('dd', { class: 'stat-value', text: stats.errors ?? 0 })),
            h('div', { class: 'stat' }, h('dt', { class: 'stat-label', text: 'p50' }), h('dd', { class: 'stat-value', text: stats.calls ? fmtMs(stats.p50_ms) : '—' })),
            h('div', { class: 'stat' }, h('dt', { class: 'stat-label', text: 'last used' }), h('dd', { class: 'stat-value stat-small' }, timeCell(stats.last_used)))),
          h('h3', { text: 'Description' }),
          h('p', { class: 'tool-desc', text: tool.description || '(no description)' }),
          (tool.findings ?? []).length ? [h('h3', { text: 'Scanner findings' }), h('ul', { class: 'findings' }, tool.findings.map((f) => h('li', {}, badge(f.severity ?? 'warn'), ' ', h('strong', { text: f.rule ?? 'finding' }), ': ', f.detail ?? '')))] : null,
          h('details', {}, h('summary', { text: 'Input schema' }), h('pre', { class: 'code', text: pretty(tool.input_schema ?? {}) })),
          approvable ? h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'btn', id: 'show-diff', onclick: (e) => busy(e.currentTarget, showDiff) }, 'Show changes')) : null,
          diffBox,
          approve ? h('div', { class: 'dialog-actions' }, approve) : null);

        async function showDiff() {
          const diff = await api(`/tools/${seg(server)}/${seg(name)}/diff`);
          const before = definitionText(diff.approved);
          const after = definitionText(diff.current);
          const rows = diffLines(before, after);
          replace(diffBox,
            h('h3', { text: diff.approved ? 'Changes since approval' : 'Never approved: the whole definition is new' }),
            h('pre', { class: 'diff', 'aria-label': 'Differences: lines starting with minus were removed, plus were added' },
              rows.map((r) => h('span', { class: `diff-line diff-${r.op === '+' ? 'add' : r.op === '-' ? 'del' : 'same'}`, text: `${r.op} ${r.text}\n` }))));
        }
      }
      await fill();
    }

    ctx.on('tools.changed', () => load());
    await Promise.all([loadServers(), load()]);
    const focusSearch = () => {
      search.focus();
      search.select();
    };
    if (ctx.params.get('focus')) focusSearch();
    return { refresh: load, focusSearch, cleanup: () => clearTimeout(timer) };
  },
};
