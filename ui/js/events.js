// Live updates from GET /events (server-sent events). EventSource cannot send headers, so the key
// travels as ?api_key= (the API accepts it there for /events only). Pages subscribe to event
// types; the connection reconnects with a growing delay and reports its state to the top bar.

const TYPES = ['server.state', 'servers.changed', 'tools.changed', 'config.reloaded', 'config.error', 'activity'];

export class LiveEvents {
  constructor({ getKey, onStatus, onUnauthorized }) {
    this.getKey = getKey;
    this.onStatus = onStatus;
    this.onUnauthorized = onUnauthorized;
    this.listeners = new Map();
    this.source = null;
    this.retryMs = 1000;
    this.retryTimer = null;
  }

  /** Subscribes to one event type; returns the unsubscribe function. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, data) {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        fn(data);
      } catch (err) {
        console.error(`handler for ${type} failed`, err);
      }
    }
  }

  start() {
    this.stop();
    const key = this.getKey();
    if (!key) return;
    this.onStatus('connecting');
    const source = new EventSource(`/events?api_key=${encodeURIComponent(key)}`);
    this.source = source;
    source.addEventListener('open', () => {
      this.retryMs = 1000;
      this.onStatus('live');
      this.emit('open', {});
    });
    for (const type of TYPES) {
      source.addEventListener(type, (event) => {
        let data = {};
        try {
          data = JSON.parse(event.data || '{}');
        } catch {
          return;
        }
        this.emit(type, data);
      });
    }
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      // The browser retries by itself while readyState is CONNECTING; CLOSED means it gave up
      // (e.g. a 401): find out why, then retry with backoff.
      if (source.readyState === EventSource.CLOSED) {
        this.onStatus('offline');
        source.close();
        this.source = null;
        this.onUnauthorized().then((unauthorized) => {
          if (unauthorized) return;
          this.retryTimer = setTimeout(() => this.start(), this.retryMs);
          this.retryMs = Math.min(this.retryMs * 2, 30000);
        });
      } else {
        this.onStatus('connecting');
      }
    });
  }

  stop() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.source) {
      this.source.close();
      this.source = null;
    }
    this.onStatus('offline');
  }
}
