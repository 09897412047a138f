// Search: free text across organisations (and people, for a signed-in caseworker), with
// filters for area, service, target group and type; results as cards, "show more" pages on.

import { h, uid, add } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { services, targetGroups, orgTypes, byCode } from '../ref.js';
import { areaPicker } from '../areapicker.js';
import { card } from '../cards.js';
import { signedIn } from '../session.js';
import { refSelect } from './start.js';
import { errorText } from './answer.js';

const KEYS = ['q', 'area', 'service', 'group', 'type', 'closed'];

function resultsSection(title, firstPath, types, kind) {
    const id = uid('results');
    const head = h('h2', { id }, title);
    const count = h('p', { class: 'count', role: 'status' }, t('loading'));
    const list = h('div', { class: 'results' });
    const more = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, t('search.more'));
    let total = 0;
    let next = null;
    const load = async (path) => {
        more.disabled = true;
        try {
            const { data, serverDate } = await api(path);
            for (const it of data.items || []) add(list, card({ ...it, kind }, { types, level: 3, reason: false, serverNow: serverDate }));
            total += (data.items || []).length;
            next = data.next;
            count.textContent = total ? t(next ? 'search.count_more' : 'search.count', { n: total }) : t('search.none');
            more.hidden = !next;
        } catch (e) {
            count.textContent = errorText(e);
        } finally {
            more.disabled = false;
        }
    };
    more.addEventListener('click', () => {
        const u = new URL(firstPath, location.origin);
        u.searchParams.set('cursor', next);
        load(u.pathname + u.search);
    });
    load(firstPath);
    return h('section', { class: 'result-section', 'aria-labelledby': id }, head, count, list, more);
}

export async function render(root, ctx) {
    const q = ctx.query;
    ctx.title(t('search.title'));
    const [svc, groups, typeList] = await Promise.all([services(), targetGroups(), orgTypes()]);
    const qId = uid('q');
    const closedId = uid('closed');
    const text = h('input', { id: qId, name: 'q', type: 'search', value: q.get('q') || '', autocomplete: 'off' });
    const picker = areaPicker({ label: t('search.area'), initial: q.get('area'), geo: false });
    const service = refSelect({ label: t('search.service'), anyLabel: t('search.any'), name: 'service', items: svc, value: q.get('service') });
    const group = refSelect({ label: t('search.group'), anyLabel: t('search.any'), name: 'group', items: groups, value: q.get('group') });
    const type = refSelect({ label: t('search.type'), anyLabel: t('search.any'), name: 'type', items: typeList, value: q.get('type') });
    const closed = h('input', { id: closedId, type: 'checkbox', name: 'closed', checked: q.get('closed') === '1' });
    const form = h('form', { class: 'search-form', role: 'search', 'aria-label': t('search.title') },
        h('div', { class: 'field' }, h('label', { for: qId }, signedIn() ? t('search.q_people') : t('search.q')), text),
        h('details', { class: 'filters', open: ['area', 'service', 'group', 'type', 'closed'].some((k) => q.get(k)) ? true : null },
            h('summary', null, t('search.filters')),
            picker.el, service.el, group.el, type.el,
            h('div', { class: 'field check' }, closed, h('label', { for: closedId }, t('search.closed')))),
        h('button', { type: 'submit', class: 'btn btn-primary' }, t('search.submit')));
    form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const p = new URLSearchParams();
        if (text.value.trim()) p.set('q', text.value.trim());
        if (picker.value()) p.set('area', picker.value());
        if (service.select.value) p.set('service', service.select.value);
        if (group.select.value) p.set('group', group.select.value);
        if (type.select.value) p.set('type', type.select.value);
        if (closed.checked) p.set('closed', '1');
        ctx.navigate(`/search${p.toString() ? `?${p}` : ''}`);
    });
    add(root, h('h1', { tabindex: '-1' }, t('search.title')), form);
    if (!KEYS.some((k) => k !== 'closed' && q.get(k))) {
        add(root, h('p', { class: 'hint' }, t('search.intro')));
        return;
    }
    const types = await byCode(orgTypes);
    if (!ctx.current()) return;
    const oq = new URLSearchParams();
    for (const k of ['q', 'area', 'service', 'group', 'type']) if (q.get(k)) oq.set(k, q.get(k));
    if (q.get('closed') !== '1') oq.set('status', 'active');
    oq.set('limit', '20');
    add(root, resultsSection(t('search.orgs'), `/v1/organizations?${oq}`, types, 'organization'));
    if (signedIn() && (q.get('q') || q.get('area'))) {
        const pq = new URLSearchParams();
        for (const k of ['q', 'area']) if (q.get(k)) pq.set(k, q.get(k));
        pq.set('limit', '20');
        add(root, resultsSection(t('search.people'), `/v1/people?${pq}`, types, 'person'));
    }
}
