// /admin/sync: the staff sync from the city LDAP, for admins. The last run (mode, status,
// counts, errors), a refused run shown prominently with what it would have done and a
// "force" button that asks first, buttons for a run now / a dry run / a full run, and the
// history of runs with the people created, updated, reactivated and deactivated.
// API: GET /v1/admin/sync/runs, POST /v1/admin/sync {dry_run, full, force}.

import { h, add, clear, uid } from '../dom.js';
import { t, fmtDateTime } from '../i18n.js';
import { api } from '../api.js';
import { adminGuard, failText, statusLine, say, confirmDialog, facts } from './admincommon.js';

const COUNTS = ['created', 'updated', 'reactivated', 'relinked', 'deactivated', 'unchanged', 'skipped'];
const LISTS = ['created', 'updated', 'reactivated', 'relinked', 'deactivated'];
const POLL_MS = 700;
const POLL_FOR_MS = 120000;

// A catalogue label for a value the server names (status, mode, trigger); the value itself
// when the catalogue has none (a newer server).
const label = (prefix, v) => (t(`${prefix}${v}`) === `${prefix}${v}` ? (v || '') : t(`${prefix}${v}`));
const statusText = (s) => label('admin.sync.status.', s);
const modeText = (m) => label('admin.sync.mode.', m);

function countsList(n, cls = 'sync-counts') {
    return facts(COUNTS.map((k) => [t(`admin.sync.count.${k}`), String(n[k] ?? 0), { 'data-count': k }]), cls);
}

function personItem(p) {
    const name = p.name_th || p.name_en || p.username || p.uuid || '';
    const who = p.username && p.username !== name ? ` (${p.username})` : '';
    return h('li', null, p.id ? h('a', { href: `/person/${p.id}` }, name) : name, who);
}

/** The people lists of a run's details (or of details.would). */
function peopleLists(d, keyPrefix = 'admin.sync.list.') {
    const out = [];
    for (const k of LISTS) {
        const people = Array.isArray(d && d[k]) ? d[k] : [];
        if (!people.length) continue;
        out.push(h('h4', null, t(`${keyPrefix}${k}`, { n: people.length })), h('ul', { class: 'sync-people' }, people.map(personItem)));
    }
    if (d && d.lists_truncated) out.push(h('p', { class: 'hint' }, t('admin.sync.truncated', { n: d.lists_truncated })));
    return out;
}

function when(run) {
    return fmtDateTime(run.started_at);
}

function lastRun(run) {
    const id = uid('last');
    const d = run.details || {};
    const box = h('section', { class: `sync-last sync-${run.status}`, 'aria-labelledby': id },
        h('h2', { id }, t('admin.sync.last')),
        facts([
            [t('admin.sync.f.status'), h('span', { class: `sync-badge sync-badge-${run.status}` }, statusText(run.status))],
            [t('admin.sync.f.mode'), modeText(run.mode)],
            [t('admin.sync.f.trigger'), label('admin.sync.trigger.', run.trigger)],
            [t('admin.sync.f.started'), when(run)],
            [t('admin.sync.f.ended'), run.ended_at ? fmtDateTime(run.ended_at) : ''],
            [t('admin.sync.f.read'), d.received !== undefined ? String(d.received) : ''],
        ]));
    if (run.status !== 'refused' && run.status !== 'failed') add(box, h('h3', null, t('admin.sync.counts')), countsList(run));
    if (run.status === 'dry-run') add(box, h('p', { class: 'hint' }, t('admin.sync.dry_note')));
    if (d.would_be_refused) add(box, h('p', { class: 'sync-warn' }, t('admin.sync.would_be_refused'), ' ', h('span', { lang: 'en' }, d.would_be_refused)));
    if (d.attention) add(box, h('p', { class: 'sync-warn' }, t('admin.sync.attention'), ' ', h('span', { lang: 'en' }, d.attention)));
    if (run.errors && run.status !== 'refused') add(box, h('p', { class: 'sync-error' }, t('admin.sync.f.errors'), ' ', h('span', { lang: 'en' }, run.errors)));
    return box;
}

/** The refused run, prominently: why, what it would have done, and "force" (confirmed). */
function refusedBox(run, onForce) {
    const id = uid('refused');
    const d = run.details || {};
    const would = d.would || {};
    const wc = would.counts || { deactivated: d.would_deactivate || 0 };
    const people = Array.isArray(would.deactivated) && would.deactivated.length ? would.deactivated : (d.would_deactivate_people || []);
    const force = h('button', { type: 'button', class: 'btn btn-danger' }, t('admin.sync.force', { n: wc.deactivated || people.length }));
    force.addEventListener('click', async () => {
        const names = people.slice(0, 50).map((p) => `${p.name_th || p.username || p.uuid}${p.username ? ` (${p.username})` : ''}`);
        const yes = await confirmDialog({
            title: t('admin.sync.confirm_title'),
            text: t('admin.sync.confirm_text', { n: wc.deactivated || people.length }),
            list: names,
            yes: t('admin.sync.confirm_yes'),
        });
        if (yes) onForce();
    });
    return h('section', { class: 'sync-refused', 'aria-labelledby': id },
        h('h2', { id }, t('admin.sync.refused_title')),
        h('p', null, t('admin.sync.refused_text', { when: when(run) })),
        run.errors ? h('p', { class: 'sync-why' }, h('span', { lang: 'en' }, run.errors)) : null,
        h('h3', null, t('admin.sync.would')),
        countsList({ ...wc }, 'sync-counts sync-would'),
        ...peopleLists(would.deactivated ? would : { deactivated: people }, 'admin.sync.would_list.'),
        h('div', { class: 'admin-actions' }, force));
}

