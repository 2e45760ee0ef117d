/**
 * The systemd form of a schedule: ucp-backup-<id>.timer (OnCalendar= from the cron expression,
 * Persistent=true so a run missed while the machine was off happens at boot, RandomizedDelaySec=)
 * and ucp-backup-<id>.service, a oneshot that runs `ucp-backup schedule run-now <id>`. The
 * passphrase reaches it through LoadCredential=: systemd copies the 0600 file into a private
 * credentials directory of that run only; it is in no argv, environment or unit text.
 */
import { parseCron, type CronField, type CronSchedule } from './cron';

const DOW = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function list(f: CronField, pad: boolean): string {
  return f.any ? '*' : f.values.map((v) => (pad ? String(v).padStart(2, '0') : String(v))).join(',');
}

/**
 * OnCalendar= values for a cron expression. systemd ANDs the weekday with the date, while cron
 * ORs a restricted day-of-month with a restricted day-of-week: that case is two OnCalendar= lines.
 */
export function onCalendar(cron: CronSchedule, timeZone?: string): string[] {
  const time = `${list(cron.hour, true)}:${list(cron.minute, true)}:00`;
  const zone = timeZone ? ` ${timeZone}` : '';
  const date = (dom: string) => `*-${list(cron.month, true)}-${dom}`;
  const dows = cron.dayOfWeek.values.map((d) => DOW[d]).join(',');
  if (!cron.dayOfMonth.any && !cron.dayOfWeek.any) return [`${date(list(cron.dayOfMonth, true))} ${time}${zone}`, `${dows} ${date('*')} ${time}${zone}`];
  return [`${cron.dayOfWeek.any ? '' : `${dows} `}${date(list(cron.dayOfMonth, true))} ${time}${zone}`];
}

/** One ExecStart= word: quoted when it must be; `%` and `$` are systemd's specifiers and variables. */
function execWord(w: string): string {
  const escaped = w.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface UnitInput {
  id: string;
  cluster: string;
  cron: string;
  /** Omitted when it is the machine's own zone. */
  timeZone?: string;
  randomDelaySec?: number;
  /** The command that runs one backup of the schedule, argv[0] absolute. */
  command: string[];
  workingDirectory: string;
  environment: Record<string, string>;
  /** The 0600 passphrase file (LoadCredential=passphrase:<it>); none for --no-passphrase. */
  passphraseFile?: string;
}

export function unitName(id: string): string {
  return `ucp-backup-${id}`;
}

export function renderUnits(u: UnitInput): { service: string; timer: string } {
  const name = unitName(u.id);
  const env = Object.entries(u.environment).map(([k, v]) => `Environment=${execWord(`${k}=${v}`)}`);
  const service = [
    '# Written by `ucp-backup schedule install`; `ucp-backup schedule remove` removes it.',
    '[Unit]',
    `Description=UCP backup of cluster ${u.cluster} (schedule ${u.id})`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `WorkingDirectory=${u.workingDirectory}`,
    ...env,
    ...(u.passphraseFile ? [`LoadCredential=passphrase:${u.passphraseFile}`] : []),
    `ExecStart=${u.command.map(execWord).join(' ')}`,
    // Exit 3 is "another backup was running": the next run will do; not a unit failure.
    'SuccessExitStatus=3',
    'UMask=0077',
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    '',
  ].join('\n');
  const timer = [
    '# Written by `ucp-backup schedule install`; `ucp-backup schedule remove` removes it.',
    '[Unit]',
    `Description=UCP backup of cluster ${u.cluster} (schedule ${u.id}): ${u.cron}`,
    '',
    '[Timer]',
    ...onCalendar(parseCron(u.cron), u.timeZone).map((c) => `OnCalendar=${c}`),
    'Persistent=true',
    ...(u.randomDelaySec ? [`RandomizedDelaySec=${u.randomDelaySec}`] : []),
    `Unit=${name}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { service, timer };
}
