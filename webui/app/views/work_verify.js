// /work/verify?entity=organization|person&zone=&district=&type= — the coordinators' "needs
// verification" worklist (GET /v1/worklist/verification): entries never verified or verified
// longer ago than the stale threshold, most stale first, filtered by zone group, district and
// type; each row opens the entity. "Mark verified" on one row, or on every selected row at
// once after a phone round: each write is its own POST .../verify with the row's If-Match, so
// one entry changed by someone else meanwhile (412) fails alone and is shown with the reason,
// while the others are done and leave the list.

import { h, uid, add, clear } from '../dom.js';
import { t, pickText, fmtDate } from '../i18n.js';
import { api } from '../api.js';
import { areaGroups, orgTypes, byCode, districts, areaName } from '../ref.js';
import { refSelect } from './start.js';
import { errorText } from './answer.js';
import { needCoordinator, writeError, entityHref } from '../work.js';

const PAGE = 50;
const PARALLEL = 3; // writes in flight at once during a bulk run

function select({ label, name, items, value, any }) {
    const id = uid(name);
    const el = h('select', { id, name },
        any ? h('option', { value: '' }, any) : null,
        items.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
    return { el: h('div', { class: 'field' }, h('label', { for: id }, label), el), select: el };
}

function filterForm(ctx, q, zones, dists, typeList) {
    const entity = select({
        label: t('work.verify.entity'), name: 'entity', value: q.get('entity') || 'organization',
        items: [['organization', t('work.verify.orgs')], ['person', t('work.verify.people')]],
    });
    const zone = select({
        label: t('work.verify.zone'), name: 'zone', value: q.get('zone') || '', any: t('search.any'),
        items: zones.map((z) => [z.code, pickText(z, 'name')]),
    });
    const district = select({
        label: t('work.verify.district'), name: 'district', value: q.get('district') || '', any: t('search.any'),
        items: dists.map((d) => [d.code, areaName(d)]),
    });
    const type = refSelect({ label: t('work.verify.type'), anyLabel: t('search.any'), name: 'type', items: typeList, value: q.get('type') });
    const form = h('form', { class: 'work-filters', 'aria-label': t('work.verify.filters') },
        entity.el, zone.el, district.el, type.el,
        h('button', { type: 'submit', class: 'btn btn-primary' }, t('work.verify.show')));
    form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const p = new URLSearchParams();
        if (entity.select.value === 'person') p.set('entity', 'person');
        for (const [k, s] of [['zone', zone.select], ['district', district.select], ['type', type.select]]) if (s.value) p.set(k, s.value);
        ctx.navigate(`/work/verify${p.toString() ? `?${p}` : ''}`);
    });
    return form;
}

/** POST /v1/{organizations|people}/{id}/verify with the row's version; throws ApiError. */
async function verify(item) {
    const base = item.entity === 'person' ? '/v1/people' : '/v1/organizations';
    const { data } = await api(`${base}/${encodeURIComponent(item.id)}/verify`, {
        method: 'POST', headers: { 'If-Match': `"${item.version}"` },
    });
    return data;
}

