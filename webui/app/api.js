// The JSON API client: fetch with the CSRF token on changes, RFC 9457 problems turned into
// ApiError, and the offline memory of the app.
//
// Offline policy (see webui/README.md): answers (/v1/resolve) and organisation pages are kept
// so they can be shown without signal, marked "saved <time>, may be out of date".
//  - Anonymous: the last 20 are kept in Cache Storage ("dird-pages"), written here by the
//    page (which knows whether anyone is signed in), read back when the network fails or is
//    too slow. Reference lists (services, target groups, area names) go to "dird-ref".
//  - Signed in (or session unknown): nothing is written to storage; the last 20 are kept in
//    memory only, and vanish with the tab. Staff and people's contacts never touch the disk.
//  - Logging out deletes "dird-pages" and the memory.
// Every request uses cache: 'no-store' so the browser's HTTP cache never holds a signed-in
// answer that an anonymous user could later be shown.

export const PAGES_CACHE = 'dird-pages';
export const REF_CACHE = 'dird-ref';
export const MAX_SAVED = 20;
const MAX_REF = 300;

// gen counts session changes: an answer asked for under one session (signed in) and arriving
// under another (signed out meanwhile) is neither kept nor shown; it is asked for again.
const auth = { csrf: null, persist: false, gen: 0 };
const memory = new Map(); // absolute URL -> {data, at, keep}

/** Called by session.js: the CSRF token (memory only) and whether storage may be written. */
export function setAuth({ csrf, persist }) {
    if ((csrf || null) !== auth.csrf) auth.gen += 1; // signed in, out, or as someone else
    auth.csrf = csrf || null;
    auth.persist = !!persist;
}

export class ApiError extends Error {
    constructor(status, problem, { offline = false, retryAfter = null } = {}) {
        super((problem && (problem.detail || problem.title)) || (offline ? 'offline' : `HTTP ${status}`));
        this.status = status;
        this.problem = problem || null;
        this.offline = offline;
        this.retryAfter = retryAfter;
    }
}

function absolute(path) {
    return new URL(path, location.origin).href;
}

const hasCaches = () => typeof caches !== 'undefined' && window.isSecureContext;

async function recall(url, keep) {
    const m = memory.get(url);
    let best = m ? { data: m.data, savedAt: new Date(m.at) } : null;
    if (!best && hasCaches()) {
        try {
            const cache = await caches.open(keep === 'ref' ? REF_CACHE : PAGES_CACHE);
            const res = await cache.match(url);
            if (res) {
                const at = res.headers.get('X-Dird-Saved-At');
                best = { data: await res.json(), savedAt: at ? new Date(at) : null };
            }
        } catch (e) { /* storage unavailable: nothing saved */ }
    }
    return best;
}

async function remember(url, data, keep) {
    const now = Date.now();
    memory.delete(url);
    memory.set(url, { data, at: now, keep });
    const pages = [...memory.entries()].filter(([, v]) => v.keep === 'page');
    for (let i = 0; i < pages.length - MAX_SAVED; i += 1) memory.delete(pages[i][0]);
    if (!auth.persist || !hasCaches()) return;
    try {
        const cache = await caches.open(keep === 'ref' ? REF_CACHE : PAGES_CACHE);
        await cache.delete(url); // re-inserted last: keys() stay oldest first
        await cache.put(url, new Response(JSON.stringify(data), {
            headers: { 'Content-Type': 'application/json', 'X-Dird-Saved-At': new Date(now).toISOString() },
        }));
        const keys = await cache.keys();
        const max = keep === 'ref' ? MAX_REF : MAX_SAVED;
        for (let i = 0; i < keys.length - max; i += 1) await cache.delete(keys[i]);
    } catch (e) { /* quota or storage off: the memory copy remains */ }
}

function retryAfterOf(res) {
    const v = res.headers.get('Retry-After');
    if (!v) return null;
    const n = Number(v);
    if (Number.isFinite(n)) return n;
    const d = Date.parse(v);
    return Number.isNaN(d) ? null : Math.max(0, Math.round((d - Date.now()) / 1000));
}

