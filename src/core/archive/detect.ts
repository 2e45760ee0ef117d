/**
 * Tells an OpenPGP message (binary or ASCII-armored) from a plain tar and from anything
 * else, using the first bytes only (a streamed remote file cannot be read twice cheaply).
 */
export type ArchiveKind = 'openpgp-binary' | 'openpgp-armored' | 'tar' | 'other';

/** Bytes to look at: a tar header is 512 bytes. */
export const DETECT_BYTES = 512;

const ARMOR_BEGIN = '-----BEGIN PGP MESSAGE-----';

export function detectArchive(head: Uint8Array): { kind: ArchiveKind; what?: string } {
  if (head.length === 0) return { kind: 'other', what: 'an empty file' };
  const text = Buffer.from(head.subarray(0, 256)).toString('latin1');
  const t = text.trimStart();
  // A file cut inside the BEGIN line is still armor (the decoder then reports the truncation).
  if (t.startsWith(ARMOR_BEGIN) || (t.length >= 5 && ARMOR_BEGIN.startsWith(t))) return { kind: 'openpgp-armored' };
  if (head.length >= 512 && isTarHeader(head)) return { kind: 'tar' };
  // Less than one header: a tar cut short still shows a path then NUL padding (the tar check reports the truncation).
  if (head.length < 512 && looksLikeCutTarHeader(head)) return { kind: 'tar' };
  const tag = openpgpFirstTag(head[0]);
  // A passphrase-encrypted message starts with a symmetric-key session key packet (3);
  // a session key from a public key (1), or a bare encrypted packet (9, 18, 20) are OpenPGP too.
  if (tag !== undefined && [1, 3, 9, 18, 20].includes(tag)) return { kind: 'openpgp-binary' };
  return { kind: 'other', what: describeOther(head) };
}

/** The packet tag of an OpenPGP packet header byte (RFC 4880 §4.2), or undefined. */
export function openpgpFirstTag(b: number): number | undefined {
  if ((b & 0x80) === 0) return undefined;
  return b & 0x40 ? b & 0x3f : (b >> 2) & 0x0f;
}

/** A ustar/GNU header ("ustar" magic at 257) or a v7 header whose checksum adds up. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  const magic = Buffer.from(block.subarray(257, 262)).toString('latin1');
  if (magic === 'ustar') return true;
  return tarChecksumOk(block) && block[0] !== 0;
}

function looksLikeCutTarHeader(head: Uint8Array): boolean {
  const nameField = Buffer.from(head.subarray(0, Math.min(100, head.length)));
  const nul = nameField.indexOf(0);
  if (nul <= 0 || !nameField.subarray(nul).every((b) => b === 0)) return false;
  if (!/^[\x20-\x7e]+$/.test(nameField.subarray(0, nul).toString('latin1'))) return false;
  // The mode field, when present, is octal digits (NUL- or space-terminated).
  const mode = Buffer.from(head.subarray(100, 108)).toString('latin1');
  return head.length >= 100 && /^[0-7 ]*\0?$/.test(mode);
}

export function tarChecksumOk(block: Uint8Array): boolean {
  const field = Buffer.from(block.subarray(148, 156)).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

function describeOther(head: Uint8Array): string {
  const b = Buffer.from(head);
  if (b.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'a zip file';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'a gzip file (compressed tar? decompress it first)';
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'a bzip2 file';
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'an xz file';
  if (head.length < 512 && head.every((x) => x === 0)) return 'a file of zero bytes only';
  return 'neither OpenPGP nor tar data';
}
