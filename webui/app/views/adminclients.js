// /admin/clients: API clients, for admins. Create one (its secret shown once, with a copy
// button), the list with role, expiry and last use, and revoke (after a confirmation).
// API: GET/POST /v1/admin/api-clients, POST /v1/admin/api-clients/{name}/revoke.

import { h, add, clear, uid } from '../dom.js';
import { t, fmtDate, fmtDateTime } from '../i18n.js';
import { api } from '../api.js';
import { adminGuard, failText, statusLine, say, confirmDialog, facts, field, showErrors, roleSelect, roleName } from './admincommon.js';

function stateOf(c, now = Date.now()) {
    if (c.revoked_at) return 'revoked';
    if (c.expires_at && Date.parse(c.expires_at) <= now) return 'expired';
    return 'active';
}

/** The one-time secret: a read-only field, a copy button, and the warning. */
function secretBox(created, onDone) {
    const id = uid('secret');
    const input = h('input', { id, type: 'text', readonly: true, value: created.secret, class: 'secret', spellcheck: 'false', autocomplete: 'off' });
    const copied = h('p', { class: 'admin-status', role: 'status' });
    const copy = h('button', { type: 'button', class: 'btn btn-primary' }, t('admin.clients.copy'));
    copy.addEventListener('click', async () => {
        try {
            await navigator.clipboard.writeText(input.value);
            say(copied, t('admin.clients.copied'));
        } catch (e) {
            input.select();
            say(copied, t('admin.clients.copy_manual'));
        }
    });
    const done = h('button', { type: 'button', class: 'btn btn-secondary' }, t('admin.clients.done'));
    const hid = uid('sh');
    const box = h('section', { class: 'client-secret', 'aria-labelledby': hid },
        h('h2', { id: hid }, t('admin.clients.created', { name: created.name })),
        h('p', { class: 'sync-warn' }, t('admin.clients.once')),
        h('div', { class: 'field' }, h('label', { for: id }, t('admin.clients.secret')), input),
        h('div', { class: 'admin-actions' }, copy, done), copied,
        h('p', { class: 'hint' }, t('admin.clients.use_hint')));
    done.addEventListener('click', () => {
        input.value = '';
        box.remove();
        onDone();
    });
    return box;
}

function clientItem(c, onRevoke) {
    const state = stateOf(c);
    const item = h('li', { class: `admin-item is-${state}` },
        h('h3', null, c.name),
        facts([
            [t('admin.f.role'), roleName(c.role)],
            [t('admin.clients.f.state'), h('span', { class: `state-badge state-${state}` }, t(`admin.clients.state.${state}`))],
            [t('admin.clients.f.created'), fmtDate(c.created_at)],
            [t('admin.clients.f.expires'), c.expires_at ? fmtDate(c.expires_at) : t('admin.clients.never_expires')],
            [t('admin.clients.f.last_used'), c.last_used_at ? fmtDateTime(c.last_used_at) : t('admin.clients.never_used')],
            [t('admin.clients.f.revoked'), c.revoked_at ? fmtDateTime(c.revoked_at) : ''],
        ]));
    if (state !== 'revoked') {
        const b = h('button', { type: 'button', class: 'btn btn-danger', 'aria-label': t('admin.clients.revoke_named', { name: c.name }) }, t('admin.clients.revoke'));
        b.addEventListener('click', () => onRevoke(c));
        add(item, h('div', { class: 'admin-actions' }, b));
    }
    return item;
}

export async function render(root, ctx) {
    if (!adminGuard(root, ctx, 'admin.clients.title')) return;
    add(root, h('p', { class: 'lead' }, t('admin.clients.lead')));
    const status = statusLine();
    const secretSlot = h('div');
    const list = h('ul', { class: 'admin-list' });
    const listId = uid('clients');

    const fName = field('name', t('admin.clients.f.name'), h('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: '64' }), t('admin.clients.name_hint'));
    const fRole = field('role', t('admin.f.role'), roleSelect('caseworker'));
    const fExp = field('expires_at', t('admin.clients.f.expires_opt'), h('input', { type: 'date' }), t('admin.clients.expires_hint'));
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('admin.clients.create'));
    const formId = uid('newclient');
    const form = h('form', { class: 'admin-form', novalidate: true, 'aria-labelledby': formId },
        h('h2', { id: formId }, t('admin.clients.new')), fName.el, fRole.el, fExp.el, submit);

    const load = async () => {
        const { data } = await api('/v1/admin/api-clients');
        if (!ctx.current()) return;
        clear(list);
        const items = data.items || [];
        if (!items.length) add(list, h('li', { class: 'hint' }, t('admin.clients.none')));
        add(list, items.map((c) => clientItem(c, revoke)));
    };

    async function revoke(c) {
        const yes = await confirmDialog({
            title: t('admin.clients.revoke_title', { name: c.name }),
            text: t('admin.clients.revoke_text'),
            yes: t('admin.clients.revoke'),
        });
        if (!yes) return;
        try {
            await api(`/v1/admin/api-clients/${encodeURIComponent(c.name)}/revoke`, { method: 'POST' });
            say(status, t('admin.clients.revoked', { name: c.name }));
            await load();
        } catch (e) {
            say(status, failText(e), true);
        }
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const fields = { name: fName, role: fRole, expires_at: fExp };
        for (const f of Object.values(fields)) f.setError('');
        say(status, '');
        const name = fName.input.value.trim();
        if (!name) {
            fName.setError(t('admin.err_required'));
            fName.input.focus();
            return;
        }
        const body = { name, role: fRole.input.value };
        // The last second of that day in Bangkok.
        if (fExp.input.value) body.expires_at = `${fExp.input.value}T23:59:59+07:00`;
        submit.disabled = true;
        try {
            const { data } = await api('/v1/admin/api-clients', { method: 'POST', body });
            form.reset();
            clear(secretSlot).append(secretBox(data, () => fName.input.focus()));
            say(status, t('admin.clients.created', { name: data.name }));
            await load();
            secretSlot.querySelector('input').focus();
        } catch (e) {
            if (e.status === 409) {
                fName.setError(t('admin.err_taken'));
                say(status, t('admin.err_fields'), true);
                fName.input.focus();
            } else showErrors(e, fields, status);
        } finally {
            submit.disabled = false;
        }
    });

    add(root, secretSlot, form, status,
        h('section', { class: 'admin-section', 'aria-labelledby': listId }, h('h2', { id: listId }, t('admin.clients.list')), list));
    try {
        await load();
    } catch (e) {
        say(status, failText(e), true);
    }
}
