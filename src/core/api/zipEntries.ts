/**
 * Just enough of ZIP (PKWARE APPNOTE 4.3: end of central directory, central directory, local
 * headers; stored or deflated) to take ca.pem, cert.pem and key.pem out of a UCP client bundle
 * without a dependency. The zip is untrusted input: every offset is bounds-checked and sizes
 * are capped; ZIP64, encryption and other methods are refused with a clear message.
 */
import { inflateRawSync } from 'node:zlib';
import { ConfigError } from '../errors';

/** A bundle's files are a few KiB: anything larger is not a client bundle. */
const MAX_ENTRY = 1024 * 1024;

function bad(where: string, why: string): ConfigError {
  return new ConfigError(`${where} is not a usable zip file: ${why}.`, 'Download the client bundle again from UCP (My Profile → Client Bundles), or pass the unzipped folder.');
}

/** The wanted files by base name (the first, shallowest one of each), as UTF-8 text. */
export function zipTextFiles(zip: Buffer, wanted: readonly string[], where: string): Map<string, string> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > zip.length) throw bad(where, 'no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw bad(where, 'ZIP64 is not supported');
  const found = new Map<string, { depth: number; text: string }>();
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50) throw bad(where, 'a broken central directory');
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    if (at + 46 + nameLen > zip.length) throw bad(where, 'a broken central directory');
    const name = zip.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    at += 46 + nameLen + extraLen + commentLen;
    const base = name.split('/').pop() ?? '';
    const depth = name.split('/').length;
    if (!wanted.includes(base) || (found.get(base)?.depth ?? Infinity) <= depth) continue;
    if (flags & 1) throw bad(where, `${name} is encrypted`);
    if (size > MAX_ENTRY || compressed > MAX_ENTRY) throw bad(where, `${name} is larger than 1 MiB`);
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) throw bad(where, `the local header of ${name} is broken`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    if (start + compressed > zip.length) throw bad(where, `${name} runs past the end of the file`);
    const raw = zip.subarray(start, start + compressed);
    let data: Buffer;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: MAX_ENTRY });
      } catch {
        throw bad(where, `${name} does not inflate`);
      }
    } else throw bad(where, `${name} uses compression method ${method}`);
    found.set(base, { depth, text: data.toString('utf8') });
  }
  return new Map([...found].map(([k, v]) => [k, v.text]));
}
