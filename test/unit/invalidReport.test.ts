/** A junk file right-clicked for Verify gets an INVALID report that says what it is (issue 15, item 10). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotABackupError, WrongPassphraseError } from '../../src/core/archive/errors';
import { notABackupReport } from '../../src/vscode/flows/invalidReport';

test('not a backup: INVALID with one failed format check carrying the whole reason and what to do', () => {
  const r = notABackupReport('/w/junk.tar', new NotABackupError('/w/junk.tar is not a UCP backup: it is neither OpenPGP nor tar data.'), 3000)!;
  assert.equal(r.verdict, 'INVALID');
  assert.equal(r.bytes, 3000);
  assert.deepEqual(r.checks.map((c) => [c.id, c.pass]), [['format', false]]);
  assert.match(r.checks[0].reason, /neither OpenPGP nor tar data\. A UCP backup is a tar archive, usually OpenPGP-encrypted/);
});

test('any other failure is not turned into a report (a wrong passphrase is asked again, a read error is said)', () => {
  assert.equal(notABackupReport('/w/x.tar', new WrongPassphraseError()), undefined);
  assert.equal(notABackupReport('/w/x.tar', new Error('EIO')), undefined);
});
