// Preloaded with `node --require` into third-party MCP servers that bind every interface (such
// as server-everything's streamableHttp mode, which calls app.listen(PORT)). It forces every
// TCP listen onto 127.0.0.1 so tests never expose a port beyond loopback, and it prints the
// port actually bound (useful with PORT=0) as a line the test harness waits for:
//   [loopback-preload] listening on 127.0.0.1:<port>
'use strict';
const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const originalListen = net.Server.prototype.listen;

function isPortArg(value) {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listen(...args) {
  if (isPortArg(args[0])) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === 'string') {
      args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  } else if (args[0] === undefined || args[0] === null || typeof args[0] === 'function') {
    // listen() or listen(callback): an ephemeral port on every interface by default.
    args.splice(0, args[0] === undefined || args[0] === null ? 1 : 0, 0, LOOPBACK);
  } else if (typeof args[0] === 'object' && args[0] !== null && !(args[0] instanceof net.Server) &&
             args[0].path === undefined && args[0].fd === undefined && args[0]._handle === undefined) {
    // listen(options[, callback])
    args[0] = { ...args[0], host: LOOPBACK };
  }
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') {
      process.stderr.write(`[loopback-preload] listening on ${address.address}:${address.port}\n`);
    }
  });
  return originalListen.apply(this, args);
};
