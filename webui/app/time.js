// Bangkok wall-clock time (Asia/Bangkok is UTC+7 all year, no daylight saving), computed with
// plain arithmetic so it is the same on every phone whatever its own time zone or ICU data.

export const BKK_OFFSET_MS = 7 * 3600 * 1000;

/** {y, m (1-12), d, dow (0 = Sunday), hh, mm, min (minutes since midnight)} in Bangkok. */
export function bkkParts(date) {
    const t = new Date(date.getTime() + BKK_OFFSET_MS);
    const hh = t.getUTCHours();
    const mm = t.getUTCMinutes();
    return {
        y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), dow: t.getUTCDay(),
        hh, mm, min: hh * 60 + mm,
    };
}

/** The instant of Bangkok midnight starting the day y-m-d (m 1-12; d may overflow). */
export function bkkMidnight(y, m, d) {
    return Date.UTC(y, m - 1, d) - BKK_OFFSET_MS;
}

/** "YYYY-MM-DD" of the Bangkok day that starts at the instant ms (a bkkMidnight value). */
export function isoDayOf(ms) {
    const t = new Date(ms + BKK_OFFSET_MS);
    const p = (n) => String(n).padStart(2, '0');
    return `${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())}`;
}

/**
 * Parses what the API gives as a date: "2026-08-24T10:56:13Z" (an instant) or "2017-09-30"
 * (a calendar day, taken as that day in Bangkok). Answers a Date or null.
 */
export function parseApiDate(s) {
    if (typeof s === 'number') return new Date(s * 1000);
    if (typeof s !== 'string' || !s) return null;
    const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    if (day) return new Date(bkkMidnight(+day[1], +day[2], +day[3]) + 12 * 3600 * 1000);
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? null : d;
}
