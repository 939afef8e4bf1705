// Dashboard: the proxy's status, every server with its state, tool count and last error (live
// from server.state events), and the latest tool calls.
import { api } from '../api.js';
import { badge, breakable, errorBox, formatMs, h, loading, replace, serverBadge, table, timeCell } from '../dom.js';

export default {
  title: 'Dashboard',
  async render(root, ctx) {
    const summary = h('div', { class: 'stats', 'aria-label': 'Summary' });
    const grid = h('div', { class: 'server-grid', id: 'server-grid' });
    const recent = h('div');
    replace(root,
      h('div', { class: 'page-head' }, h('h1', { text: 'Dashboard' })),
      summary,
      h('section', { 'aria-labelledby': 'dash-servers' },
        h('div', { class: 'section-head' }, h('h2', { id: 'dash-servers', text: 'Servers' }), h('a', { href: '#/servers', class: 'btn btn-small', text: 'Manage servers' })),
        grid),
      h('section', { 'aria-labelledby': 'dash-activity' },
        h('div', { class: 'section-head' }, h('h2', { id: 'dash-activity', text: 'Recent tool calls' }), h('a', { href: '#/activity', class: 'btn btn-small', text: 'All activity' })),
        recent));
    grid.appendChild(loading());

    let servers = [];
    let calls = [];

    const stat = (label, value, kind = '') => h('div', { class: `stat ${kind}` }, h('div', { class: 'stat-value', text: value }), h('div', { class: 'stat-label', text: label }));

    function renderSummary(status) {
      const counts = status?.servers ?? {};
      replace(summary,
        stat('servers', counts.total ?? servers.length),
        stat('ready', counts.ready ?? servers.filter((s) => s.state === 'ready').length, 'stat-ok'),
        stat('quarantined', counts.quarantined ?? servers.filter((s) => s.quarantined).length, 'stat-quarantine'),
        stat('failed', counts.failed ?? servers.filter((s) => s.state === 'failed').length, 'stat-bad'),
        stat('tools', status?.tool_count ?? servers.reduce((n, s) => n + (s.tool_count ?? 0), 0)));
    }

    function card(server) {
      return h('article', { class: `server-card${server.quarantined ? ' is-quarantined' : ''}`, dataset: { server: server.name }, 'aria-label': `Server ${server.name}` },
        h('div', { class: 'server-card-head' },
          h('h3', { class: 'server-name', text: server.name }),
          h('span', { class: 'server-state' }, serverBadge(server))),
        h('dl', { class: 'facts' },
          h('div', {}, h('dt', { text: 'Tools' }), h('dd', { class: 'tool-count', text: server.tool_count ?? 0 })),
          h('div', {}, h('dt', { text: 'Transport' }), h('dd', { text: server.protocol || (server.url ? 'http' : 'stdio') })),
          h('div', {}, h('dt', { text: 'Enabled' }), h('dd', { text: server.enabled === false ? 'no' : 'yes' }))),
        h('p', { class: 'last-error', hidden: !server.last_error, title: server.last_error || '' }, h('span', { text: server.last_error || '' })),
        server.quarantined ? h('a', { class: 'btn btn-small btn-primary', href: `#/servers?review=${encodeURIComponent(server.name)}`, text: 'Review and approve' }) : null);
    }

    function renderServers() {
      if (servers.length === 0) {
        replace(grid, h('div', { class: 'empty' }, h('p', { text: 'No servers configured yet.' }), h('a', { href: '#/servers?add=1', class: 'btn btn-primary', text: 'Add a server' })));
        return;
      }
      replace(grid, servers.map(card));
    }

    function renderCalls() {
      replace(recent, table({
        caption: 'Recent tool calls',
        className: 'keep-table',
        columns: [{ label: 'Time' }, { label: 'Server' }, { label: 'Tool', class: 'wrap-words' }, { label: 'Status' }, { label: 'Duration', class: 'num hide-narrow' }],
        rows: calls.slice(0, 10).map((c) => ({ cells: [timeCell(c.time), breakable(c.server), breakable(c.tool), badge(c.status), formatMs(c.duration_ms)] })),
        empty: 'No tool calls yet.',
      }));
    }

    async function load() {
      try {
        const [status, list, act] = await Promise.all([api('/status'), api('/servers'), api('/activity?limit=10').catch(() => ({ activity: [] }))]);
        if (!ctx.isCurrent()) return;
        servers = list.servers ?? [];
        calls = act.activity ?? [];
        renderSummary(status);
        renderServers();
        renderCalls();
      } catch (err) {
        if (ctx.isCurrent() && err.status !== 401) replace(grid, errorBox(err));
      }
    }

    // Live: a state change updates its card in place; anything else refetches.
    ctx.on('server.state', (event) => {
      const server = servers.find((s) => s.name === event.name);
      if (!server) {
        load();
        return;
      }
      server.state = event.state;
      if (event.last_error !== undefined) server.last_error = event.last_error;
      const old = grid.querySelector(`[data-server="${CSS.escape(event.name)}"]`);
      if (old) old.replaceWith(card(server));
      renderSummary(null);
      // Tool counts and totals change with the state: refresh them shortly.
      clearTimeout(refetchTimer);
      refetchTimer = setTimeout(load, 300);
    });
    let refetchTimer = null;
    ctx.on('servers.changed', load);
    ctx.on('tools.changed', load);
    ctx.on('open', load);
    ctx.on('activity', (call) => {
      calls.unshift(call);
      calls = calls.slice(0, 10);
      renderCalls();
    });

    await load();
    return { refresh: load, cleanup: () => clearTimeout(refetchTimer) };
  },
};
