// An entry's history (coordinators and admins): /org/{id}/history and /person/{id}/history,
// from GET /v1/audit?entity=&id=. Each change says who, when and what, and shows the fields
// that changed as before → after, in words rather than JSON.

import { h, add } from '../dom.js';
import { t, pickText, fmtDateTime } from '../i18n.js';
import { api } from '../api.js';
import { guard, canon, orgSource, areaSource } from '../editkit.js';
import { orgTypes, professions, byCode } from '../ref.js';
import { errorText } from './answer.js';

const SKIP = new Set(['version', 'updated_at', 'created_at', 'id', 'coord_approx', 'demo', 'source']);

/** A value as short text: strings as they are, lists one item a line. */
function show(v) {
    if (v === null || v === undefined || v === '') return [t('edit.empty_value')];
    if (Array.isArray(v)) {
        if (!v.length) return [t('edit.empty_value')];
        return v.map((x) => (x && typeof x === 'object'
            ? (x.kind && x.value !== undefined ? `${t(`edit.ck_${x.kind}`)}: ${x.value}${x.extension ? ` ${t('edit.ext_short')} ${x.extension}` : ''}`
                : x.code ? [x.code, (x.target_groups || []).join(', '), (x.areas || []).join(', ')].filter(Boolean).join(' — ')
                    : x.day ? `${t(`edit.day_${x.day}`)} ${x.opens_at}-${x.closes_at}`
                        : Object.entries(x).filter(([, y]) => y !== null && y !== '' && !(Array.isArray(y) && !y.length)).map(([k, y]) => `${k}: ${Array.isArray(y) ? y.join(', ') : y}`).join('; '))
            : String(x)));
    }
    if (typeof v === 'object') {
        if (Array.isArray(v.weekly)) return [v.always_open ? t('edit.h_always') : null, ...show(v.weekly), v.closed_on_public_holidays ? t('edit.h_holidays') : null].filter(Boolean);
        return Object.entries(v).map(([k, y]) => `${k}: ${typeof y === 'object' ? JSON.stringify(y) : y}`);
    }
    if (typeof v === 'boolean') return [v ? t('edit.yes') : t('edit.no')];
    return [String(v)];
}

/** The fields that differ between before and after: [{key, before, after}]. */
export function diff(before, after) {
    const keys = new Set([...Object.keys(before || {}), ...Object.keys(after || {})]);
    const out = [];
    for (const k of keys) {
        if (SKIP.has(k)) continue;
        const b = before ? before[k] : undefined;
        const a = after ? after[k] : undefined;
        if (canon(b ?? null) !== canon(a ?? null)) out.push({ key: k, before: b, after: a });
    }
    return out;
}

/** Codes and ids named in the page language: [lines] or null to show the value as it is. */
async function named(key, v) {
    if (v === null || v === undefined || v === '') return null;
    const ref = async (listFn) => {
        const it = (await byCode(listFn)).get(v);
        return it ? [pickText(it, 'name')] : null;
    };
    switch (key) {
    case 'type': return ref(orgTypes);
    case 'profession': return ref(professions);
    case 'sector': return ref(async () => (await api('/v1/sectors', { keep: 'ref' })).data.items || []);
    case 'status': return [t(`status.${v}`)];
    case 'area_code': return [(await areaSource().nameOf(v)) || v];
    case 'parent_id':
    case 'successor_id': return [await orgSource().nameOf(v)];
    case 'verified_at':
    case 'status_date': return [fmtDateTime(v)];
    default: return null;
    }
}

const label = (k) => {
    const s = t(`edit.col_${k}`);
    return s === `edit.col_${k}` ? k : s;
};

export async function render(root, ctx) {
    const kind = ctx.path.startsWith('/org/') ? 'organization' : 'person';
    const id = ctx.params[0];
    const title0 = t('edit.history');
    if (!guard(root, ctx, title0)) return;
    const h1 = h('h1', { tabindex: '-1' }, title0);
    const loading = h('p', { class: 'loading', role: 'status' }, t('loading'));
    add(root, h1, loading);
    let entity;
    let items = [];
    try {
        entity = (await api(`/v1/${kind === 'organization' ? 'organizations' : 'people'}/${encodeURIComponent(id)}`)).data;
        let cursor = null;
        for (let page = 0; page < 10; page += 1) {
            const q = `/v1/audit?entity=${kind}&id=${encodeURIComponent(entity.id)}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
            const { data } = await api(q);
            items.push(...(data.items || []));
            cursor = data.next;
            if (!cursor) break;
        }
    } catch (e) {
        if (!ctx.current()) return;
        loading.remove();
        add(root, h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
        return;
    }
    if (!ctx.current()) return;
    loading.remove();
    const name = pickText(entity, 'name');
    h1.textContent = t('edit.history_of', { name });
    ctx.title(h1.textContent);
    items = items.sort((a, b) => String(b.at).localeCompare(String(a.at)) || b.id - a.id);
    const page = kind === 'organization' ? `/org/${entity.id}` : `/person/${entity.id}`;
    add(root,
        h('p', null, h('a', { href: page }, t('edit.back_to', { name }))),
        items.length ? h('ol', { class: 'history' }, await Promise.all(items.map(async (it) => {
            const changes = await Promise.all(diff(it.before, it.after).map(async (c) => ({
                ...c,
                beforeLines: (await named(c.key, c.before).catch(() => null)) || show(c.before),
                afterLines: (await named(c.key, c.after).catch(() => null)) || show(c.after),
            })));
            const act = t(`edit.act_${it.action}`);
            return h('li', { class: 'history-item' },
                h('h2', null, `${act === `edit.act_${it.action}` ? it.action : act} · ${fmtDateTime(it.at)}`),
                h('p', { class: 'muted' }, t('edit.by', { who: it.actor || '?' })),
                changes.length ? h('table', { class: 'diff' },
                    h('caption', { class: 'sr-only' }, t('edit.changes_caption')),
                    h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('edit.col_field')), h('th', { scope: 'col' }, t('edit.before')), h('th', { scope: 'col' }, t('edit.after')))),
                    h('tbody', null, changes.map((c) => h('tr', null,
                        h('th', { scope: 'row' }, label(c.key)),
                        h('td', { class: 'diff-before' }, h('del', null, c.beforeLines.map((l, i) => [i ? h('br') : null, l]))),
                        h('td', { class: 'diff-after' }, h('ins', null, c.afterLines.map((l, i) => [i ? h('br') : null, l]))))))) : h('p', { class: 'muted' }, t('edit.no_field_changes')));
        }))) : h('p', null, t('edit.no_history')));
}
