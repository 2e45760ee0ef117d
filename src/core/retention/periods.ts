/**
 * Calendar periods of an instant in a time zone: the buckets of policy retention. restic counts
 * a snapshot's day, week and month in its local time; we do the same in a named IANA zone (the
 * machine's by default), so a backup at 23:30 in Berlin is that day's, not the next one's in UTC.
 */
import { ConfigError } from '../errors';

export type PeriodKind = 'day' | 'week' | 'month' | 'year';

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short', hourCycle: 'h23' });
    } catch {
      throw new ConfigError(`Unknown time zone "${timeZone}".`, 'Give an IANA zone name such as UTC, Europe/Berlin or America/New_York.');
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Checks a zone name (throws ConfigError with what to give instead). */
export function checkTimeZone(timeZone: string): string {
  formatter(timeZone);
  return timeZone;
}

export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export interface LocalFields extends LocalDate {
  hour: number;
  minute: number;
  /** 0 = Sunday … 6 = Saturday, as cron counts. */
  weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function localFields(t: Date, timeZone: string): LocalFields {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(t).map((p) => [p.type, p.value]));
  return { year: +parts.year, month: +parts.month, day: +parts.day, hour: +parts.hour, minute: +parts.minute, weekday: WEEKDAYS.indexOf(parts.weekday) };
}

/** ISO 8601 week of a calendar date: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(d: LocalDate): { year: number; week: number } {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow); // the Thursday of this week decides its year
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, week };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The period's name, e.g. 2026-12-03, 2026-W49, 2026-12, 2026: what the dry run shows as the reason. */
export function periodKey(t: Date, kind: PeriodKind, timeZone: string): string {
  const d = localFields(t, timeZone);
  switch (kind) {
    case 'day':
      return `${d.year}-${pad(d.month)}-${pad(d.day)}`;
    case 'week': {
      const w = isoWeek(d);
      return `${w.year}-W${pad(w.week)}`;
    }
    case 'month':
      return `${d.year}-${pad(d.month)}`;
    case 'year':
      return String(d.year);
  }
}
