// Activity: tool calls through the proxy (time, server, tool, status, duration, caller, error),
// filterable by server, tool and status; new calls appear live.
import { badge, formatMs, h, timeCell } from '../dom.js';
import { renderFiltered } from './filtered.js';

export default {
  title: 'Activity',
  async render(root, ctx) {
    const page = await renderFiltered(root, ctx, {
      id: 'activity',
      title: 'Activity',
      noun: 'call',
      endpoint: '/activity',
      key: 'activity',
      filters: [
        { name: 'server', label: 'Server', servers: true },
        { name: 'tool', label: 'Tool', placeholder: 'tool name' },
        { name: 'status', label: 'Status', options: [['', 'Any'], ['ok', 'ok'], ['error', 'error']] },
        { name: 'limit', label: 'Rows', options: [['50', '50'], ['200', '200'], ['1000', '1000']] },
      ],
      columns: [{ label: 'Time' }, { label: 'Server' }, { label: 'Tool' }, { label: 'Status' }, { label: 'Duration', class: 'num' }, { label: 'Caller' }, { label: 'Error', class: 'wrap' }],
      cells: (c) => [timeCell(c.time), c.server ?? '', h('code', { text: c.tool ?? '' }), badge(c.status ?? 'unknown'),
        formatMs(c.duration_ms), c.caller ?? '', c.error ? h('span', { class: 'error-text', text: c.error }) : ''],
      matches: (c, f) => (!f.server || c.server === f.server) && (!f.tool || c.tool === f.tool) && (!f.status || c.status === f.status),
      empty: 'No tool calls match.',
    });
    ctx.on('activity', (call) => page.prepend(call));
    return page;
  },
};
