/**
 * `verify --list` and `verify --json` write each entry as the archive passes, not from a
 * listing kept in memory: an archive of a million entries lists in the memory of one.
 * Lines are gathered into chunks of ~64 KiB per write. The JSON is the report with its
 * `entries` first, written as they come, then the rest once the verdict is known; if the
 * read fails half-way, the JSON is still closed (with an `error`) so it parses.
 */
import type { CliIO } from './common';
import type { EntryInfo, VerifyReport } from '../core/verify/report';
import { displayName, safeText } from '../core/verify/safeName';

const FLUSH_AT = 64 * 1024;

export class StreamedListing {
  private buf: string[] = [];
  private bufLen = 0;
  private count = 0;

  constructor(
    private readonly io: CliIO,
    private readonly mode: 'lines' | 'json',
  ) {}

  /** For VerifyOptions.onListed. */
  readonly add = (e: EntryInfo): void => {
    if (this.mode === 'lines') this.push(safeText(entryLine(e)) + '\n');
    else this.push(`${this.count === 0 ? '{\n  "entries": [\n' : ',\n'}    ${JSON.stringify(e, null, 2).replace(/\n/g, '\n    ')}`);
    this.count++;
  };

  /** The rest of the report after the entries (JSON mode; lines mode only flushes). */
  finish(report: VerifyReport): void {
    if (this.mode === 'json') {
      const { entries: _kept, ...rest } = report;
      // Every entry was written above, so the listing is not truncated.
      const tail = JSON.stringify({ ...rest, truncatedListing: false }, null, 2);
      this.push(`${this.opening()}\n  ],\n${tail.slice(2)}\n`);
    }
    this.flush();
  }

  /** The read failed: close the JSON so it still parses; the error itself goes to stderr. */
  fail(message: string): void {
    if (this.mode === 'json' && this.count > 0) this.push(`\n  ],\n  "error": ${JSON.stringify(message)}\n}\n`);
    this.flush();
  }

  private opening(): string {
    return this.count === 0 ? '{\n  "entries": [' : '';
  }

  private push(s: string): void {
    this.buf.push(s);
    this.bufLen += s.length;
    if (this.bufLen >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.bufLen === 0) return;
    this.io.stdout.write(this.buf.join(''));
    this.buf = [];
    this.bufLen = 0;
  }
}

/** Like `tar --list --verbose`, with the name made safe for a terminal. */
export function entryLine(e: EntryInfo): string {
  const owner = `${e.uname ? displayName(e.uname) : e.uid}/${e.gname ? displayName(e.gname) : e.gid}`;
  const link = e.linkname ? ` -> ${displayName(e.linkname)}` : '';
  return `${typeChar(e.type)}${modeString(e.mode)} ${owner.padEnd(15)} ${String(e.size).padStart(10)} ${e.mtime.slice(0, 16).replace('T', ' ')} ${displayName(e.name)}${link}`;
}

function typeChar(t: EntryInfo['type']): string {
  return ({ directory: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p' } as Record<string, string>)[t] ?? '-';
}

function modeString(mode: number): string {
  const bits = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}