export async function render(root, ctx) {
    const title = t('work.verify.title');
    ctx.title(title);
    if (!needCoordinator(root, title)) return;
    const q = ctx.query;
    const entity = q.get('entity') === 'person' ? 'person' : 'organization';
    const [groups, typeList, dists] = await Promise.all([areaGroups(), orgTypes(), districts('10').catch(() => [])]);
    if (!ctx.current()) return;
    const types = new Map(typeList.map((x) => [x.code, x]));
    const zones = groups.filter((g) => g.kind === 'zone');
    dists.sort((a, b) => pickText(a, 'name').localeCompare(pickText(b, 'name'), document.documentElement.lang));

    add(root, h('h1', { tabindex: '-1' }, title),
        h('p', { class: 'lead' }, t('work.verify.lead')),
        filterForm(ctx, q, zones, dists, typeList));

    const rows = new Map(); // id -> {item, li, box, err}
    const listId = uid('worklist');
    const count = h('p', { class: 'count', role: 'status' }, t('loading'));
    const summary = h('div', { class: 'work-summary', role: 'status' });
    const failures = h('div', { class: 'work-failures' });
    const list = h('ul', { class: 'work-list', id: listId, 'aria-label': t('work.verify.list') });
    const more = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, t('search.more'));
    const allId = uid('all');
    const all = h('input', { type: 'checkbox', id: allId, 'aria-controls': listId });
    const bulk = h('button', { type: 'button', class: 'btn btn-primary', disabled: true }, t('work.verify.bulk', { n: 0 }));
    const toolbar = h('div', { class: 'work-toolbar' },
        h('div', { class: 'field check' }, all, h('label', { for: allId }, t('work.verify.select_all'))), bulk);
    let next = null;
    let more_ = false;

    const selected = () => [...rows.values()].filter((r) => r.box.checked);
    const refresh = () => {
        const n = selected().length;
        bulk.textContent = t('work.verify.bulk', { n });
        bulk.disabled = n === 0;
        all.checked = rows.size > 0 && n === rows.size;
        all.indeterminate = n > 0 && n < rows.size;
        count.textContent = rows.size ? t(more_ ? 'work.verify.count_more' : 'work.verify.count', { n: rows.size }) : t('work.verify.none');
        toolbar.hidden = rows.size === 0;
    };

    const rowOf = (item) => {
        const name = pickText(item, 'name');
        const boxId = uid('pick');
        const box = h('input', { type: 'checkbox', id: boxId, 'aria-label': t('work.verify.select_one', { name }) });
        box.addEventListener('change', refresh);
        const type = item.type && types.get(item.type) ? pickText(types.get(item.type), 'name') : null;
        const district = item.district ? areaName({ kind: 'district', code: item.district, name_th: item.district_name_th, name_en: item.district_name_en }) : null;
        const when = item.verified_at
            ? h('span', { class: 'badge badge-stale' }, t('verified.stale', { date: fmtDate(item.verified_at) }))
            : h('span', { class: 'badge badge-stale' }, t('verified.never'));
        const err = h('p', { class: 'row-error', hidden: true });
        const one = h('button', { type: 'button', class: 'btn btn-secondary', 'aria-label': t('work.verify.one_label', { name }) }, t('work.verify.one'));
        const li = h('li', { class: 'work-row' },
            box,
            h('div', { class: 'work-main' },
                h('a', { class: 'work-name', href: entityHref(item.entity, item.id) }, name),
                h('p', { class: 'meta' }, [district, type].filter(Boolean).join(' · ') || t('work.verify.no_place')),
                h('p', { class: 'verified' }, when),
                err),
            one);
        const r = { item, li, box, err, name };
        one.addEventListener('click', async () => {
            one.disabled = true;
            clear(summary);
            clear(failures);
            await markAll([r]);
            one.disabled = false;
        });
        return r;
    };

    const load = async (path) => {
        more.disabled = true;
        try {
            const { data } = await api(path);
            for (const it of data.items || []) {
                if (rows.has(`${it.entity}:${it.id}`)) continue;
                const r = rowOf(it);
                rows.set(`${it.entity}:${it.id}`, r);
                list.appendChild(r.li);
            }
            next = data.next;
            more_ = !!next;
            more.hidden = !next;
            refresh();
        } catch (e) {
            count.textContent = errorText(e);
        } finally {
            more.disabled = false;
        }
    };

    async function markOne(r, done, failed) {
        try {
            await verify(r.item);
            done.push(r);
            rows.delete(`${r.item.entity}:${r.item.id}`);
            r.li.remove();
        } catch (e) {
            const why = writeError(e);
            // 412 answers the entry as it is now: the next try uses its version (after the
            // coordinator has looked at it).
            if (e.status === 412 && e.problem && Number.isInteger(e.problem.version)) r.item.version = e.problem.version;
            r.err.textContent = why;
            r.err.hidden = false;
            r.li.classList.add('is-failed');
            failed.push([r, why]);
        }
    }

    // Marks each row verified with its own If-Match; the ones done leave the list, the
    // failed ones stay (selected) with the reason, and a summary lists them.
    async function markAll(todo) {
        bulk.disabled = true;
        all.disabled = true;
        summary.textContent = t('work.verify.working', { n: todo.length });
        const done = [];
        const failed = [];
        // A few at a time: each write waits until every reader sees it, so one after another
        // would make a long phone round slow.
        const queue = [...todo];
        const worker = async () => {
            for (let r = queue.shift(); r; r = queue.shift()) await markOne(r, done, failed);
        };
        await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, worker));
        all.disabled = false;
        clear(summary);
        clear(failures);
        add(summary, h('p', null, failed.length
            ? t('work.verify.partial', { done: done.length, failed: failed.length })
            : t('work.verify.done', { n: done.length })));
        if (failed.length) {
            const fid = uid('failed');
            add(failures, h('section', { class: 'work-failed', 'aria-labelledby': fid },
                h('h2', { id: fid }, t('work.verify.failed_title', { n: failed.length })),
                h('ul', null, failed.map(([r, why]) => h('li', null,
                    h('a', { href: entityHref(r.item.entity, r.item.id) }, r.name), `: ${why}`)))));
        }
        refresh();
    }

    all.addEventListener('change', () => {
        for (const r of rows.values()) r.box.checked = all.checked;
        refresh();
    });
    bulk.addEventListener('click', () => {
        clear(failures);
        const todo = selected();
        if (todo.length) markAll(todo);
    });
    const base = new URLSearchParams();
    if (entity === 'person') base.set('entity', 'person');
    for (const k of ['zone', 'district', 'type']) if (q.get(k)) base.set(k, q.get(k));
    base.set('limit', String(PAGE));
    more.addEventListener('click', () => {
        const u = new URLSearchParams(base);
        u.set('cursor', next);
        load(`/v1/worklist/verification?${u}`);
    });
    const hid = uid('results');
    add(root, h('section', { class: 'work-results', 'aria-labelledby': hid },
        h('h2', { id: hid }, t(entity === 'person' ? 'work.verify.people' : 'work.verify.orgs')),
        count, summary, failures, toolbar, list, more));
    toolbar.hidden = true;
    await load(`/v1/worklist/verification?${base}`);
}
