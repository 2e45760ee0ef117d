/**
 * Where Add Cluster can take a manager's SSH destination from instead of the admin typing it:
 * the Host aliases of ~/.ssh/config (patterns left out) and the Docker contexts whose endpoint
 * is ssh:// (`docker context ls`). Parsing is pure (unit-tested); reading never fails the flow.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface SshCandidate {
  /** What goes into the SSH destination: an alias, or user@host:port. */
  target: string;
  /** Where it came from, shown beside it. */
  source: string;
}

/** `Host` names of an ssh_config that name one host (no `*`, `?` or `!` patterns). */
export function sshConfigAliases(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*Host(?:\s*=\s*|\s+)(.+?)\s*$/i.exec(line);
    if (!m) continue;
    for (const name of m[1].split(/\s+/)) if (name && !/[*?!]/.test(name) && !out.includes(name)) out.push(name.replace(/^"|"$/g, ''));
  }
  return out;
}

/** The ssh:// contexts of `docker context ls --format '{{json .}}'` (one JSON object a line) as user@host:port. */
export function dockerContextTargets(output: string): SshCandidate[] {
  const out: SshCandidate[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (!line.trim()) continue;
    let ctx: { Name?: unknown; DockerEndpoint?: unknown };
    try {
      ctx = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof ctx.DockerEndpoint !== 'string' || !ctx.DockerEndpoint.startsWith('ssh://')) continue;
    let url: URL;
    try {
      url = new URL(ctx.DockerEndpoint);
    } catch {
      continue;
    }
    if (!url.hostname) continue;
    const host = url.hostname; // an IPv6 address comes in brackets already
    out.push({ target: `${url.username ? decodeURIComponent(url.username) + '@' : ''}${host}${url.port ? ':' + url.port : ''}`, source: `docker context ${String(ctx.Name ?? '')}`.trim() });
  }
  return out;
}

/** Both lists, read now; a missing file or docker CLI gives none, never an error. */
export async function sshCandidates(): Promise<SshCandidate[]> {
  const config = await readFile(join(homedir(), '.ssh', 'config'), 'utf8').catch(() => '');
  const contexts = await new Promise<string>((resolve) => {
    execFile('docker', ['context', 'ls', '--format', '{{json .}}'], { timeout: 3000 }, (err, stdout) => resolve(err ? '' : stdout));
  });
  return [...sshConfigAliases(config).map((target) => ({ target, source: '~/.ssh/config' })), ...dockerContextTargets(contexts)];
}
