// Shared by the coordinators' worklists (/work/verify, /work/reports): who may see them, and
// how a failed write is said in the page language.

import { h, add } from './dom.js';
import { t, currentLang } from './i18n.js';
import { roleRank } from './shell.js';

/**
 * True when a coordinator or admin is signed in; otherwise writes the reason into ROOT (a
 * sign-in link for anonymous callers, "for coordinators" for caseworkers) and returns false.
 * The API refuses these calls anyway (401/403): this only keeps the screen honest.
 */
export function needCoordinator(root, title) {
    const rank = roleRank();
    if (rank >= 2) return true;
    add(root, h('h1', { tabindex: '-1' }, title));
    if (rank === 0) {
        const next = location.pathname + location.search;
        add(root, h('p', null, t('work.need_login')),
            h('p', null, h('a', { href: `/login?next=${encodeURIComponent(next)}` }, t('nav.login'))));
    } else {
        add(root, h('p', { class: 'form-error', role: 'alert' }, t('work.need_coordinator')));
    }
    return false;
}

/** Why a write failed, for one row: 412 changed by someone else, 404 gone, 403, offline... */
export function writeError(e) {
    if (e.offline) return t('work.err_offline');
    if (e.status === 412) return t('work.err_changed');
    if (e.status === 404) return t('work.err_gone');
    if (e.status === 409) return t('work.err_state');
    if (e.status === 401 || e.status === 403) return t('work.err_forbidden');
    if (e.status === 429) return t('error.busy');
    if (e.status === 400 && e.problem && Array.isArray(e.problem.errors) && e.problem.errors.length) {
        const key = currentLang() === 'th' ? 'message_th' : 'message_en';
        return e.problem.errors.map((x) => `${x.field}: ${x[key] || x.message_en || ''}`).join('; ');
    }
    return t('work.err_other', { status: e.status || '?' });
}

/** The route of an entity's page. */
export function entityHref(entity, id) {
    if (entity === 'person') return `/person/${encodeURIComponent(id)}`;
    if (entity === 'area') return `/answer?area=${encodeURIComponent(id)}`;
    return `/org/${encodeURIComponent(id)}`;
}
