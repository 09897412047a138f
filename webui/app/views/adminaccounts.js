// /admin/accounts: who may do what, for admins. Staff roles (an admin's setting over the city
// LDAP group mapping for one staff member: set or clear) and local accounts for partners'
// coordinators who are not in the city LDAP (create, new password, disable / enable).
// API: GET /v1/admin/staff-roles, PUT /v1/admin/staff-roles/{username}, GET/POST
// /v1/admin/accounts, POST /v1/admin/accounts/{username}/password|disable|enable.

import { h, add, clear, uid } from '../dom.js';
import { t, fmtDate, fmtDateTime } from '../i18n.js';
import { api } from '../api.js';
import { adminGuard, failText, statusLine, say, confirmDialog, facts, field, showErrors, roleSelect, roleName } from './admincommon.js';

const pw = (label, hint) => field('password', label, h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: '10' }), hint);

function staffSection(status) {
    const id = uid('staff');
    const list = h('ul', { class: 'admin-list' });
    const fUser = field('username', t('admin.staff.f.username'), h('input', { type: 'text', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' }));
    const fRole = field('role', t('admin.f.role'), roleSelect('coordinator', { value: '', label: t('admin.staff.clear_option') }));
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('admin.staff.save'));
    const formId = uid('staffform');
    const form = h('form', { class: 'admin-form', novalidate: true, 'aria-labelledby': formId },
        h('h3', { id: formId }, t('admin.staff.form')), fUser.el, fRole.el, submit);

    const load = async () => {
        const { data } = await api('/v1/admin/staff-roles');
        clear(list);
        const items = data.items || [];
        if (!items.length) add(list, h('li', { class: 'hint' }, t('admin.staff.none')));
        for (const r of items) {
            const clearBtn = h('button', { type: 'button', class: 'btn btn-secondary', 'aria-label': t('admin.staff.clear_named', { name: r.username }) }, t('admin.staff.clear'));
            clearBtn.addEventListener('click', () => set(r.username, null));
            add(list, h('li', { class: 'admin-item' },
                h('h4', null, r.person_id ? h('a', { href: `/person/${r.person_id}` }, r.name_th || r.username) : r.username),
                facts([
                    [t('admin.staff.f.username'), r.username],
                    [t('admin.f.role'), roleName(r.role)],
                    [t('admin.staff.f.set_by'), r.set_by],
                    [t('admin.staff.f.updated'), fmtDateTime(r.updated_at)],
                ]),
                h('div', { class: 'admin-actions' }, clearBtn)));
        }
    };

    async function set(username, role) {
        try {
            await api(`/v1/admin/staff-roles/${encodeURIComponent(username)}`, { method: 'PUT', body: { role } });
            say(status, role ? t('admin.staff.set_done', { name: username, role: roleName(role) }) : t('admin.staff.cleared', { name: username }));
            await load();
            return true;
        } catch (e) {
            showErrors(e, { username: fUser, role: fRole }, status);
            return false;
        }
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        fUser.setError('');
        const u = fUser.input.value.trim().toLowerCase();
        if (!u) {
            fUser.setError(t('admin.err_required'));
            fUser.input.focus();
            return;
        }
        submit.disabled = true;
        if (await set(u, fRole.input.value || null)) form.reset();
        submit.disabled = false;
    });
    const section = h('section', { class: 'admin-section', 'aria-labelledby': id },
        h('h2', { id }, t('admin.staff.title')), h('p', { class: 'hint' }, t('admin.staff.lead')), form,
        h('h3', null, t('admin.staff.list')), list);
    return { section, load };
}

function accountItem(a, actions) {
    const state = a.disabled ? 'disabled' : 'active';
    const reset = h('button', { type: 'button', class: 'btn btn-secondary', 'aria-expanded': 'false', 'aria-label': t('admin.accounts.reset_named', { name: a.username }) }, t('admin.accounts.reset'));
    const toggle = h('button', { type: 'button', class: a.disabled ? 'btn btn-secondary' : 'btn btn-danger', 'aria-label': t(a.disabled ? 'admin.accounts.enable_named' : 'admin.accounts.disable_named', { name: a.username }) },
        t(a.disabled ? 'admin.accounts.enable' : 'admin.accounts.disable'));
    const resetSlot = h('div');
    const item = h('li', { class: `admin-item is-${state}` },
        h('h4', null, a.username),
        facts([
            [t('admin.accounts.f.display_name'), a.display_name || ''],
            [t('admin.f.role'), roleName(a.role)],
            [t('admin.accounts.f.state'), h('span', { class: `state-badge state-${state}` }, t(`admin.accounts.state.${state}`))],
            [t('admin.accounts.f.created'), fmtDate(a.created_at)],
            [t('admin.accounts.f.disabled_at'), a.disabled_at ? fmtDateTime(a.disabled_at) : ''],
        ]),
        h('div', { class: 'admin-actions' }, reset, toggle), resetSlot);
    reset.addEventListener('click', () => {
        if (resetSlot.firstChild) {
            clear(resetSlot);
            reset.setAttribute('aria-expanded', 'false');
            return;
        }
        reset.setAttribute('aria-expanded', 'true');
        const f = pw(t('admin.accounts.f.new_password'), t('admin.accounts.password_hint'));
        const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('admin.accounts.save_password'));
        const local = statusLine();
        const form = h('form', { class: 'admin-form', novalidate: true, 'aria-label': t('admin.accounts.reset_named', { name: a.username }) }, f.el, save, local);
        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            save.disabled = true;
            try {
                await actions.password(a.username, f.input.value);
                f.input.value = '';
                clear(resetSlot);
                reset.setAttribute('aria-expanded', 'false');
                reset.focus();
            } catch (e) {
                showErrors(e, { password: f }, local);
            } finally {
                save.disabled = false;
            }
        });
        add(resetSlot, form);
        f.input.focus();
    });
    toggle.addEventListener('click', () => actions.toggle(a));
    return item;
}

