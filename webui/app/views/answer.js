// The answer: the resolver's items in order, grouped by tier, each with its reason in the page
// language, as cards (phones to tap, open now, verified or stale). Share the whole answer,
// report a mistake about it; a saved copy is marked "saved <time>, may be out of date".

import { h, uid, add } from '../dom.js';
import { t, fmtDateTime, pickText } from '../i18n.js';
import { api } from '../api.js';
import { byCode, orgTypes, areaName } from '../ref.js';
import { card } from '../cards.js';
import { shareControl } from '../share.js';
import { vcardAnswerButton } from '../vcard.js';
import { reportControl } from '../report.js';
import { signedIn } from '../session.js';
import { answerSummary } from './start.js';
import { contactsOf } from './common.js';

export function errorText(e) {
    if (e.offline) return t('error.offline_unsaved');
    if (e.status === 400 && e.problem && Array.isArray(e.problem.errors)) {
        const key = document.documentElement.lang === 'th' ? 'message_th' : 'message_en';
        return e.problem.errors.map((x) => `${x.field}: ${x[key] || x.message_en}`).join('; ');
    }
    if (e.status === 404) return t('error.not_found');
    if (e.status === 401 || e.status === 403) return t('error.forbidden');
    if (e.status === 429) return t('error.busy');
    return t('error.server', { status: e.status });
}

export function savedNotice(savedAt) {
    return h('p', { class: 'saved-notice', role: 'note' }, t('saved.notice', { when: fmtDateTime(savedAt) }));
}

function wholeText(d) {
    const lines = [t('answer.share_head', { what: answerSummary(d) })];
    d.items.forEach((it, i) => {
        const phone = contactsOf(it).find((c) => c.public !== false && (c.kind === 'phone' || c.kind === 'mobile'));
        lines.push(`${i + 1}. ${pickText(it, 'name')}${phone ? ` — ${phone.value}${phone.extension ? ` ${t('contact.ext_only', { ext: phone.extension })}` : ''}` : ''}`);
    });
    return lines.join('\n');
}

export async function render(root, ctx) {
    const q = ctx.query;
    const h1 = h('h1', { tabindex: '-1' }, t('answer.title_plain'));
    add(root, h1);
    if (!q.get('area')) {
        ctx.title(t('answer.title_plain'));
        add(root, h('p', null, t('answer.no_area')), h('p', null, h('a', { href: '/' }, t('answer.back'))));
        return;
    }
    const qs = new URLSearchParams();
    for (const k of ['area', 'need', 'group']) if (q.get(k)) qs.set(k, q.get(k));
    const loading = h('p', { class: 'loading', role: 'status' }, t('loading'));
    add(root, loading);
    let res;
    try {
        res = await api(`/v1/resolve?${qs}`, { keep: 'page' });
    } catch (e) {
        if (!ctx.current()) return;
        ctx.title(t('answer.title_plain'));
        loading.remove();
        add(root, h('p', { class: 'form-error', role: 'alert' }, errorText(e)),
            h('p', null, h('a', { href: `/?${qs}` }, t('answer.change'))));
        return;
    }
    const types = await byCode(orgTypes);
    if (!ctx.current()) return;
    loading.remove();
    const d = res.data;
    const where = areaName(d.area);
    h1.textContent = t('answer.title', { area: where });
    ctx.title(h1.textContent);
    add(root, 
        h('p', { class: 'answer-summary' }, answerSummary(d), ' ',
            h('a', { href: `/?${qs}`, class: 'change-link' }, t('answer.change'))),
        res.savedAt ? savedNotice(res.savedAt) : null,
        signedIn()
            ? h('p', { class: 'note note-private' }, t('answer.private_note'))
            : h('p', { class: 'note' }, t('answer.login_hint'), ' ',
                h('a', { href: `/login?next=${encodeURIComponent(`/answer?${qs}`)}` }, t('nav.login'))),
        h('div', { class: 'page-actions' },
            shareControl(() => ({ title: h1.textContent, text: wholeText(d), url: location.href }), { label: t('answer.share_all') }),
            d.items && d.items.length ? vcardAnswerButton(qs.toString()) : null,
            reportControl('area', d.area.code, where)));
    if (!d.items || !d.items.length) {
        add(root, h('p', null, t('answer.empty')));
        return;
    }
    const tiers = [];
    for (const it of d.items) {
        let g = tiers[tiers.length - 1];
        if (!g || g.tier !== it.tier) {
            g = { tier: it.tier, items: [] };
            tiers.push(g);
        }
        g.items.push(it);
    }
    const list = h('div', { class: 'tiers' });
    for (const g of tiers) {
        const id = uid('tier');
        add(list, h('section', { class: `tier tier-${g.tier}`, 'aria-labelledby': id },
            h('h2', { id }, t(`tier.${g.tier}`)),
            h('p', { class: 'tier-hint' }, t(`tier.${g.tier}.hint`)),
            g.items.map((it) => card(it, { types, level: 3, serverNow: res.serverDate }))));
    }
    add(root, list);
}
