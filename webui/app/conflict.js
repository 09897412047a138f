// The conflict screen: a save answered 412 (someone else saved the entry after the coordinator
// opened it). Shows, field by field, the coordinator's version beside the current one with
// the differences marked, lets them take theirs or the other's per field (a field both
// changed has no default: they must choose), and hands back the merged values to be saved
// against the current version. Nothing is overwritten without being shown.

import { h, uid, add, clear } from './dom.js';
import { t } from './i18n.js';
import { same } from './editkit.js';

/**
 * conflictView(root, {title, version, fields: [{key, label, fmt: async v -> [lines]}], base, mine,
 *   theirs, onSave: async merged -> void, onDiscard: () => void})
 * base: the values the form was opened with; mine: what the coordinator has now; theirs:
 * the current values on the server. All in the API's body shape.
 */
export async function conflictView(root, { title, version, fields, base, mine, theirs, onSave, onDiscard }) {
    const differing = fields.filter((f) => !same(mine[f.key], theirs[f.key]));
    const shown = await Promise.all(differing.map(async (f) => ({
        f,
        mineLines: await f.fmt(mine[f.key]),
        theirLines: await f.fmt(theirs[f.key]),
        iChanged: !same(mine[f.key], base[f.key]),
        theyChanged: !same(theirs[f.key], base[f.key]),
    })));
    clear(root);
    const alert = h('div', { class: 'edit-errors', role: 'alert', tabindex: '-1' });
    const lines = (ls, other) => (ls.length
        ? h('ul', { class: 'diff-lines' }, ls.map((l) => (other.includes(l) ? h('li', null, l) : h('li', { class: 'diff-line' }, h('mark', null, l)))))
        : h('p', { class: 'muted' }, t('edit.empty_value')));
    const rows = shown.map((s) => {
        const name = uid('pick');
        const id = uid('cf');
        const both = s.iChanged && s.theyChanged;
        const choice = both ? null : (s.iChanged ? 'mine' : 'theirs');
        const opt = (which, label, ls, other) => {
            const rid = uid('r');
            return h('div', { class: ['cf-side', `cf-${which}`] },
                h('input', { type: 'radio', id: rid, name, value: which, checked: choice === which }),
                h('label', { for: rid }, h('span', { class: 'cf-who' }, label), lines(ls, other)));
        };
        return {
            s,
            name,
            el: h('fieldset', { class: ['cf-field', both ? 'cf-both' : null], 'aria-labelledby': id, 'data-field': s.f.key },
                h('legend', { id }, s.f.label, ' ',
                    h('span', { class: 'badge badge-diff' }, both ? t('edit.cf_both') : s.iChanged ? t('edit.cf_you') : t('edit.cf_they'))),
                h('div', { class: 'cf-sides' },
                    opt('mine', t('edit.cf_mine'), s.mineLines, s.theirLines),
                    opt('theirs', t('edit.cf_theirs'), s.theirLines, s.mineLines))),
        };
    });
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('edit.cf_save'));
    const form = h('form', { class: 'conflict', 'aria-labelledby': 'cf-title', novalidate: true }, rows.map((r) => r.el),
        h('div', { class: 'form-actions' }, save,
            h('button', { type: 'button', class: 'btn btn-secondary', on: { click: onDiscard } }, t('edit.cf_discard'))));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const merged = { ...theirs };
        const missing = [];
        for (const r of rows) {
            const c = form.querySelector(`input[name="${r.name}"]:checked`);
            if (!c) missing.push(r.s.f.label);
            else if (c.value === 'mine') merged[r.s.f.key] = mine[r.s.f.key];
        }
        if (missing.length) {
            clear(alert);
            add(alert, h('p', null, t('edit.cf_choose', { fields: missing.join(t('list.sep')) })));
            alert.focus();
            return;
        }
        save.disabled = true;
        try {
            await onSave(merged);
        } finally {
            save.disabled = false;
        }
    });
    add(root,
        h('h1', { tabindex: '-1', id: 'cf-title' }, t('edit.cf_title', { name: title })),
        h('p', { class: 'lead' }, t('edit.cf_lead', { version })),
        alert,
        shown.length ? null : h('p', null, t('edit.cf_nothing')),
        fields.length > shown.length ? h('p', { class: 'hint' }, t('edit.cf_same', { n: fields.length - shown.length })) : null,
        form);
    root.querySelector('h1').focus();
}