async function send(url, method, body, timeoutMs, extra = {}) {
    const headers = { Accept: 'application/json', ...extra };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && method !== 'HEAD' && auth.csrf) headers['X-CSRF-Token'] = auth.csrf;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    let res;
    try {
        res = await fetch(url, {
            method, headers, credentials: 'same-origin', cache: 'no-store', signal: ctl.signal,
            body: body === undefined ? undefined : JSON.stringify(body),
        });
    } catch (e) {
        throw new ApiError(0, null, { offline: true });
    } finally {
        clearTimeout(timer);
    }
    let data = null;
    const text = await res.text().catch(() => '');
    if (text) {
        try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!res.ok) throw new ApiError(res.status, data, { retryAfter: retryAfterOf(res) });
    const date = Date.parse(res.headers.get('Date') || '');
    return { data, serverDate: Number.isNaN(date) ? null : new Date(date) };
}

/**
 * api('/v1/resolve?area=1007', {keep: 'page'}) -> {data, savedAt, serverDate}
 * serverDate is the answer's Date header (null for a saved copy); savedAt is null for a live answer, the Date it was saved when the network failed (or was
 * slower than 8 s) and a saved copy was shown instead. keep: 'page' (one of the last 20
 * answers and pages), 'ref' (reference lists) or nothing. Throws ApiError (offline: true
 * when there was no network and nothing saved). headers: extra request headers (If-Match,
 * Idempotency-Key) for changes.
 */
export async function api(path, opts = {}) {
    try {
        return await attempt(path, opts);
    } catch (e) {
        // A 401 outside /v1/session: the session ended (logged out on another device, expired);
        // the server has cleared the cookie. Tell session.js, then ask again anonymously.
        if (e.status === 401 && !new URL(absolute(path)).pathname.startsWith('/v1/session')) {
            if (onLost) await onLost();
            return attempt(path, opts);
        }
        throw e;
    }
}

let onLost = null;

/** session.js: called when a request finds the session gone. */
export function onSessionLost(fn) {
    onLost = fn;
}

async function attempt(path, { method = 'GET', body, keep, headers } = {}, again = 1) {
    const url = absolute(path);
    const gen = auth.gen;
    // The session changed while the answer was on its way: ask again as who we are now.
    const stale = () => gen !== auth.gen && method === 'GET' && again > 0;
    if (method !== 'GET' || !keep) {
        const live = await send(url, method, body, 30000, headers);
        if (stale()) return attempt(path, { method, body, keep, headers }, again - 1);
        return { ...live, savedAt: null };
    }
    const saved = await recall(url, keep);
    try {
        const live = await send(url, 'GET', undefined, saved ? 8000 : 30000);
        if (gen !== auth.gen) {
            if (again > 0) return attempt(path, { method, body, keep }, again - 1);
            throw new ApiError(0, null, { offline: true });
        }
        await remember(url, live.data, keep);
        return { ...live, savedAt: null };
    } catch (e) {
        // What was recalled belonged to the session before the change: never show it now.
        if (gen !== auth.gen) throw e;
        if (saved && (e.offline || e.status >= 500)) return { data: saved.data, savedAt: saved.savedAt || new Date(), serverDate: null };
        throw e;
    }
}

const SAVED_KINDS = [/^\/v1\/resolve$/, /^\/v1\/organizations\/[^/]+$/, /^\/v1\/people\/[^/]+$/];
const savedKind = (url) => SAVED_KINDS.some((re) => re.test(new URL(url).pathname));

/**
 * The saved answers and pages (resolve, organisations, people), newest first:
 * [{path: '/v1/resolve?...', data, savedAt}], from memory and (anonymous) Cache Storage.
 */
export async function savedPages() {
    const out = new Map();
    for (const [url, v] of memory) {
        if (v.keep === 'page' && savedKind(url)) out.set(url, { data: v.data, savedAt: new Date(v.at) });
    }
    if (hasCaches()) {
        try {
            const cache = await caches.open(PAGES_CACHE);
            for (const req of await cache.keys()) {
                if (out.has(req.url) || !savedKind(req.url)) continue;
                const res = await cache.match(req);
                const at = res.headers.get('X-Dird-Saved-At');
                out.set(req.url, { data: await res.json(), savedAt: at ? new Date(at) : null });
            }
        } catch (e) { /* nothing readable */ }
    }
    return [...out.entries()]
        .map(([url, v]) => ({ path: new URL(url).pathname + new URL(url).search, ...v }))
        .sort((a, b) => (b.savedAt || 0) - (a.savedAt || 0));
}

/** Forgets every saved answer and page (logout): memory and Cache Storage. */
export async function clearSaved() {
    memory.clear();
    if (hasCaches()) {
        try { await caches.delete(PAGES_CACHE); } catch (e) { /* already gone */ }
    }
}