function accountsSection(status) {
    const id = uid('acc');
    const list = h('ul', { class: 'admin-list' });
    const fUser = field('username', t('admin.accounts.f.username'), h('input', { type: 'text', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '64' }), t('admin.accounts.username_hint'));
    const fName = field('display_name', t('admin.accounts.f.display_name'), h('input', { type: 'text', autocomplete: 'off', maxlength: '200' }));
    const fRole = field('role', t('admin.f.role'), roleSelect('coordinator'));
    const fPass = pw(t('admin.accounts.f.password'), t('admin.accounts.password_hint'));
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('admin.accounts.create'));
    const formId = uid('accform');
    const form = h('form', { class: 'admin-form', novalidate: true, 'aria-labelledby': formId },
        h('h3', { id: formId }, t('admin.accounts.new')), fUser.el, fName.el, fRole.el, fPass.el, submit);

    const actions = {
        async password(username, password) {
            await api(`/v1/admin/accounts/${encodeURIComponent(username)}/password`, { method: 'POST', body: { password } });
            say(status, t('admin.accounts.password_done', { name: username }));
        },
        async toggle(a) {
            if (!a.disabled) {
                const yes = await confirmDialog({
                    title: t('admin.accounts.disable_title', { name: a.username }),
                    text: t('admin.accounts.disable_text'),
                    yes: t('admin.accounts.disable'),
                });
                if (!yes) return;
            }
            try {
                await api(`/v1/admin/accounts/${encodeURIComponent(a.username)}/${a.disabled ? 'enable' : 'disable'}`, { method: 'POST' });
                say(status, t(a.disabled ? 'admin.accounts.enabled' : 'admin.accounts.disabled', { name: a.username }));
                await load();
            } catch (e) {
                say(status, failText(e), true);
            }
        },
    };

    const load = async () => {
        const { data } = await api('/v1/admin/accounts');
        clear(list);
        const items = data.items || [];
        if (!items.length) add(list, h('li', { class: 'hint' }, t('admin.accounts.none')));
        add(list, items.map((a) => accountItem(a, actions)));
    };

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const fields = { username: fUser, display_name: fName, role: fRole, password: fPass };
        for (const f of Object.values(fields)) f.setError('');
        say(status, '');
        const body = { username: fUser.input.value.trim(), password: fPass.input.value, role: fRole.input.value };
        if (fName.input.value.trim()) body.display_name = fName.input.value.trim();
        submit.disabled = true;
        try {
            const { data } = await api('/v1/admin/accounts', { method: 'POST', body });
            form.reset();
            say(status, t('admin.accounts.created', { name: data.username }));
            await load();
        } catch (e) {
            fPass.input.value = '';
            if (e.status === 409) {
                fUser.setError(t('admin.err_taken'));
                say(status, t('admin.err_fields'), true);
                fUser.input.focus();
            } else showErrors(e, fields, status);
        } finally {
            submit.disabled = false;
        }
    });
    const section = h('section', { class: 'admin-section', 'aria-labelledby': id },
        h('h2', { id }, t('admin.accounts.title')), h('p', { class: 'hint' }, t('admin.accounts.lead')), form,
        h('h3', null, t('admin.accounts.list')), list);
    return { section, load };
}

export async function render(root, ctx) {
    if (!adminGuard(root, ctx, 'admin.accounts.page')) return;
    const status = statusLine();
    const staff = staffSection(status);
    const accounts = accountsSection(status);
    add(root, status, accounts.section, staff.section);
    try {
        await Promise.all([accounts.load(), staff.load()]);
    } catch (e) {
        say(status, failText(e), true);
    }
}
