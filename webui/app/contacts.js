// Contact points as a caseworker uses them: phone numbers as tel: links dialling the
// extension after a pause ("02-123-4567 ต่อ 12" -> tel:+6621234567,12), LINE as a
// https://line.me/R/ti/p/~id link, e-mail, website; non-public (staff-only) contacts marked,
// and left out of anything shared.

import { h } from './dom.js';
import { t, pick } from './i18n.js';

/** tel: URI: Thai numbers to +66 (leading 0 dropped), short hotlines (1300) as they are. */
export function telHref(value, ext) {
    const raw = String(value || '').replace(/[^\d+]/g, '');
    let n = raw;
    if (/^0\d{8,9}$/.test(raw)) n = `+66${raw.slice(1)}`;
    const e = String(ext || '').replace(/[^\d]/g, '');
    return `tel:${n}${e ? `,${e}` : ''}`;
}

/** The extensions of a contact point ("4101,4102" -> ['4101', '4102']). */
export function extensions(c) {
    return String(c.extension || '').split(/[,/;]\s*|\s+/).map((s) => s.trim()).filter(Boolean);
}

export function lineHref(id) {
    return `https://line.me/R/ti/p/~${encodeURIComponent(String(id).replace(/^@?~?/, ''))}`;
}

function safeWeb(v) {
    try {
        const u = new URL(/^[a-z]+:/i.test(v) ? v : `https://${v}`);
        return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch (e) {
        return null;
    }
}

function numberText(c, ext) {
    return ext ? t('contact.with_ext', { number: c.value, ext }) : c.value;
}

/** The number and "ต่อ 12" each kept on one line (the line may break between them). */
function numberNodes(c, ext) {
    if (!ext) return h('span', { class: 'nowrap' }, c.value);
    const [before, after] = t('contact.with_ext', { number: '\u0000', ext }).split('\u0000');
    return [before ? h('span', { class: 'nowrap' }, before.trim()) : null, before ? ' ' : null,
        h('span', { class: 'nowrap' }, c.value), ' ', h('span', { class: 'nowrap' }, after.trim())];
}

function label(c) {
    const l = pick(c, 'label');
    return l.text ? l : { text: t(`contact.kind.${c.kind}`), lang: null };
}

/** Links (or text) for one contact point. */
function values(c) {
    switch (c.kind) {
    case 'phone':
    case 'mobile': {
        const exts = extensions(c);
        if (!exts.length) return [h('a', { class: 'cval', href: telHref(c.value) }, numberNodes(c, null))];
        return exts.map((e) => h('a', { class: 'cval', href: telHref(c.value, e) }, numberNodes(c, e)));
    }
    case 'email':
        return [h('a', { class: 'cval url', href: `mailto:${c.value}` }, c.value)];
    case 'line':
        return [h('a', { class: 'cval url', href: lineHref(c.value), rel: 'noopener noreferrer' }, c.value)];
    case 'website': {
        const href = safeWeb(c.value);
        if (href) return [h('a', { class: 'cval url', href, rel: 'noopener noreferrer' }, c.value)];
        return [h('span', { class: 'cval url' }, c.value)];
    }
    default:
        return [h('span', { class: 'cval' }, numberText(c, c.extension))];
    }
}

/** <ul> of contact points, or null when there are none. */
export function contactList(contacts) {
    if (!contacts || !contacts.length) return null;
    return h('ul', { class: 'contacts', 'aria-label': t('contact.list') },
        contacts.map((c) => {
            const l = label(c);
            return h('li', { class: `contact contact-${c.kind}` },
                h('span', { class: 'clabel', lang: l.lang && l.lang !== document.documentElement.lang ? l.lang : null }, l.text),
                h('span', { class: 'cvals' }, values(c)),
                c.public === false ? h('span', { class: 'badge badge-private' }, t('contact.private')) : null);
        }));
}

/** Text lines for sharing: public contact points only. */
export function shareLines(contacts) {
    const out = [];
    for (const c of contacts || []) {
        if (c.public === false) continue;
        const l = label(c).text;
        if (c.kind === 'phone' || c.kind === 'mobile') {
            const exts = extensions(c);
            out.push(`${l}: ${exts.length ? exts.map((e) => numberText(c, e)).join(', ') : c.value}`);
        } else if (c.kind === 'line') {
            out.push(`LINE: ${c.value} (${lineHref(c.value)})`);
        } else {
            out.push(`${l}: ${c.value}`);
        }
    }
    return out;
}
