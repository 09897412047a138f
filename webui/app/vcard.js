// "Save to contacts": the vCard (.vcf) of an organisation or a person, and of a whole answer.
// The API renders them (GET /v1/organizations/{id}/vcard, /v1/people/{id}/vcard, and
// /v1/resolve with Accept: text/vcard); a phone opens a .vcf in its contacts app. What is in a
// card is what the same caller sees on the page (people's cards need a signed-in session).

import { h } from './dom.js';
import { t } from './i18n.js';

/** A link block to the .vcf of an organisation (kind 'organization') or a person. */
export function vcardLink(kind, id) {
    const person = kind === 'person';
    const href = `/v1/${person ? 'people' : 'organizations'}/${encodeURIComponent(id)}/vcard`;
    return h('p', { class: 'vcard-link' },
        h('a', { href, download: `${person ? 'person' : 'organization'}-${id}.vcf`, type: 'text/vcard' }, t('vcard.save')));
}

/** A button saving every contact of a resolver answer (query string QS) as one .vcf file. */
export function vcardAnswerButton(qs) {
    const status = h('span', { class: 'vcard-status', role: 'status' });
    const btn = h('button', { type: 'button', class: 'btn btn-secondary' }, t('vcard.save_all'));
    btn.addEventListener('click', async () => {
        status.textContent = '';
        try {
            const res = await fetch(`/v1/resolve?${qs}`, { headers: { Accept: 'text/vcard' }, credentials: 'same-origin' });
            if (!res.ok) throw new Error(String(res.status));
            const url = URL.createObjectURL(await res.blob());
            const a = h('a', { href: url, download: 'contacts.vcf', hidden: true });
            document.body.appendChild(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10000);
        } catch {
            status.textContent = t('vcard.failed');
        }
    });
    return h('div', { class: 'vcard-all' }, btn, status);
}
