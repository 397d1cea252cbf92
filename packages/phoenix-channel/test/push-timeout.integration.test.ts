// A push awaited on a socket that never connected: the process must wait for the push's timeout and see the
// rejection, rather than exit with the promise pending. Runs dist/ in a child process: build first.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('a push on a socket that never connected', () => {
  it('rejects with `PHX_PUSH_TIMEOUT` after `timeoutMs`; the process waits for it', () => {
    expect(existsSync(dist), 'build dist/ first').toBe(true);
    const script = `
      import { Socket } from ${JSON.stringify(dist)};
      const socket = new Socket('ws://127.0.0.1:9/socket/websocket');
      const channel = socket.channel('room:1', {});
      const started = Date.now();
      try {
        await channel.push('ask', {}, { timeoutMs: 300 });
        console.log('resolved');
      } catch (error) {
        console.log(error.code, Date.now() - started >= 290);
      }
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(output.trim()).toBe('PHX_PUSH_TIMEOUT true');
  });
});
