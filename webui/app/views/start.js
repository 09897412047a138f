// Start: pick the area (typing or "use my location"), the need and the target group, then
// "Find contacts" opens the answer. Below, the answers saved on this device (offline use).

import { h, uid, add } from '../dom.js';
import { t, pick, fmtDateTime } from '../i18n.js';
import { areaPicker } from '../areapicker.js';
import { services, targetGroups, areaName } from '../ref.js';
import { savedPages } from '../api.js';
import { signedIn } from '../session.js';

/** A labelled <select> filled from a reference list: {el, select}. */
export function refSelect({ label, anyLabel, name, items, value }) {
    const id = uid(name);
    const select = h('select', { id, name },
        h('option', { value: '' }, anyLabel),
        items.map((it) => {
            const p = pick(it, 'name');
            return h('option', { value: it.code, selected: it.code === value, lang: p.lang !== document.documentElement.lang ? p.lang : null }, p.text);
        }));
    return { el: h('div', { class: 'field' }, h('label', { for: id }, label), select), select };
}

/** The route of a saved answer: /v1/resolve?... -> /answer?... */
export function answerRoute(apiPath) {
    const u = new URL(apiPath, location.origin);
    const q = new URLSearchParams();
    for (const k of ['area', 'need', 'group']) if (u.searchParams.get(k)) q.set(k, u.searchParams.get(k));
    return `/answer?${q}`;
}

export function answerSummary(d) {
    const parts = [areaName(d.area)];
    if (d.need) parts.push(pick(d.need, 'name').text);
    if (d.group) parts.push(pick(d.group, 'name').text);
    return parts.join(' · ');
}

/** Where a saved API answer is shown, and how it is named: {href, label} or null. */
function savedLink(s) {
    const path = s.path.split('?')[0];
    if (path === '/v1/resolve') return { href: answerRoute(s.path), label: answerSummary(s.data) };
    const m = /^\/v1\/(organizations|people)\/([^/]+)$/.exec(path);
    if (!m || !s.data || s.data.id === undefined) return null;
    // The same key it was saved under (an organisation may have been opened by its ref).
    return { href: `/${m[1] === 'people' ? 'person' : 'org'}/${m[2]}`, label: pick(s.data, 'name').text };
}

async function savedSection() {
    const saved = (await savedPages()).map((s) => ({ ...s, link: savedLink(s) })).filter((s) => s.link);
    if (!saved.length) return null;
    const headId = uid('saved');
    return h('section', { class: 'saved', 'aria-labelledby': headId },
        h('h2', { id: headId }, t('start.saved_title')),
        h('p', { class: 'hint' }, signedIn() ? t('start.saved_memory') : t('start.saved_device')),
        h('ul', { class: 'saved-list' }, saved.map((s) => h('li', null,
            h('a', { href: s.link.href }, s.link.label),
            s.savedAt ? h('span', { class: 'saved-at' }, t('saved.at', { when: fmtDateTime(s.savedAt) })) : null))));
}

export async function render(root, ctx) {
    ctx.title(t('start.title'));
    const q = ctx.query;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const picker = areaPicker({ label: t('start.area'), initial: q.get('area'), required: true });
    const [svc, groups] = await Promise.all([services(), targetGroups()]);
    const need = refSelect({ label: t('start.need'), anyLabel: t('start.need_any'), name: 'need', items: svc, value: q.get('need') });
    const group = refSelect({ label: t('start.group'), anyLabel: t('start.group_any'), name: 'group', items: groups, value: q.get('group') });
    const form = h('form', { class: 'start-form', novalidate: true, 'aria-labelledby': 'start-h1' },
        picker.el, need.el, group.el,
        error,
        h('button', { type: 'submit', class: 'btn btn-primary btn-big' }, t('start.submit')));
    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        const area = picker.area() || (await picker.chooseTyped());
        if (!area) {
            error.textContent = t('start.need_area');
            picker.input.focus();
            return;
        }
        const p = new URLSearchParams({ area: area.code });
        if (need.select.value) p.set('need', need.select.value);
        if (group.select.value) p.set('group', group.select.value);
        ctx.navigate(`/answer?${p}`);
    });
    add(root, 
        h('h1', { id: 'start-h1', tabindex: '-1' }, t('start.title')),
        h('p', { class: 'lead' }, t('start.lead')),
        form);
    const saved = await savedSection();
    if (saved && ctx.current()) add(root, saved);
}
