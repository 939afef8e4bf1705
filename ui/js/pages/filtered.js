// A page with a filter form over a table, its filters kept in the URL (#/page?server=x), used by
// Activity and Security events. `spec` describes the filters, the endpoint and the columns.
import { api, query } from '../api.js';
import { errorBox, h, loading, replace, table } from '../dom.js';

export async function renderFiltered(root, ctx, spec) {
  const inputs = {};
  const controls = spec.filters.map((f) => {
    const id = `filter-${f.name}`;
    let input;
    if (f.options) {
      input = h('select', { id, name: f.name }, f.options.map(([value, text]) => h('option', { value, text })));
    } else if (f.servers) {
      input = h('select', { id, name: f.name }, h('option', { value: '', text: 'All servers' }));
    } else {
      input = h('input', { id, name: f.name, type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: f.placeholder ?? '' });
    }
    inputs[f.name] = input;
    return h('div', { class: 'field field-compact' }, h('label', { for: id, text: f.label }), input);
  });
  const results = h('div', { id: `${spec.id}-results` });
  const count = h('p', { class: 'muted count', role: 'status' });
  const form = h('form', { class: 'filters', 'aria-label': 'Filters' }, controls,
    h('div', { class: 'field field-compact field-buttons' }, h('button', { type: 'submit', class: 'btn' }, 'Apply'),
      h('button', { type: 'reset', class: 'btn btn-ghost' }, 'Clear')));
  replace(root, h('div', { class: 'page-head' }, h('h1', { text: spec.title }), spec.headExtra ?? null), form, count, results);
  results.appendChild(loading());

  let rows = [];
  let generation = 0;

  function values() {
    const out = {};
    for (const [name, input] of Object.entries(inputs)) out[name] = input.value.trim();
    return out;
  }

  function setValues() {
    for (const [name, input] of Object.entries(inputs)) {
      const v = ctx.params.get(name);
      if (v !== null) {
        if (input.tagName === 'SELECT' && ![...input.options].some((o) => o.value === v)) input.appendChild(h('option', { value: v, text: v }));
        input.value = v;
      }
    }
  }

  function draw() {
    count.textContent = `${rows.length} ${rows.length === 1 ? spec.noun : `${spec.noun}s`}`;
    replace(results, table({ caption: spec.title, columns: spec.columns, rows: rows.map((r) => ({ cells: spec.cells(r) })), empty: spec.empty, className: spec.tableClass ?? '' }));
  }

  async function load() {
    const filters = values();
    ctx.setParams(filters);
    const mine = ++generation;
    try {
      const data = await api(`${spec.endpoint}${query(filters)}`);
      if (mine !== generation || !ctx.isCurrent()) return;
      rows = data[spec.key] ?? [];
      draw();
    } catch (err) {
      if (mine === generation && ctx.isCurrent() && err.status !== 401) replace(results, errorBox(err));
    }
  }

  async function loadServers() {
    const select = Object.values(inputs).find((i, k) => spec.filters[k].servers);
    if (!select) return;
    try {
      const data = await api('/servers');
      const current = select.value;
      for (const s of data.servers ?? []) {
        if (![...select.options].some((o) => o.value === s.name)) select.appendChild(h('option', { value: s.name, text: s.name }));
      }
      select.value = current;
    } catch {
      // Filter by typing the name in the URL instead.
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  form.addEventListener('reset', () => setTimeout(load, 0));
  for (const input of Object.values(inputs)) {
    if (input.tagName === 'SELECT') input.addEventListener('change', load);
  }

  /** Adds a live row at the top when it matches the filters. */
  function prepend(row) {
    const filters = values();
    if (!spec.matches(row, filters)) return;
    rows.unshift(row);
    const limit = Number(filters.limit) || 50;
    rows = rows.slice(0, limit);
    draw();
  }

  await loadServers();
  setValues();
  await load();
  return { refresh: load, prepend };
}
