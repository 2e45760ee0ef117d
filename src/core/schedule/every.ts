/**
 * `--every` in words an admin writes, turned into the cron expression everything else uses:
 * "hourly", "hourly :15", "daily 02:00", "weekly sun 03:30", "monthly 1 04:00",
 * "15 minutes", "6 hours".
 */
import { ConfigError } from '../errors';
import { DAYS } from './cron';

const HINT = 'Say e.g. "daily 02:00", "hourly :15", "weekly sun 03:30", "monthly 1 04:00", "15 minutes" or "6 hours" — or give --cron "EXPR".';

function hhmm(text: string | undefined, what: string): [number, number] {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text ?? '');
  if (!m || +m[1] > 23 || +m[2] > 59) throw new ConfigError(`--every "${what}": "${text ?? ''}" is not a time of day (HH:MM, 24-hour).`, HINT);
  return [+m[1], +m[2]];
}

export function everyToCron(every: string): string {
  const words = every.trim().toLowerCase().split(/\s+/);
  const [kind, a, b] = words;
  const n = Number(kind);
  if (Number.isInteger(n) && n > 0 && words.length === 2) {
    if (/^(m|min|mins|minute|minutes)$/.test(a) && 60 % n === 0) return n === 1 ? '* * * * *' : `*/${n} * * * *`;
    if (/^(h|hour|hours)$/.test(a) && 24 % n === 0) return `0 ${n === 1 ? '*' : `*/${n}`} * * *`;
    throw new ConfigError(`--every "${every}": ${n} ${a} does not divide an ${/^h/.test(a) ? 'day' : 'hour'} evenly, or the unit is not minutes or hours.`, HINT);
  }
  if (kind === 'hourly' && words.length <= 2) {
    const m = a === undefined ? 0 : /^:(\d{2})$/.test(a) ? Number(a.slice(1)) : NaN;
    if (!(m >= 0 && m <= 59)) throw new ConfigError(`--every "${every}": the minute is ":MM", e.g. "hourly :15".`, HINT);
    return `${m} * * * *`;
  }
  if (kind === 'daily' && words.length === 2) {
    const [h, m] = hhmm(a, every);
    return `${m} ${h} * * *`;
  }
  if (kind === 'weekly' && words.length === 3) {
    const d = DAYS.indexOf(a.slice(0, 3));
    if (d < 0 || !DAYS[d].startsWith(a.slice(0, 3))) throw new ConfigError(`--every "${every}": "${a}" is not a day of the week.`, HINT);
    const [h, m] = hhmm(b, every);
    return `${m} ${h} * * ${d}`;
  }
  if (kind === 'monthly' && words.length === 3) {
    const d = Number(a);
    if (!Number.isInteger(d) || d < 1 || d > 28) throw new ConfigError(`--every "${every}": the day of the month is 1-28 (every month has it).`, HINT);
    const [h, m] = hhmm(b, every);
    return `${m} ${h} ${d} * *`;
  }
  throw new ConfigError(`--every "${every}" is not a schedule this understands.`, HINT);
}
