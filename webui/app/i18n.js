// The page language: Thai by default, English by one tap, remembered in localStorage. Every
// visible string comes from one catalogue per language (app/i18n/th.js, app/i18n/en.js);
// dates are Buddhist era in Thai ("12 ม.ค. 2569") and Common Era in English ("12 Jan 2026").

import { bkkParts, parseApiDate } from './time.js';

export const LANGS = ['th', 'en'];
const KEY = 'dird.lang';
let lang = 'th';
let cat = {};
const listeners = new Set();

export function currentLang() {
    return lang;
}

/** The remembered language, else Thai. */
export function savedLang() {
    try {
        const l = localStorage.getItem(KEY);
        if (LANGS.includes(l)) return l;
    } catch (e) { /* storage may be off: Thai */ }
    return 'th';
}

/** Loads the catalogue of l, sets <html lang>, remembers the choice, tells listeners. */
export async function setLang(l, { remember = true } = {}) {
    if (!LANGS.includes(l)) l = 'th';
    const mod = l === 'en' ? await import('./i18n/en.js') : await import('./i18n/th.js');
    cat = mod.default;
    lang = l;
    document.documentElement.lang = l;
    if (remember) {
        try { localStorage.setItem(KEY, l); } catch (e) { /* not remembered, still switched */ }
    }
    for (const fn of listeners) fn(l);
}

export function onLangChange(fn) {
    listeners.add(fn);
}

/** t('answer.title', {area: 'ปทุมวัน'}): the catalogue string with {name} filled in. */
export function t(key, params) {
    let s = cat[key];
    if (s === undefined) s = key;
    if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
    return s;
}

/** A catalogue list (months, weekdays). */
export function list(key) {
    return cat[key] || [];
}

/**
 * The field in the page language with its language: pick(org, 'name') -> {text, lang}.
 * Falls back to the other language (the caller sets lang= on the element when it differs).
 */
export function pick(obj, base) {
    if (!obj) return { text: '', lang };
    const other = lang === 'th' ? 'en' : 'th';
    const mine = obj[`${base}_${lang}`];
    if (mine) return { text: mine, lang };
    const theirs = obj[`${base}_${other}`];
    if (theirs) return { text: theirs, lang: other };
    return { text: '', lang };
}

/** Just the text of pick(). */
export function pickText(obj, base) {
    return pick(obj, base).text;
}

/** The era year: Buddhist era (C.E. + 543) in Thai. */
export function year(ce) {
    return lang === 'th' ? ce + 543 : ce;
}

/** "12 ม.ค. 2569" / "12 Jan 2026" (Bangkok day) from an API date, a Date or null. */
export function fmtDate(v) {
    const d = v instanceof Date ? v : parseApiDate(v);
    if (!d) return '';
    const p = bkkParts(d);
    return t('fmt.date', { d: p.d, month: list('months.short')[p.m - 1], y: year(p.y) });
}

/** "08:30 น." / "08:30" (Bangkok). */
export function fmtTime(v) {
    const d = v instanceof Date ? v : parseApiDate(v);
    if (!d) return '';
    const p = bkkParts(d);
    const hm = `${String(p.hh).padStart(2, '0')}:${String(p.mm).padStart(2, '0')}`;
    return t('fmt.time', { hm });
}

/** A date and a time, or just the time when it is today in Bangkok. */
export function fmtDateTime(v, now = new Date()) {
    const d = v instanceof Date ? v : parseApiDate(v);
    if (!d) return '';
    const a = bkkParts(d);
    const b = bkkParts(now);
    if (a.y === b.y && a.m === b.m && a.d === b.d) return t('fmt.today_time', { time: fmtTime(d) });
    return t('fmt.date_time', { date: fmtDate(d), time: fmtTime(d) });
}

/** "ประมาณ 3.2 กม." / "about 3.2 km". */
export function fmtKm(km) {
    const n = km < 10 ? km.toFixed(1) : String(Math.round(km));
    return t('fmt.km', { n });
}
