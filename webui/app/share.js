// Sharing a contact or a whole answer as text: the Web Share API where the phone has it;
// otherwise the text is copied to the clipboard and a LINE share link is offered
// (https://line.me/R/share?text=...), or, when even copying is refused, shown to copy by hand.

import { h, clear, uid, add } from './dom.js';
import { t } from './i18n.js';

export function lineShareHref(text) {
    return `https://line.me/R/share?text=${encodeURIComponent(text)}`;
}

/**
 * A share button and the place its fallback appears. payload() -> {title, text, url}.
 * name: what is shared (for the accessible name, e.g. the organisation's name) or null.
 */
export function shareControl(payload, { label } = {}) {
    const panelId = uid('share');
    const panel = h('div', { class: 'share-panel', id: panelId, role: 'status' });
    const btn = h('button', { type: 'button', class: 'btn btn-secondary' }, label || t('share.button'));
    btn.addEventListener('click', async () => {
        const p = payload();
        const full = p.url ? `${p.text}\n${p.url}` : p.text;
        clear(panel);
        if (navigator.share) {
            try {
                await navigator.share({ title: p.title, text: p.text, url: p.url });
                return;
            } catch (e) {
                if (e && e.name === 'AbortError') return;
            }
        }
        let copied = false;
        try {
            if (navigator.clipboard && window.isSecureContext) {
                await navigator.clipboard.writeText(full);
                copied = true;
            }
        } catch (e) { copied = false; }
        const line = h('a', { class: 'btn btn-line', href: lineShareHref(full), rel: 'noopener noreferrer' }, t('share.line'));
        if (copied) {
            add(panel, h('p', null, t('share.copied')), line);
        } else {
            const taId = uid('sharetext');
            const ta = h('textarea', { id: taId, class: 'share-text', readonly: true, rows: 6 });
            ta.value = full;
            add(panel, h('label', { for: taId }, t('share.copy_by_hand')), ta, line);
            ta.focus();
            ta.select();
        }
    });
    return h('div', { class: 'share' }, btn, panel);
}
