// /work/reports?status=open|resolved — the mistakes caseworkers and the public reported
// (GET /v1/reports), oldest first. Each opens the entity it is about; an open one is closed
// with "แก้ไขแล้ว / fixed" or "ไม่ใช่ข้อผิดพลาด / not a mistake" and a note
// (POST /v1/reports/{id}/resolve {"resolution", "note"}, audited by the server).

import { h, uid, add, clear } from '../dom.js';
import { t, pickText, fmtDateTime } from '../i18n.js';
import { api } from '../api.js';
import { errorText } from './answer.js';
import { needCoordinator, writeError, entityHref } from '../work.js';

const PAGE = 30;

function who(rep) {
    if (rep.reporter_kind === 'anonymous') return t('work.reports.anonymous');
    return rep.reporter;
}

function resolvedLine(rep) {
    return h('p', { class: 'report-outcome' },
        h('span', { class: `badge ${rep.resolution === 'fixed' ? 'badge-ok' : 'badge-muted'}` },
            t(rep.resolution === 'not_a_mistake' ? 'work.reports.not_a_mistake' : rep.resolution === 'fixed' ? 'work.reports.fixed' : 'work.reports.closed')),
        ' ', t('work.reports.closed_by', { who: rep.resolved_by || '', when: fmtDateTime(rep.resolved_at) }));
}

function reportItem(rep, onClosed) {
    const name = pickText(rep, 'entity_name') || `${rep.entity} ${rep.entity_id}`;
    const hid = uid('rep');
    const kind = t(`work.reports.kind_${rep.entity}`);
    const body = [
        h('h3', { id: hid }, h('a', { href: entityHref(rep.entity, rep.entity_id) }, name)),
        h('p', { class: 'meta' }, t('work.reports.meta', { kind, no: rep.id, when: fmtDateTime(rep.created_at), who: who(rep) })),
        h('blockquote', { class: 'report-message' }, rep.message),
        rep.contact ? h('p', null, t('work.reports.contact', { contact: rep.contact })) : null,
    ];
    const art = h('article', { class: 'report-item', 'aria-labelledby': hid }, body);
    if (rep.status !== 'open') {
        add(art, resolvedLine(rep), rep.note ? h('p', null, t('work.reports.note_was', { note: rep.note })) : null);
        return art;
    }
    const noteId = uid('note');
    const note = h('textarea', { id: noteId, name: 'note', rows: 2, maxlength: 2000 });
    const status = h('p', { class: 'report-status', role: 'status' });
    const fixed = h('button', { type: 'button', class: 'btn btn-primary' }, t('work.reports.fixed'));
    const notMistake = h('button', { type: 'button', class: 'btn btn-secondary' }, t('work.reports.not_a_mistake'));
    const form = h('div', { class: 'report-close', role: 'group', 'aria-label': t('work.reports.close_label', { no: rep.id, name }) },
        h('div', { class: 'field' }, h('label', { for: noteId }, t('work.reports.note')), note),
        h('div', { class: 'actions' }, fixed, notMistake), status);
    const close = async (resolution) => {
        fixed.disabled = true;
        notMistake.disabled = true;
        status.textContent = t('work.reports.closing');
        try {
            const text = note.value.trim();
            const { data } = await api(`/v1/reports/${encodeURIComponent(rep.id)}/resolve`, {
                method: 'POST', body: text ? { resolution, note: text } : { resolution },
            });
            onClosed(art, data, name);
        } catch (e) {
            status.textContent = writeError(e);
            fixed.disabled = false;
            notMistake.disabled = false;
        }
    };
    fixed.addEventListener('click', () => close('fixed'));
    notMistake.addEventListener('click', () => close('not_a_mistake'));
    add(art, form);
    return art;
}

export async function render(root, ctx) {
    const title = t('work.reports.title');
    ctx.title(title);
    if (!needCoordinator(root, title)) return;
    const status = ctx.query.get('status') === 'resolved' ? 'resolved' : 'open';
    const tabs = h('nav', { class: 'work-tabs', 'aria-label': t('work.reports.which') }, h('ul', null,
        [['open', t('work.reports.open')], ['resolved', t('work.reports.resolved')]].map(([s, label]) =>
            h('li', null, h('a', { href: s === 'open' ? '/work/reports' : '/work/reports?status=resolved', 'aria-current': s === status ? 'page' : null }, label)))));
    const count = h('p', { class: 'count', role: 'status' }, t('loading'));
    const done = h('div', { class: 'work-summary', role: 'status' });
    const list = h('div', { class: 'report-list' });
    const more = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, t('search.more'));
    let shown = 0;
    let next = null;
    const say = () => {
        count.textContent = shown ? t(next ? 'work.reports.count_more' : 'work.reports.count', { n: shown }) : t(status === 'open' ? 'work.reports.none_open' : 'work.reports.none');
    };
    const closed = (art, rep, name) => {
        art.remove();
        shown -= 1;
        say();
        done.textContent = t(rep.resolution === 'fixed' ? 'work.reports.closed_fixed' : 'work.reports.closed_not', { no: rep.id, name });
    };
    const load = async (path) => {
        more.disabled = true;
        try {
            const { data } = await api(path);
            for (const rep of data.items || []) list.appendChild(reportItem(rep, closed));
            shown += (data.items || []).length;
            next = data.next;
            more.hidden = !next;
            say();
        } catch (e) {
            count.textContent = errorText(e);
        } finally {
            more.disabled = false;
        }
    };
    const base = `/v1/reports?status=${status}&limit=${PAGE}`;
    more.addEventListener('click', () => load(`${base}&cursor=${encodeURIComponent(next)}`));
    add(root, h('h1', { tabindex: '-1' }, title), h('p', { class: 'lead' }, t('work.reports.lead')), tabs, count, done, list, more);
    clear(done);
    await load(base);
}
