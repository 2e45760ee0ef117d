/**
 * ASCII armor (RFC 4880 §6: `gpg --armor`) decoded as a stream, so an armored backup takes
 * the same fast decrypt path as a binary one. The CRC-24 line is checked when present; a
 * missing END line means the file was cut short.
 */
import { displayName } from '../verify/safeName';
import { CorruptArchiveError } from './errors';

const BEGIN = '-----BEGIN PGP MESSAGE-----';
const END = '-----END PGP MESSAGE-----';
/** A base64 line is 64-76 characters; anything much longer is not armor. */
const MAX_LINE = 64 * 1024;

export async function* dearmor(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let text = '';
  let state: 'begin' | 'headers' | 'body' | 'done' = 'begin';
  let carry = ''; // base64 characters not yet a multiple of 4
  let crc = CRC24_INIT;
  let sum: string | undefined;
  /** In text after END: the current line is too long to be a BEGIN line, skip to its end. */
  let skipping = false;
  for await (const chunk of source) {
    text += chunk.toString('latin1');
    const lines = text.split('\n');
    text = lines.pop() ?? '';
    if (text.length > MAX_LINE) {
      // Text after END is not armor: gpg ignores it, unless it holds another BEGIN line.
      if (state !== 'done') throw new CorruptArchiveError('The armored OpenPGP data is damaged (a line is far too long).');
      text = '';
      skipping = true;
    }
    const out: Buffer[] = [];
    let folded = 0; // pieces of `out` already in the CRC
    const fold = () => {
      for (; folded < out.length; folded++) crc = crc24(crc, out[folded]);
    };
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '').trimEnd();
      if (state === 'done') {
        // gpg decodes a second armored block after the first as more of the same data, so
        // a second message appended in armor is data after the end of the first (messageEnd.ts).
        if (line === BEGIN && !skipping) state = 'headers';
        skipping = false;
      } else if (state === 'begin') {
        if (line === BEGIN) state = 'headers';
      } else if (state === 'headers') {
        // "Key: value" headers end at the first empty line.
        if (line === '') state = 'body';
        else if (!/^[^:\s]+: /.test(line)) {
          state = 'body'; // some writers put no blank line: this is already data
          carry = decodeLine(line, carry, out);
        }
      } else if (state === 'body') {
        if (line.startsWith('-----')) {
          if (line !== END) throw new CorruptArchiveError(`The armored OpenPGP data is damaged (unexpected line "${displayName(line.slice(0, 40))}").`);
          fold();
          checkBlock(carry, sum, crc);
          [state, carry, crc, sum] = ['done', '', CRC24_INIT, undefined];
        } else if (line.startsWith('=') && line.length === 5) sum = line.slice(1);
        else if (line !== '') carry = decodeLine(line, carry, out);
      }
    }
    fold();
    if (out.length) yield out.length === 1 ? out[0] : Buffer.concat(out);
  }
  if (state !== 'done') {
    throw new CorruptArchiveError(state === 'begin' ? 'The armored OpenPGP data has no BEGIN PGP MESSAGE line.' : 'The armored OpenPGP data ends early (no END PGP MESSAGE line: the file is truncated).');
  }
}

function checkBlock(carry: string, sum: string | undefined, crc: number): void {
  if (carry.length) throw new CorruptArchiveError('The armored OpenPGP data is damaged (its base64 text is cut mid-group).');
  if (sum !== undefined && Buffer.from(sum, 'base64').readUIntBE(0, 3) !== crc) {
    throw new CorruptArchiveError('The armored OpenPGP data is damaged (its CRC-24 checksum does not match).');
  }
}

function decodeLine(line: string, carry: string, out: Buffer[]): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(line)) throw new CorruptArchiveError('The armored OpenPGP data is damaged (a line is not base64).');
  const all = carry + line;
  const whole = all.length - (all.length % 4);
  if (whole) out.push(Buffer.from(all.slice(0, whole), 'base64'));
  return all.slice(whole);
}

const CRC24_INIT = 0xb704ce;
const CRC24_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 16;
    for (let k = 0; k < 8; k++) {
      c <<= 1;
      if (c & 0x1000000) c ^= 0x1864cfb;
    }
    t[i] = c & 0xffffff;
  }
  return t;
})();

function crc24(crc: number, data: Buffer): number {
  for (let i = 0; i < data.length; i++) crc = ((crc << 8) ^ CRC24_TABLE[((crc >> 16) ^ data[i]) & 0xff]) & 0xffffff;
  return crc;
}
