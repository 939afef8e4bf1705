// DOM helpers. Everything the API returns reaches the page as text nodes or attribute values set
// through the DOM, never parsed as HTML: h() has no way to insert markup.

/**
 * Creates an element. `attrs`: `class`, `text` (textContent), `on<event>` (listeners),
 * `dataset` (object), boolean true/false attributes, others via setAttribute. Children may be
 * nodes, strings (text nodes), arrays, or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'disabled' || key === 'selected') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const STATE_CLASS = {
  ready: 'ok',
  allowed: 'ok',
  ok: 'ok',
  pass: 'ok',
  connecting: 'warn',
  pending: 'warn',
  changed: 'warn',
  warn: 'warn',
  warning: 'warn',
  medium: 'warn',
  failed: 'bad',
  error: 'bad',
  block: 'bad',
  high: 'bad',
  critical: 'bad',
  quarantined: 'quarantine',
  disabled: 'off',
  stopped: 'off',
  info: 'info',
  low: 'info',
};

/** A small coloured label for a state, approval, status or severity. */
export function badge(value, label = value) {
  const kind = STATE_CLASS[String(value).toLowerCase()] ?? 'info';
  return h('span', { class: `badge badge-${kind}`, text: label });
}

/** The state a person should see for a server: quarantine wins over the connection state. */
export function serverBadge(server) {
  if (server.quarantined) {
    return h('span', { class: 'badge-group' }, badge('quarantined'), server.state && server.state !== 'quarantined' ? badge(server.state) : null);
  }
  return badge(server.state ?? 'unknown');
}

/** Parses the API's time (ISO string, seconds or milliseconds since the epoch). */
export function parseTime(value) {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return new Date(value < 1e12 ? value * 1000 : value);
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 min ago"-style text for a time, with the full time as a title. */
export function timeCell(value) {
  const date = parseTime(value);
  if (!date) return h('span', { class: 'muted', text: '—' });
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  let text;
  if (abs < 60) text = relative.format(seconds, 'second');
  else if (abs < 3600) text = relative.format(Math.round(seconds / 60), 'minute');
  else if (abs < 86400) text = relative.format(Math.round(seconds / 3600), 'hour');
  else text = date.toLocaleString();
  return h('time', { datetime: date.toISOString(), title: date.toLocaleString(), text });
}

/** A duration in milliseconds for people: "0.5 ms", "12 ms", "1.4 s". */
export function formatMs(value) {
  if (value === null || value === undefined || value === '' || Number.isNaN(Number(value))) return '—';
  const ms = Number(value);
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** A table with a caption (for screen readers), header row and rows of cells. */
export function table({ caption, columns, rows, empty = 'Nothing yet.', className = '' }) {
  const thead = h('thead', {}, h('tr', {}, columns.map((col) => h('th', { scope: 'col', class: col.class, text: col.label }))));
  const tbody = h('tbody');
  if (rows.length === 0) {
    tbody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: columns.length, class: 'muted', text: empty })));
  }
  for (const row of rows) {
    const tr = h('tr', row.attrs ?? {});
    columns.forEach((col, i) => tr.appendChild(h('td', { class: col.class, 'data-label': col.label }, row.cells[i])));
    tbody.appendChild(tr);
  }
  return h('div', { class: `table-wrap ${className}` }, h('table', {}, caption ? h('caption', { class: 'sr-only', text: caption }) : null, thead, tbody));
}

/** Shows a short message at the bottom of the screen. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}`, text: message });
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * Opens a modal <dialog> built from `content` (nodes); resolves with the value it was closed
 * with. The dialog is removed from the page when closed. Esc closes it (native behaviour).
 */
export function openDialog({ title, content, wide = false, labelledBy = 'dialog-title' }) {
  const id = `${labelledBy}-${Math.random().toString(36).slice(2, 8)}`;
  const dialog = h('dialog', { class: wide ? 'dialog-wide' : '', 'aria-labelledby': id },
    h('div', { class: 'dialog-body' },
      h('div', { class: 'dialog-head' },
        h('h2', { id, text: title }),
        h('button', { type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': 'Close', onclick: () => dialog.close('cancel'), text: '×' })),
      content));
  document.body.appendChild(dialog);
  const closed = new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue);
    });
  });
  dialog.showModal();
  return { dialog, closed };
}

/** Wraps an async action on a button: disabled while running, errors become a toast. */
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } catch (err) {
    if (err?.status !== 401) toast(err?.message ?? String(err), 'error');
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** A labelled form field. `input` is an element; `hint` optional text under it. */
export function field(label, input, hint) {
  if (!input.id) input.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  const hintEl = hint ? h('small', { class: 'hint', id: `${input.id}-hint`, text: hint }) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: input.id, text: label }), input, hintEl);
}

/** A short "loading" placeholder. */
export function loading(text = 'Loading…') {
  return h('p', { class: 'muted loading', role: 'status', text });
}

/** An error box for a failed load. */
export function errorBox(err) {
  return h('div', { class: 'callout callout-bad', role: 'alert' }, h('strong', { text: 'Could not load: ' }), err?.message ?? String(err));
}

/** Text with line-break opportunities after "_" "/" "." "-" (for long tool names). */
export function breakable(text) {
  const parts = String(text ?? '').split(/(?<=[_/.-])/);
  const frag = document.createDocumentFragment();
  parts.forEach((part, i) => {
    if (i > 0) frag.appendChild(document.createElement('wbr'));
    frag.appendChild(document.createTextNode(part));
  });
  return frag;
}
