/**
 * A child process that dies with us, also when we are SIGKILLed: no `finally` runs then, and
 * an etcd member would go on serving the decrypted store. A shell starts the tool and a
 * watcher that blocks reading a pipe from us (fd 3); when our end closes — we exited, however
 * — the read returns and the watcher SIGKILLs the tool. The shell leads its own process
 * group, so kill() takes the shell, the tool and the watcher at once. (Windows: a plain child.)
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

const WATCHED = [
  'cmd=$1; shift',
  '"$cmd" "$@" 3<&- & pid=$!',
  '(read -r _ <&3; kill -KILL $pid) >/dev/null 2>&1 & watcher=$!',
  'exec 3<&-',
  'wait $pid; rc=$?',
  'kill $watcher 2>/dev/null',
  'exit $rc',
].join('\n');

export interface TiedProcess {
  child: ChildProcess;
  /** SIGKILLs the tool (and its watcher); resolves when the child has exited. */
  kill(): Promise<void>;
}

export function spawnTied(cmd: string, args: string[], opts: { stdio: [StdioOptions, StdioOptions, StdioOptions] | ['ignore' | 'pipe', 'ignore' | 'pipe', 'ignore' | 'pipe']; env?: NodeJS.ProcessEnv; signal?: AbortSignal }): TiedProcess {
  const tied = process.platform !== 'win32';
  const child = tied
    ? spawn('/bin/sh', ['-c', WATCHED, 'sh', cmd, ...args], { stdio: [...(opts.stdio as string[]), 'pipe'] as StdioOptions, env: opts.env, detached: true })
    : spawn(cmd, args, { stdio: opts.stdio as StdioOptions, env: opts.env });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        if (tied) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await exited;
  };
  // The group leader is detached from our terminal's Ctrl-C: cancel reaches it through the signal.
  const onAbort = () => void kill();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  child.once('exit', () => opts.signal?.removeEventListener('abort', onAbort));
  if (opts.signal?.aborted) onAbort();
  return { child, kill };
}
