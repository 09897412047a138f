// Sign in with the city LDAP username and password (POST /v1/session). Signed in, answers
// include the district welfare staff and people's contact points.

import { h, uid, add } from '../dom.js';
import { t } from '../i18n.js';
import { session, login, logout } from '../session.js';

/** Only a path on this site (never "//host" or "https://..."). */
export function safeNext(v) {
    return typeof v === 'string' && /^\/(?!\/)/.test(v) && !v.startsWith('/\\') ? v : '/';
}

export async function render(root, ctx) {
    ctx.title(t('login.title'));
    const next = safeNext(ctx.query.get('next'));
    add(root, h('h1', { tabindex: '-1' }, t('login.title')));
    if (session.state === 'signed-in') {
        const out = h('button', { type: 'button', class: 'btn btn-secondary' }, t('nav.logout'));
        out.addEventListener('click', async () => {
            try { await logout(); } catch (e) { /* the shell says so */ }
            ctx.navigate('/');
        });
        add(root, h('p', null, t('login.already', { name: session.user.username })), out);
        return;
    }
    const uId = uid('user');
    const pId = uid('pass');
    const user = h('input', { id: uId, name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
    const pass = h('input', { id: pId, name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big' }, t('login.submit'));
    const form = h('form', { class: 'login-form', novalidate: true, 'aria-label': t('login.title') },
        h('div', { class: 'field' }, h('label', { for: uId }, t('login.username')), user),
        h('div', { class: 'field' }, h('label', { for: pId }, t('login.password')), pass),
        error, submit);
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        if (!user.value.trim() || !pass.value) {
            error.textContent = t('login.err_empty');
            (user.value.trim() ? pass : user).focus();
            return;
        }
        submit.disabled = true;
        try {
            await login(user.value.trim(), pass.value);
            pass.value = '';
            ctx.navigate(next, { replace: true });
        } catch (e) {
            pass.value = '';
            if (e.offline) error.textContent = t('login.err_offline');
            else if (e.status === 401) error.textContent = t('login.err_wrong');
            else if (e.status === 429) {
                const min = e.retryAfter ? Math.max(1, Math.ceil(e.retryAfter / 60)) : 15;
                error.textContent = t('login.err_rate', { min });
            } else error.textContent = t('login.err_other', { status: e.status });
            pass.focus();
        } finally {
            submit.disabled = false;
        }
    });
    add(root, h('p', { class: 'lead' }, t('login.lead')), form, h('p', { class: 'hint' }, t('login.privacy')));
}
