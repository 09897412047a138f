// "แจ้งข้อมูลไม่ถูกต้อง / Report a mistake": on every card and page a button opens a short
// form (what is wrong, an optional way to reach the reporter) that posts to POST /v1/reports
// ({entity, id, message, contact}). Failures say clearly what happened and keep the text.

import { h, clear, uid } from './dom.js';
import { t, currentLang } from './i18n.js';
import { api } from './api.js';

function problemText(e) {
    if (e.offline) return t('report.err_offline');
    if (e.status === 429) {
        const min = e.retryAfter ? Math.max(1, Math.ceil(e.retryAfter / 60)) : null;
        return min ? t('report.err_rate_min', { min }) : t('report.err_rate');
    }
    if (e.status === 413) return t('report.err_too_long');
    if (e.status === 400 && e.problem && Array.isArray(e.problem.errors) && e.problem.errors.length) {
        const key = currentLang() === 'th' ? 'message_th' : 'message_en';
        return e.problem.errors.map((x) => `${x.field}: ${x[key] || x.message_en || ''}`).join('; ');
    }
    if (e.status === 404 && e.problem && /organi[sz]ation|person|area/i.test(e.problem.detail || '')) return t('report.err_gone');
    return t('report.err_other', { status: e.status || '?' });
}

/**
 * The report button and its form for one entity: entity 'organization' | 'person' | 'area',
 * id its id (or area code), about the visible name (used in the form's accessible name).
 */
export function reportControl(entity, id, about) {
    const formId = uid('report');
    const msgId = uid('report-msg');
    const contactId = uid('report-contact');
    const status = h('p', { class: 'report-status', role: 'status' });
    const message = h('textarea', { id: msgId, name: 'message', rows: 4, maxlength: 2000, required: true });
    const contact = h('input', { id: contactId, name: 'contact', type: 'text', maxlength: 200, autocomplete: 'email' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('report.send'));
    const cancel = h('button', { type: 'button', class: 'btn btn-secondary' }, t('report.cancel'));
    const form = h('form', { class: 'report-form', id: formId, hidden: true, 'aria-label': t('report.form_label', { name: about }) },
        h('p', { class: 'hint' }, t('report.intro')),
        h('div', { class: 'field' }, h('label', { for: msgId }, t('report.message')), message),
        h('div', { class: 'field' }, h('label', { for: contactId }, t('report.contact')), contact),
        h('div', { class: 'actions' }, submit, cancel));
    const toggle = h('button', { type: 'button', class: 'btn btn-link report-toggle', 'aria-expanded': 'false', 'aria-controls': formId },
        t('report.button'));
    const open = (yes) => {
        form.hidden = !yes;
        toggle.setAttribute('aria-expanded', yes ? 'true' : 'false');
        if (yes) message.focus();
    };
    toggle.addEventListener('click', () => {
        clear(status);
        open(form.hidden);
    });
    cancel.addEventListener('click', () => {
        open(false);
        toggle.focus();
    });
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const text = message.value.trim();
        if (!text) {
            status.textContent = t('report.err_empty');
            message.focus();
            return;
        }
        submit.disabled = true;
        status.textContent = t('report.sending');
        try {
            const body = { entity, id: String(id), message: text };
            if (contact.value.trim()) body.contact = contact.value.trim();
            const { data } = await api('/v1/reports', { method: 'POST', body });
            message.value = '';
            contact.value = '';
            open(false);
            status.textContent = data && data.id ? t('report.sent_no', { id: data.id }) : t('report.sent');
            toggle.focus();
        } catch (e) {
            status.textContent = problemText(e);
        } finally {
            submit.disabled = false;
        }
    });
    return h('div', { class: 'report' }, toggle, form, status);
}
