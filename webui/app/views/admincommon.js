// What the admin screens (/admin/sync, /admin/clients, /admin/accounts) share: the admin-only
// guard, field errors from the API's problem details, a confirmation dialog, a status line.

import { h, add, uid } from '../dom.js';
import { t, currentLang } from '../i18n.js';
import { session } from '../session.js';

/**
 * Draws the heading; answers true when the signed-in user is an admin, else explains (sign in,
 * or the admin role is needed) and answers false.
 */
export function adminGuard(root, ctx, titleKey) {
    ctx.title(t(titleKey));
    add(root, h('h1', { tabindex: '-1' }, t(titleKey)));
    if (session.state !== 'signed-in') {
        add(root, h('p', null, t('admin.need_login'), ' ',
            h('a', { href: `/login?next=${encodeURIComponent(ctx.path)}` }, t('nav.login'))));
        return false;
    }
    if (session.user.role !== 'admin') {
        add(root, h('p', { class: 'form-error' }, t('admin.need_admin')));
        return false;
    }
    return true;
}

/** The message of one API field error in the page language. */
export function fieldMessage(x) {
    return (currentLang() === 'th' ? x.message_th : x.message_en) || x.message_en || x.message_th || '';
}

/** A readable sentence for a failed call (offline, 403, 409, 5xx...). */
export function failText(e) {
    if (e.offline) return t('admin.err_offline');
    if (e.status === 401 || e.status === 403) return t('admin.need_admin');
    if (e.status === 404) return t('error.not_found');
    if (e.status === 409) return t('admin.err_conflict');
    if (e.status === 400 && e.problem && Array.isArray(e.problem.errors)) {
        return e.problem.errors.map((x) => `${x.field}: ${fieldMessage(x)}`).join('; ');
    }
    return t('error.server', { status: e.status });
}

/**
 * A labelled field whose error (from the API's errors[].field) is shown under it and tied to
 * it by aria-describedby: field('username', t('...'), input) -> {el, input, setError(msg)}.
 */
export function field(name, label, input, hint) {
    const id = input.id || uid(`f-${name}`);
    input.id = id;
    input.name = name;
    const errId = `${id}-err`;
    const hintId = hint ? `${id}-hint` : null;
    const err = h('p', { class: 'field-error', id: errId, hidden: true });
    input.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
    const el = h('div', { class: 'field' }, h('label', { for: id }, label), input,
        hint ? h('p', { class: 'hint', id: hintId }, hint) : null, err);
    return {
        el,
        input,
        setError(msg) {
            err.textContent = msg || '';
            err.hidden = !msg;
            if (msg) input.setAttribute('aria-invalid', 'true');
            else input.removeAttribute('aria-invalid');
        },
    };
}

/**
 * Shows the API's 400 field errors next to FIELDS ({name: field()}); the rest go to STATUS.
 * Answers true when something was shown next to a field (the first one gets the focus).
 */
export function showErrors(e, fields, status) {
    for (const f of Object.values(fields)) f.setError('');
    const errs = (e.status === 400 && e.problem && Array.isArray(e.problem.errors)) ? e.problem.errors : [];
    let first = null;
    const rest = [];
    for (const x of errs) {
        const f = fields[x.field];
        if (f) {
            f.setError(fieldMessage(x));
            if (!first) first = f;
        } else rest.push(`${x.field}: ${fieldMessage(x)}`);
    }
    status.textContent = rest.length ? rest.join('; ') : (first ? t('admin.err_fields') : failText(e));
    status.classList.add('is-error');
    if (first) first.input.focus();
    return !!first;
}

/** A live status line (role=status). */
export function statusLine(cls = '') {
    return h('p', { class: `admin-status ${cls}`.trim(), role: 'status' });
}

export function say(el, text, error = false) {
    el.textContent = text;
    el.classList.toggle('is-error', !!error);
}

/**
 * Asks for confirmation in a modal <dialog>: confirm({title, text, list, yes}) -> Promise<bool>.
 * LIST (strings) is shown under the text; YES is the confirming button's label.
 */
export function confirmDialog({ title, text, list = [], yes }) {
    return new Promise((resolve) => {
        const hid = uid('dlg');
        const ok = h('button', { type: 'button', class: 'btn btn-danger' }, yes);
        const no = h('button', { type: 'button', class: 'btn btn-secondary' }, t('admin.cancel'));
        const dlg = h('dialog', { class: 'admin-dialog', 'aria-labelledby': hid },
            h('h2', { id: hid }, title), h('p', null, text),
            list.length ? h('ul', { class: 'admin-dialog-list' }, list.map((s) => h('li', null, s))) : null,
            h('div', { class: 'admin-actions' }, ok, no));
        let answered = false;
        const done = (v) => {
            if (answered) return;
            answered = true;
            if (dlg.open) dlg.close();
            dlg.remove();
            resolve(v);
        };
        ok.addEventListener('click', () => done(true));
        no.addEventListener('click', () => done(false));
        dlg.addEventListener('close', () => done(false));
        document.body.appendChild(dlg);
        dlg.showModal();
        no.focus();
    });
}

/** A select of the three roles (plus an optional first choice). */
export function roleSelect(value, extra) {
    const sel = h('select', null,
        extra ? h('option', { value: extra.value }, extra.label) : null,
        ['caseworker', 'coordinator', 'admin'].map((r) => h('option', { value: r, selected: r === value }, t(`admin.role.${r}`))));
    return sel;
}

export function roleName(r) {
    return r ? t(`admin.role.${r}`) : t('admin.role.none');
}

/** A <dl> of [label, value] pairs (values may be nodes); empty values are left out. */
export function facts(pairs, cls = 'admin-facts') {
    return h('dl', { class: cls }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
        .map(([k, v, attrs]) => h('div', attrs || null, h('dt', null, k), h('dd', null, v))));
}
