/**
 * Schedules (src/core/schedule): --every and --cron read as crontab(5) does, the next runs we
 * compute agree with systemd's own calendar (systemd-analyze calendar, same base time), the
 * units we write pass `systemd-analyze verify`, the passphrase is only in a 0600 file, and a
 * cluster's status (last good, next due, overdue, last failure) follows from its history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { everyToCron } from '../../src/core/schedule/every';
import { longestGap, nextRun, parseCron } from '../../src/core/schedule/cron';
import { onCalendar } from '../../src/core/schedule/systemdUnits';
import { cronLine } from '../../src/core/schedule/crontab';
import { installSchedule, clusterScheduleOf } from '../../src/core/schedule/install';
import { clusterBackupStatus } from '../../src/core/schedule/status';
import { readSchedulePassphrase, loadSchedule } from '../../src/core/schedule/definition';
import type { ClusterSchedule } from '../../src/core/schedule/clusterSchedule';
import type { BackupRecord } from '../../src/core/history/record';

test('--every in words becomes the cron expression; nonsense is refused with what to write', () => {
  const cases: [string, string][] = [
    ['daily 02:00', '0 2 * * *'],
    ['hourly', '0 * * * *'],
    ['hourly :15', '15 * * * *'],
    ['weekly sun 03:30', '30 3 * * 0'],
    ['Weekly Friday 23:05', '5 23 * * 5'],
    ['monthly 1 04:00', '0 4 1 * *'],
    ['15 minutes', '*/15 * * * *'],
    ['1 minute', '* * * * *'],
    ['6 hours', '0 */6 * * *'],
  ];
  for (const [every, cron] of cases) assert.equal(everyToCron(every), cron, every);
  for (const bad of ['daily 25:00', 'daily 2am', 'weekly funday 01:00', 'monthly 31 01:00', '7 minutes', 'fortnightly']) assert.throws(() => everyToCron(bad), /--every/, bad);
  assert.throws(() => parseCron('0 2 * *'), /has 4 field\(s\), not 5/);
  assert.throws(() => parseCron('61 2 * * *'), /minute field "61" has 61, outside 0-59/);
  assert.throws(() => parseCron('0 5-2 * * *'), /runs backwards/);
  assert.equal(parseCron('@daily').expression, '0 0 * * *');
  assert.deepEqual(parseCron('0 0 * * 7').dayOfWeek.values, [0]);
});

