// The coordinators' controls on an organisation's or a person's page (shown only to a
// signed-in coordinator or admin; the API refuses everyone else anyway): edit, history,
// mark verified (one tap), close or move an organisation (date, reason, successor picked
// from the directory) or reopen it, deactivate or reactivate a person.

import { h, uid } from './dom.js';
import { t } from './i18n.js';
import { api, ApiError } from './api.js';
import { announce } from './shell.js';
import { canEdit, ErrorSlots, field, check, picker, orgSource, etagOf, waitFresh } from './editkit.js';
import { errorText } from './views/answer.js';

function todayBkk() {
    return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

/** POST path with the entity's version; re-draws the page after. Answers true when done. */
async function act(ctx, entity, path, body, status, slots, doneMsg) {
    status.textContent = t('edit.saving');
    try {
        const { data } = await api(path, { method: 'POST', body, headers: { 'If-Match': etagOf(entity) } });
        await waitFresh(path.replace(/\/[a-z]+$/, ''), Math.max((data && data.version) || 0, entity.version + 1));
    } catch (e) {
        status.textContent = '';
        if (e instanceof ApiError && e.status === 412) {
            await ctx.navigate(location.pathname, { replace: true });
            announce(t('edit.changed_meanwhile'));
            return false;
        }
        if (slots && e instanceof ApiError && e.status === 400 && e.problem && e.problem.errors) slots.show(e.problem);
        else if (slots) slots.message(errorText(e));
        else status.textContent = errorText(e);
        return false;
    }
    await ctx.navigate(location.pathname + location.search, { replace: true });
    announce(doneMsg);
    return true;
}

function panel(links, buttons, extra) {
    const id = uid('staff');
    return h('section', { class: 'block staff-tools', 'aria-labelledby': id },
        h('h2', { id }, t('edit.tools')),
        h('ul', { class: 'staff-links' }, links.map(([href, label]) => h('li', null, h('a', { href }, label)))),
        h('div', { class: 'staff-buttons' }, buttons),
        extra);
}

/** The close / move form of an organisation. */
function closeForm(ctx, o, status) {
    const slots = new ErrorSlots();
    const date = field(slots, { path: 'date', label: t('edit.close_date'), value: todayBkk(), type: 'date' });
    const moved = check(slots, { path: 'moved', label: t('edit.close_moved'), value: false });
    const rTh = field(slots, { path: 'reason_th', label: t('edit.close_reason_th'), lang: 'th' });
    const rEn = field(slots, { path: 'reason_en', label: t('edit.close_reason_en'), lang: 'en' });
    const succ = picker(slots, { path: 'successor', label: t('edit.close_successor'), ...orgSource({ exclude: o.id }), hint: t('edit.close_successor_hint') });
    const id = uid('close');
    const form = h('form', { class: 'close-form', 'aria-labelledby': id, novalidate: true, hidden: true },
        h('h3', { id }, t('edit.close_title')), slots.summary, date.el, moved.el, rTh.el, rEn.el, succ.el,
        h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('edit.close_confirm'))));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const body = { date: date.get(), reason_th: rTh.get(), reason_en: rEn.get(), moved: moved.get() };
        if (succ.get() !== null) body.successor = succ.get();
        for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
        await act(ctx, o, `/v1/organizations/${o.id}/close`, body, status, slots, t(body.moved ? 'edit.moved_done' : 'edit.closed_done'));
    });
    return form;
}

/** Controls for an organisation's page, or null for callers who may not edit. */
export function orgStaffControls(o, ctx) {
    if (!canEdit()) return null;
    const status = h('p', { class: 'edit-status', role: 'status' });
    const verify = h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => act(ctx, o, `/v1/organizations/${o.id}/verify`, undefined, status, null, t('edit.verified_done')) } }, t('edit.verify'));
    const buttons = [verify];
    let form = null;
    if (!o.status || o.status === 'active') {
        form = closeForm(ctx, o, status);
        const toggle = h('button', { type: 'button', class: 'btn btn-secondary', 'aria-expanded': 'false', 'aria-controls': form.id || (form.id = uid('cf')) }, t('edit.close'));
        toggle.addEventListener('click', () => {
            form.hidden = !form.hidden;
            toggle.setAttribute('aria-expanded', form.hidden ? 'false' : 'true');
            if (!form.hidden) form.querySelector('input').focus();
        });
        buttons.push(toggle);
    } else {
        buttons.push(h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => act(ctx, o, `/v1/organizations/${o.id}/reopen`, undefined, status, null, t('edit.reopened_done')) } }, t('edit.reopen')));
    }
    return panel([[`/org/${o.id}/edit`, t('edit.edit')], [`/org/${o.id}/history`, t('edit.history')], ['/org/new', t('edit.o_new')], ['/manage', t('edit.manage')]], buttons, [form, status]);
}

/** Controls for a person's page, or null for callers who may not edit. */
export function personStaffControls(p, ctx) {
    if (!canEdit()) return null;
    const status = h('p', { class: 'edit-status', role: 'status' });
    const buttons = [
        h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => act(ctx, p, `/v1/people/${p.id}/verify`, undefined, status, null, t('edit.verified_done')) } }, t('edit.verify')),
        p.active === false
            ? h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => act(ctx, p, `/v1/people/${p.id}/reactivate`, undefined, status, null, t('edit.reactivated_done')) } }, t('edit.reactivate'))
            : h('button', { type: 'button', class: 'btn btn-secondary', on: { click: () => act(ctx, p, `/v1/people/${p.id}/deactivate`, undefined, status, null, t('edit.deactivated_done')) } }, t('edit.deactivate')),
    ];
    return panel([[`/person/${p.id}/edit`, t('edit.edit')], [`/person/${p.id}/history`, t('edit.history')], ['/person/new', t('edit.p_new')]], buttons, status);
}

