/**
 * Fault injection for the crash tests, preloaded into the real CLI (`--import`): when a
 * progress line on stderr matches UCP_TEST_FREEZE_AT, the process prints "FROZEN" and stops
 * dead (event loop blocked: no heartbeat, no cleanup) until UCP_TEST_RELEASE_FILE exists, or
 * forever. The test then kills it with SIGKILL or SIGTERM at exactly that point of the run.
 * stderr is a pipe, and pipe writes are synchronous on Linux, so "FROZEN" reaches the test.
 */
import { existsSync } from 'node:fs';

const at = process.env.UCP_TEST_FREEZE_AT;
const release = process.env.UCP_TEST_RELEASE_FILE;
if (at) {
  const pattern = new RegExp(at, 'm');
  const write = process.stderr.write.bind(process.stderr) as (chunk: string | Uint8Array) => boolean;
  let frozen = false;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const ok = (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    if (!frozen && pattern.test(String(chunk))) {
      frozen = true;
      write(`FROZEN ${process.pid}\n`);
      const cell = new Int32Array(new SharedArrayBuffer(4));
      while (!(release && existsSync(release))) Atomics.wait(cell, 0, 0, 50);
    }
    return ok;
  }) as typeof process.stderr.write;
}