/** systemd's next elapses (UTC, ISO) of our OnCalendar= lines from a base time. */
function systemdNext(specs: string[], base: string, n: number): string[] {
  const out = execFileSync('systemd-analyze', ['calendar', `--iterations=${n}`, `--base-time=${base}`, ...specs], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  const times = [...out.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => `${m[1].replace(' ', 'T')}.000Z`);
  return [...new Set(times)].sort().slice(0, n);
}

function ourNext(cron: string, base: Date, tz: string, n: number): string[] {
  const out: string[] = [];
  let t = base;
  for (let i = 0; i < n; i++) {
    t = nextRun(parseCron(cron), t, tz)!;
    out.push(t.toISOString());
  }
  return out;
}

test('next runs agree with systemd-analyze calendar, zones and DST included', () => {
  const cases: [string, string, string][] = [
    ['30 2 * * 1-5', 'UTC', '2026-12-03 10:00:00 UTC'],
    ['*/15 * * * *', 'UTC', '2026-12-03 10:07:00 UTC'],
    ['0 2 * * *', 'Europe/Berlin', '2026-10-23 12:00:00 UTC'], // across the end of DST
    ['30 2 * * *', 'Europe/Berlin', '2026-03-27 12:00:00 UTC'], // 02:30 does not exist on 29 March
    ['0 4 1 * *', 'America/New_York', '2026-12-15 00:00:00 UTC'],
    ['0 3 13 * 5', 'UTC', '2026-12-01 00:00:00 UTC'], // cron: the 13th OR a Friday
    ['0 0 1 1 *', 'UTC', '2026-12-03 00:00:00 UTC'],
  ];
  for (const [cron, tz, base] of cases) {
    const ours = ourNext(cron, new Date(base.replace(' UTC', 'Z').replace(' ', 'T')), tz, 4);
    assert.deepEqual(ours, systemdNext(onCalendar(parseCron(cron), tz), base, 4), `${cron} in ${tz} from ${base}`);
  }
  assert.equal(longestGap(parseCron('30 2 * * 1-5'), new Date('2026-12-03T00:00:00Z'), 'UTC'), 3 * 86_400_000);
  assert.equal(longestGap(parseCron('* * * * *'), new Date('2026-12-03T00:00:00Z'), 'UTC'), 60_000);
});

test('install (systemd form) writes units that pass systemd-analyze verify; the passphrase is only in a 0600 file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ucp-backup-units-'));
  const prev = process.env.UCP_BACKUP_STATE_DIR;
  process.env.UCP_BACKUP_STATE_DIR = join(dir, 'state');
  try {
    const secret = 'correct horse battery staple %$';
    const done = await installSchedule(
      { id: 'demo-nightly', cluster: 'demo', configFile: '/etc/ucp/clusters.json', cron: '0 3 13 * 5', timeZone: 'Europe/Berlin', destination: { kind: 'host', hostPath: '/var/backups/ucp' }, namePrefix: 'nightly-', engine: 'auto', includeLogs: false, encrypted: true, randomDelaySec: 900, copyTo: [] },
      secret,
      { mode: 'systemd', unitDir: join(dir, 'units'), enable: false, cli: [process.execPath, join(dir, 'my cli%.js')], workingDirectory: dir },
    );
    const units = readdirSync(join(dir, 'units')).sort();
    assert.deepEqual(units, ['ucp-backup-demo-nightly.service', 'ucp-backup-demo-nightly.timer']);
    execFileSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, 'units', u))], { stdio: 'pipe' });
    const service = readFileSync(join(dir, 'units', units[0]), 'utf8');
    const timer = readFileSync(join(dir, 'units', units[1]), 'utf8');
    assert.match(timer, /^OnCalendar=\*-\*-13 03:00:00 Europe\/Berlin$/m);
    assert.match(timer, /^OnCalendar=Fri \*-\*-\* 03:00:00 Europe\/Berlin$/m);
    assert.match(timer, /^Persistent=true$/m);
    assert.match(timer, /^RandomizedDelaySec=900$/m);
    const pass = join(dir, 'state', 'schedules', 'demo-nightly.passphrase');
    assert.match(service, new RegExp(`^LoadCredential=passphrase:${pass}$`, 'm'));
    assert.match(service, /^ExecStart=\S+ "\S+\/my cli%%\.js" schedule run-now demo-nightly --scheduled$/m);
    assert.equal(statSync(pass).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'state', 'schedules')).mode & 0o777, 0o700);
    for (const f of done.files) if (f !== pass) assert.ok(!readFileSync(f, 'utf8').includes('horse'), `${f} holds no passphrase`);
    const def = await loadSchedule('demo-nightly');
    assert.equal(await readSchedulePassphrase(def), secret);
    // Under systemd the run reads it from its credentials directory.
    const creds = join(dir, 'creds');
    execFileSync('sh', ['-c', `mkdir -p ${creds} && printf 'from-systemd-12\\n' > ${creds}/passphrase`]);
    assert.equal(await readSchedulePassphrase(def, { ...process.env, CREDENTIALS_DIRECTORY: creds }), 'from-systemd-12');
    assert.equal(clusterScheduleOf(def).intervalMs > 6 * 86_400_000, true, 'the 13th or a Friday: gaps up to a week');
  } finally {
    process.env.UCP_BACKUP_STATE_DIR = prev;
    if (prev === undefined) delete process.env.UCP_BACKUP_STATE_DIR;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a crontab line quotes for /bin/sh and escapes %, which cron would turn into a newline', () => {
  const line = cronLine({ id: 'x', cron: '* * * * *', command: ['/usr/bin/node', "/opt/it's%here/cli.js", 'schedule', 'run-now', 'x', '--scheduled'], workingDirectory: '/opt/a b', environment: { UCP_BACKUP_STATE_DIR: '/var/lib/u b' }, logFile: '/var/log/u.log' });
  assert.equal(line, `* * * * * cd '/opt/a b' && UCP_BACKUP_STATE_DIR='/var/lib/u b' /usr/bin/node '/opt/it'\\''s\\%here/cli.js' schedule run-now x --scheduled >>/var/log/u.log 2>&1 # ucp-backup schedule x`);
});

