// Open now / closed now / opens at, computed in the browser from an organisation's structured
// `hours` (contract: weekly intervals, intervals past midnight, "24:00", always_open, dated
// exceptions) in Asia/Bangkok with the browser clock, so a saved answer read offline hours
// later still says the right thing. Without structured hours it falls back to the server's
// open_now / next_change, and says "unknown" (call for hours) when neither is known.
// Pure logic: no DOM, no catalogue.

import { bkkParts, bkkMidnight, isoDayOf } from './time.js';

export const DAY_CODES = ['su', 'mo', 'tu', 'we', 'th', 'fr', 'sa']; // Date.getUTCDay() order
const MIN = 60 * 1000;
const DAY = 24 * 60 * MIN;

/** "08:30" -> 510, "24:00" -> 1440; NaN when malformed. */
export function parseHM(s) {
    const m = /^(\d{1,2}):(\d{2})$/.exec(String(s || ''));
    if (!m) return NaN;
    const hh = +m[1];
    const mm = +m[2];
    if (mm > 59 || hh > 24 || (hh === 24 && mm !== 0)) return NaN;
    return hh * 60 + mm;
}

/** [[start, end]] minutes of one interval; end > 1440 when it runs past midnight. */
function span(opensAt, closesAt) {
    const o = parseHM(opensAt);
    let c = parseHM(closesAt);
    if (Number.isNaN(o) || Number.isNaN(c)) return [];
    if (c <= o) c += 1440;
    return [[o, c]];
}

/** The exception covering the Bangkok day iso ("YYYY-MM-DD"), if any (the last one listed wins). */
function exceptionFor(hours, iso) {
    let found = null;
    for (const e of hours.exceptions || []) {
        const from = e.from || e.to;
        const to = e.to || e.from;
        if (from && iso >= from && iso <= to) found = e;
    }
    return found;
}

/** Minute intervals [start, end] scheduled for the Bangkok day iso with weekday dow. */
export function dayIntervals(hours, iso, dow) {
    const ex = exceptionFor(hours, iso);
    if (ex) {
        if (ex.closed) return [];
        if (ex.opens_at && ex.closes_at) return span(ex.opens_at, ex.closes_at);
    }
    const code = DAY_CODES[dow];
    const out = [];
    for (const w of hours.weekly || []) if (w.day === code) out.push(...span(w.opens_at, w.closes_at));
    return out;
}

/** Absolute [startMs, endMs] intervals from the day before `now` to `days` days after, merged. */
export function timeline(hours, now, days = 8) {
    const p = bkkParts(now);
    const raw = [];
    for (let k = -1; k <= days; k += 1) {
        const mid = bkkMidnight(p.y, p.m, p.d + k);
        const dow = new Date(mid + 7 * 3600 * 1000).getUTCDay();
        for (const [s, e] of dayIntervals(hours, isoDayOf(mid), dow)) raw.push([mid + s * MIN, mid + e * MIN]);
    }
    raw.sort((a, b) => a[0] - b[0]);
    const merged = [];
    for (const iv of raw) {
        const last = merged[merged.length - 1];
        if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
        else merged.push([iv[0], iv[1]]);
    }
    return merged;
}

/**
 * The state at `now`:
 *   {state: 'open', always: true}                      open 24 hours / always open
 *   {state: 'open', until: Date}                       open now, closes at until
 *   {state: 'closed', opensAt: Date | null}            closed now, opens next at opensAt
 *   {state: 'unknown'}                                 nothing known: call for hours
 * `source` says where it came from: 'hours' (computed here) or 'server' (open_now).
 * holidays: true when the organisation closes on public holidays (which the browser cannot
 * know: serverNow, the Date of a live answer, lets the server's open_now settle it).
 */
export function openState(org, now = new Date(), serverNow = null) {
    const mine = localState(org, now);
    // A live answer whose server clock agrees with ours (within 5 minutes) and whose open_now
    // differs knows something the browser cannot: a public holiday. Trust it then.
    if (serverNow && Math.abs(serverNow.getTime() - now.getTime()) < 5 * 60 * 1000 &&
        mine.source === 'hours' && (org.open_now === true || org.open_now === false) &&
        (mine.state === 'open') !== org.open_now) {
        const next = org.next_change ? new Date(org.next_change) : null;
        const ok = next && !Number.isNaN(next.getTime());
        return org.open_now
            ? { state: 'open', until: ok ? next : null, source: 'server', holidays: mine.holidays }
            : { state: 'closed', opensAt: ok ? next : null, source: 'server', holidays: mine.holidays };
    }
    return mine;
}

function localState(org, now) {
    const hours = org && org.hours;
    if (hours && typeof hours === 'object') {
        const holidays = !!hours.closed_on_public_holidays;
        if (hours.always_open) return { state: 'open', always: true, source: 'hours', holidays };
        const tl = timeline(hours, now);
        if (tl.length) {
            const t = now.getTime();
            const horizon = bkkMidnight(bkkParts(now).y, bkkParts(now).m, bkkParts(now).d + 8);
            for (const [s, e] of tl) {
                if (s <= t && t < e) {
                    if (e >= horizon && s <= t - DAY) return { state: 'open', always: true, source: 'hours', holidays };
                    return { state: 'open', until: new Date(e), source: 'hours', holidays };
                }
                if (s > t) return { state: 'closed', opensAt: new Date(s), source: 'hours', holidays };
            }
            return { state: 'closed', opensAt: null, source: 'hours', holidays };
        }
        const anyWeekly = (hours.weekly || []).length > 0;
        if (anyWeekly || (hours.exceptions || []).length) return { state: 'closed', opensAt: null, source: 'hours', holidays };
    }
    // No structured schedule: the server's verdict, as long as it has not expired.
    if (org && (org.open_now === true || org.open_now === false)) {
        const next = org.next_change ? new Date(org.next_change) : null;
        if (next && !Number.isNaN(next.getTime()) && now >= next) return { state: 'unknown', source: 'server' };
        if (org.open_now) return { state: 'open', until: next, source: 'server' };
        return { state: 'closed', opensAt: next, source: 'server' };
    }
    return { state: 'unknown', source: 'none' };
}

/** The weekly table for display: [{day: 'mo', spans: [['08:30', '16:30']]}] Monday first. */
export function weeklyTable(hours) {
    const order = ['mo', 'tu', 'we', 'th', 'fr', 'sa', 'su'];
    return order.map((day) => ({
        day,
        spans: (hours.weekly || [])
            .filter((w) => w.day === day)
            .sort((a, b) => parseHM(a.opens_at) - parseHM(b.opens_at))
            .map((w) => [w.opens_at, w.closes_at]),
    }));
}
