// Running the mcpproxy CLI from the integration tests (cli*.test.mjs).
import { execFile } from 'node:child_process';

import { MCPPROXY_BIN } from './harness.mjs';

/** Runs mcpproxy; resolves { code, stdout, stderr } (never rejects on a non-zero exit). */
export function mcpproxy(args, { home, env = {}, timeout = 60000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      MCPPROXY_BIN,
      args,
      { env: { ...process.env, HOME: home ?? process.env.HOME, ...env }, timeout, cwd, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`mcpproxy ${args.join(' ')}: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? error.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