function rec(state: 'SUCCESS' | 'FAILED', at: string, why = '', fileName = `n-${at.replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')}.tar`): BackupRecord {
  return { id: `${state}-${at}`, encrypted: true, fileName, logFileName: '', backupPath: '/b', backupState: state, nodeLocation: 'm1', shortError: why, created_at: at, completed_at: at, cluster: 'demo' };
}

test('status: last good, next due and overdue follow from the history and the schedule', () => {
  const daily: ClusterSchedule = { id: 'nightly', cluster: 'demo', machine: 'ops', user: 'root', mode: 'systemd', cron: '0 2 * * *', timeZone: 'UTC', intervalMs: 86_400_000, randomDelaySec: 600, destination: 'host:/b', namePrefix: 'n-', copyTo: [], installedAt: '2026-11-01T00:00:00Z' };
  const history = [rec('SUCCESS', '2026-12-02T02:03:00Z'), rec('FAILED', '2026-12-03T02:04:00Z', 'No space left on manager1 in /b')];
  // 02:50 on the 3rd: the 02:00 run failed, but its grace (10 min delay + 1 h) has not passed.
  const early = clusterBackupStatus('demo', history, [daily], new Date('2026-12-03T02:50:00Z'));
  assert.equal(early.overdue, false);
  assert.equal(early.lastGood?.created_at, '2026-12-02T02:03:00Z');
  assert.equal(early.lastGoodAgeMs, (24 * 60 + 47) * 60_000);
  assert.equal(early.lastFailure?.why, 'No space left on manager1 in /b');
  assert.equal(early.nextDueAt, '2026-12-04T02:00:00.000Z');
  const late = clusterBackupStatus('demo', history, [daily], new Date('2026-12-03T03:11:00Z'));
  assert.deepEqual([late.overdue, late.overdueSince, late.schedules[0].dueAt], [true, '2026-12-03T02:00:00.000Z', '2026-12-03T02:00:00.000Z']);
  // A good backup after the failure clears both.
  const fixed = clusterBackupStatus('demo', [...history, rec('SUCCESS', '2026-12-03T09:00:00Z')], [daily], new Date('2026-12-03T10:00:00Z'));
  assert.deepEqual([fixed.overdue, fixed.lastFailure], [false, undefined]);
  // A manual backup (another name) is the cluster's last good one, but the timer is still late.
  const manual = clusterBackupStatus('demo', [...history, rec('SUCCESS', '2026-12-03T03:05:00Z', '', 'manual.tar')], [daily], new Date('2026-12-03T03:11:00Z'));
  assert.deepEqual([manual.lastGood?.fileName, manual.overdue, manual.overdueSince], ['manual.tar', true, '2026-12-03T02:00:00.000Z']);
  // Never a good backup: judged from the install; no schedule: never overdue.
  assert.equal(clusterBackupStatus('demo', [], [{ ...daily, installedAt: '2026-12-01T12:00:00Z' }], new Date('2026-12-02T03:30:00Z')).overdue, true);
  assert.deepEqual([clusterBackupStatus('demo', [], [], new Date()).overdue, clusterBackupStatus('other', history, [daily], new Date()).schedules], [false, []]);
});

test('a crontab that refuses before reading its input gives its own reason, not a broken pipe', async () => {
  // A stand-in crontab on PATH (not Debian's: this is about the pipe, which the real cron test
  // cannot force): `-l` prints 20,000 lines, so rewriting them is more than a pipe buffer;
  // `-` exits at once without reading, as crontab does for a user cron.deny lists.
  const dir = mkdtempSync(join(tmpdir(), 'ucp-crontab-'));
  const fake = join(dir, 'crontab');
  writeFileSync(
    fake,
    '#!/bin/sh\nif [ "$1" = "-l" ]; then i=0; while [ $i -lt 20000 ]; do echo "# line $i of an admin crontab"; i=$((i+1)); done; exit 0; fi\necho "You (root) are not allowed to use this program (crontab)" >&2\nexit 1\n',
    { mode: 0o755 },
  );
  const savedPath = process.env.PATH;
  process.env.PATH = `${dir}:${savedPath}`;
  try {
    const { installCronLine } = await import('../../src/core/schedule/crontab');
    await assert.rejects(installCronLine('s1', '* * * * * true # ucp-backup schedule s1'), (err: Error) => {
      assert.match(err.message, /crontab - failed: You \(root\) are not allowed/);
      assert.doesNotMatch(err.message, /EPIPE/);
      return true;
    });
  } finally {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  }
});
