/**
 * Schedules as 5-field cron expressions (minute hour day-of-month month day-of-week, as
 * crontab(5)): parsed once, then used three ways — the crontab line itself, the systemd
 * OnCalendar= it becomes (./systemdUnits.ts), and the next run times that "next due" and
 * "overdue" are computed from (./status.ts). `--every "daily 02:00"` is turned into one too.
 */
import { ConfigError } from '../errors';
import { localFields } from '../retention/periods';

export interface CronField {
  /** The values it matches, ascending. */
  values: number[];
  /** `*` (or `*\/1`): cron's day rule cares whether day-of-month / day-of-week were restricted. */
  any: boolean;
}

export interface CronSchedule {
  expression: string;
  minute: CronField;
  hour: CronField;
  dayOfMonth: CronField;
  month: CronField;
  /** 0 = Sunday … 6 = Saturday (7 is read as 0). */
  dayOfWeek: CronField;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS },
];

const MACROS: Record<string, string> = { '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *', '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *' };

function parseField(text: string, f: (typeof FIELDS)[number], expr: string): CronField {
  const bad = (why: string) => new ConfigError(`Cron expression "${expr}": the ${f.name} field "${text}" ${why}.`, 'Use crontab(5) syntax: five fields "minute hour day-of-month month day-of-week", e.g. "30 2 * * *".');
  const num = (s: string) => {
    const named = f.names?.indexOf(s.toLowerCase()) ?? -1;
    if (named >= 0) return named + (f.name === 'month' ? 1 : 0);
    if (!/^\d+$/.test(s)) throw bad(`has "${s}", which is not a number${f.names ? ' or a name' : ''}`);
    const n = Number(s);
    if (n < f.min || n > f.max) throw bad(`has ${n}, outside ${f.min}-${f.max}`);
    return n;
  };
  const set = new Set<number>();
  let any = false;
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) throw bad('is not valid');
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw bad('has a step of 0');
    let lo: number;
    let hi: number;
    if (m[1] === '*') {
      [lo, hi] = [f.min, f.name === 'day of week' ? 6 : f.max];
      if (step === 1) any = true;
    } else if (m[1].includes('-')) {
      const [a, b] = m[1].split('-');
      [lo, hi] = [num(a), num(b)];
      if (lo > hi) throw bad(`has the range ${m[1]}, which runs backwards`);
    } else {
      lo = num(m[1]);
      hi = m[2] === undefined ? lo : f.name === 'day of week' ? 6 : f.max;
    }
    for (let v = lo; v <= hi; v += step) set.add(f.name === 'day of week' && v === 7 ? 0 : v);
  }
  return { values: [...set].sort((a, b) => a - b), any };
}

export function parseCron(expression: string): CronSchedule {
  const expr = expression.trim().replace(/\s+/g, ' ');
  const fields = (MACROS[expr.toLowerCase()] ?? expr).split(' ');
  if (fields.length !== 5) {
    throw new ConfigError(`Cron expression "${expression}" has ${fields.length} field(s), not 5.`, 'Give "minute hour day-of-month month day-of-week", e.g. "30 2 * * *" (quoted).');
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields.map((t, i) => parseField(t, FIELDS[i], expression));
  return { expression: fields.join(' '), minute, hour, dayOfMonth, month, dayOfWeek };
}

/** crontab(5): when both day fields are restricted, a day matching either one runs. */
function dayMatches(s: CronSchedule, day: number, weekday: number): boolean {
  const dom = s.dayOfMonth.values.includes(day);
  const dow = s.dayOfWeek.values.includes(weekday);
  if (!s.dayOfMonth.any && !s.dayOfWeek.any) return dom || dow;
  return dom && dow;
}

/**
 * The first run strictly after `after`, in `timeZone` (cron runs on the machine's local time).
 * Walks minute by minute only inside a matching hour, else hour by hour, so a year ahead is
 * a few thousand steps; undefined when nothing matches within ~4 years (e.g. "0 0 30 2 *").
 */
export function nextRun(s: CronSchedule, after: Date, timeZone: string): Date | undefined {
  let t = Math.floor(after.getTime() / 60_000) * 60_000 + 60_000;
  const end = t + 4 * 366 * 86_400_000;
  while (t < end) {
    const f = localFields(new Date(t), timeZone);
    if (!s.month.values.includes(f.month) || !dayMatches(s, f.day, f.weekday) || !s.hour.values.includes(f.hour)) {
      t += (60 - f.minute) * 60_000; // to the next hour (an hour is an hour in every zone's DST jumps we know)
      continue;
    }
    if (s.minute.values.includes(f.minute)) {
      // The hour that repeats when DST ends runs once, as with cron and systemd: its first time.
      const hourAgo = localFields(new Date(t - 3_600_000), timeZone);
      if (hourAgo.day !== f.day || hourAgo.hour !== f.hour || hourAgo.minute !== f.minute) return new Date(t);
    }
    t += 60_000;
  }
  return undefined;
}

/**
 * The longest gap between two runs over the coming year (at most 400 runs looked at): the
 * "expected interval" a cluster's last good backup is judged by.
 */
export function longestGap(s: CronSchedule, from: Date, timeZone: string): number | undefined {
  let prev = nextRun(s, from, timeZone);
  if (!prev) return undefined;
  let gap = 0;
  const stop = from.getTime() + 366 * 86_400_000;
  for (let i = 0; i < 400 && prev.getTime() < stop; i++) {
    const next = nextRun(s, prev, timeZone);
    if (!next) break;
    gap = Math.max(gap, next.getTime() - prev.getTime());
    prev = next;
  }
  return gap || undefined;
}
