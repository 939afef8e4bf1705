// The mcpproxy web UI: login with the API key, hash routes for the pages, live events, keyboard
// shortcuts. Plain ES modules served from the binary; no framework, no build step, no CDN.
import { api, ApiError, clearKey, getKey, setKey, setUnauthorizedHandler } from './api.js';
import { replace } from './dom.js';
import { LiveEvents } from './events.js';
import dashboard from './pages/dashboard.js';
import servers from './pages/servers.js';
import tools from './pages/tools.js';
import activity from './pages/activity.js';
import security from './pages/security.js';

const PAGES = { dashboard, servers, tools, activity, security };
const DEFAULT_ROUTE = 'dashboard';

const $ = (id) => document.getElementById(id);

let current = null; // { name, handle, unsubscribers }
let signedIn = false;

const live = new LiveEvents({
  getKey,
  onStatus: (status) => {
    const el = $('live');
    el.dataset.status = status;
    el.querySelector('.live-text').textContent = status;
  },
  // Asked after the event stream closed: was it the key? Then show the login.
  onUnauthorized: async () => {
    try {
      await api('/status');
      return false;
    } catch (err) {
      return err instanceof ApiError && err.status === 401;
    }
  },
});

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  const name = PAGES[parts[0]] ? parts[0] : DEFAULT_ROUTE;
  return { name, parts: parts.slice(1), params: new URLSearchParams(queryPart) };
}

function teardown() {
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close('navigate');
  if (!current) return;
  for (const off of current.unsubscribers) off();
  current.handle?.cleanup?.();
  current = null;
}

async function route() {
  if (!signedIn) return;
  const { name, parts, params } = parseHash();
  teardown();
  const page = PAGES[name];
  for (const link of document.querySelectorAll('.nav a')) {
    if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${page.title} · mcpproxy`;
  const root = $('page');
  replace(root);
  const state = { name, handle: null, unsubscribers: [] };
  current = state;
  const ctx = {
    parts,
    params,
    on: (type, fn) => state.unsubscribers.push(live.on(type, fn)),
    setParams: (next) => {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(next)) if (v) search.set(k, v);
      const text = search.toString();
      history.replaceState(null, '', `#/${name}${text ? `?${text}` : ''}`);
    },
    isCurrent: () => current === state,
  };
  state.handle = (await page.render(root, ctx)) ?? null;
}

function showLogin(message = '') {
  signedIn = false;
  teardown();
  live.stop();
  replace($('page'));
  $('topbar').hidden = true;
  $('login').hidden = false;
  const error = $('login-error');
  error.textContent = message;
  error.hidden = !message;
  document.title = 'Sign in · mcpproxy';
  $('login-key').value = '';
  $('login-key').focus();
}

function showApp() {
  signedIn = true;
  $('login').hidden = true;
  $('topbar').hidden = false;
  live.start();
  route();
}

async function onLogin(event) {
  event.preventDefault();
  const input = $('login-key');
  const key = input.value.trim();
  const error = $('login-error');
  const submit = $('login-submit');
  if (!key) {
    error.textContent = 'Enter the API key.';
    error.hidden = false;
    input.focus();
    return;
  }
  submit.disabled = true;
  try {
    await api('/status', { key });
    setKey(key);
    input.value = '';
    showApp();
  } catch (err) {
    error.textContent = err.status === 401 ? 'That API key was rejected.' : err.message;
    error.hidden = false;
    input.select();
    input.focus();
  } finally {
    submit.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Keyboard shortcuts: "/" search, "g" + letter to go to a page, "n" new, "r" refresh, "?" help.

const GO = { d: 'dashboard', s: 'servers', t: 'tools', a: 'activity', e: 'security' };
let pendingG = 0;

function typingTarget(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function onKeyDown(event) {
  if (!signedIn || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  if (typingTarget(event.target) || document.querySelector('dialog[open]')) return;
  const key = event.key;
  if (pendingG && Date.now() - pendingG < 1500 && GO[key]) {
    pendingG = 0;
    event.preventDefault();
    location.hash = `#/${GO[key]}`;
    $('main').focus();
    return;
  }
  pendingG = 0;
  if (key === 'g') {
    pendingG = Date.now();
  } else if (key === '/') {
    event.preventDefault();
    if (current?.name === 'tools' && current.handle?.focusSearch) current.handle.focusSearch();
    else location.hash = '#/tools?focus=1';
  } else if (key === '?') {
    event.preventDefault();
    $('help-dialog').showModal();
  } else if (key === 'r' && current?.handle?.refresh) {
    event.preventDefault();
    current.handle.refresh();
  } else if (key === 'n' && current?.handle?.create) {
    event.preventDefault();
    current.handle.create();
  }
}

// ---------------------------------------------------------------------------------------------

function init() {
  setUnauthorizedHandler(() => {
    if (signedIn) {
      clearKey();
      showLogin('Your API key was rejected; sign in again.');
    }
  });
  $('login-form').addEventListener('submit', onLogin);
  $('logout-button').addEventListener('click', () => {
    clearKey();
    showLogin();
  });
  $('help-button').addEventListener('click', () => $('help-dialog').showModal());
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', onKeyDown);

  const key = getKey();
  if (!key) {
    showLogin();
    return;
  }
  api('/status', { key })
    .then(showApp)
    .catch((err) => {
      if (err.status === 401) {
        clearKey();
        showLogin('The stored API key was rejected; sign in again.');
      } else {
        // The proxy may be restarting: show the app; pages report their own errors.
        showApp();
      }
    });
}

init();