function historyItem(run) {
    const d = run.details || {};
    const sum = run.status === 'refused' || run.status === 'failed'
        ? statusText(run.status)
        : t('admin.sync.summary', { created: run.created, updated: run.updated, deactivated: run.deactivated });
    const details = h('details', { class: `sync-run sync-${run.status}` },
        h('summary', null, h('span', { class: 'sync-when' }, when(run)), ' · ', modeText(run.mode), ' · ',
            h('span', { class: `sync-badge sync-badge-${run.status}` }, statusText(run.status)), ' · ', sum));
    const inner = [];
    if (run.status !== 'refused' && run.status !== 'failed') inner.push(countsList(run));
    if (run.errors) inner.push(h('p', { class: run.status === 'refused' ? 'sync-why' : 'sync-error' }, h('span', { lang: 'en' }, run.errors)));
    if (run.status === 'refused' && d.would) {
        inner.push(h('h4', null, t('admin.sync.would')), countsList(d.would.counts || {}, 'sync-counts sync-would'), ...peopleLists(d.would, 'admin.sync.would_list.'));
    } else {
        const lists = peopleLists(d);
        inner.push(...(lists.length ? lists : [h('p', { class: 'hint' }, t('admin.sync.nobody'))]));
    }
    add(details, h('div', { class: 'sync-run-body' }, inner));
    return h('li', null, details);
}

export async function render(root, ctx) {
    if (!adminGuard(root, ctx, 'admin.sync.title')) return;
    add(root, h('p', { class: 'lead' }, t('admin.sync.lead')));
    const status = statusLine();
    const buttons = [
        ['run', {}, 'btn-primary'],
        ['dry', { dry_run: true }, 'btn-secondary'],
        ['full', { full: true }, 'btn-secondary'],
    ].map(([k, body, cls]) => {
        const b = h('button', { type: 'button', class: `btn ${cls}`, 'data-kind': k }, t(`admin.sync.btn.${k}`));
        b.addEventListener('click', () => start(body, t(`admin.sync.started.${k}`)));
        return b;
    });
    const controls = h('section', { class: 'sync-controls', 'aria-label': t('admin.sync.controls') },
        h('div', { class: 'admin-actions' }, buttons), h('p', { class: 'hint' }, t('admin.sync.buttons_hint')), status);
    const refusedSlot = h('div');
    const lastSlot = h('div');
    const histId = uid('hist');
    const history = h('ol', { class: 'sync-history' });
    add(root, refusedSlot, controls, lastSlot,
        h('section', { class: 'sync-hist', 'aria-labelledby': histId }, h('h2', { id: histId }, t('admin.sync.history')), history));

    let newest = 0;
    const load = async () => {
        const { data } = await api('/v1/admin/sync/runs?limit=20');
        if (!ctx.current()) return [];
        const runs = data.items || [];
        newest = runs.length ? runs[0].id : 0;
        clear(lastSlot);
        clear(refusedSlot);
        clear(history);
        if (!runs.length) {
            add(lastSlot, h('p', { class: 'hint' }, t('admin.sync.none')));
            return runs;
        }
        add(lastSlot, lastRun(runs[0]));
        // A refused run stays on top until a real run (not a dry run) follows it.
        const real = runs.find((r) => r.status !== 'dry-run' && r.status !== 'running');
        if (real && real.status === 'refused') add(refusedSlot, refusedBox(real, () => start({ full: true, force: true }, t('admin.sync.started.force'))));
        add(history, runs.map(historyItem));
        return runs;
    };

    async function start(body, msg) {
        for (const b of buttons) b.disabled = true;
        const before = newest;
        say(status, msg);
        try {
            await api('/v1/admin/sync', { method: 'POST', body });
            const until = Date.now() + POLL_FOR_MS;
            for (;;) {
                await new Promise((r) => { setTimeout(r, POLL_MS); });
                if (!ctx.current()) return;
                const { data } = await api('/v1/admin/sync/runs?limit=1');
                const run = (data.items || [])[0];
                if (run && run.id > before && run.status !== 'running') {
                    await load();
                    say(status, t('admin.sync.finished', { status: statusText(run.status) }), run.status === 'failed');
                    break;
                }
                if (Date.now() > until) {
                    say(status, t('admin.sync.still_running'));
                    break;
                }
            }
        } catch (e) {
            say(status, e.status === 409 ? t('admin.sync.not_configured') : failText(e), true);
        } finally {
            for (const b of buttons) b.disabled = false;
        }
    }

    try {
        await load();
    } catch (e) {
        say(status, failText(e), true);
    }
}
