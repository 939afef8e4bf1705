// Security events: quarantines, new and changed tools, scanner verdicts, refused calls (what the
// policy recorded), filterable by server and kind.
import { badge, h, timeCell } from '../dom.js';
import { renderFiltered } from './filtered.js';

export default {
  title: 'Security',
  async render(root, ctx) {
    const page = await renderFiltered(root, ctx, {
      id: 'security',
      title: 'Security events',
      noun: 'event',
      endpoint: '/security/events',
      key: 'events',
      filters: [
        { name: 'server', label: 'Server', servers: true },
        { name: 'kind', label: 'Kind', placeholder: 'e.g. tool_changed' },
        { name: 'limit', label: 'Rows', options: [['50', '50'], ['200', '200'], ['1000', '1000']] },
      ],
      columns: [{ label: 'Time' }, { label: 'Server' }, { label: 'Tool' }, { label: 'Kind' }, { label: 'Severity' }, { label: 'Detail', class: 'wrap' }],
      cells: (e) => [timeCell(e.time), e.server ?? '', e.tool ? h('code', { text: e.tool }) : '', h('code', { text: e.kind ?? '' }), badge(e.severity ?? 'info'), e.detail ?? ''],
      matches: () => false,
      empty: 'No security events match.',
    });
    const refetch = () => page.refresh();
    ctx.on('tools.changed', refetch);
    ctx.on('servers.changed', refetch);
    return page;
  },
};
