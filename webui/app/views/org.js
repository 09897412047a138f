// An organisation's page: every contact point, opening hours (open now + the week), address
// and map links, services with their target groups, coverage grouped by zone group and
// district, parent and child organisations, verification date, status (closed or moved, with
// the successor), share and report a mistake.

import { h, uid, add } from '../dom.js';
import { t, pick, pickText, fmtDate, year, list, currentLang } from '../i18n.js';
import { api } from '../api.js';
import { byCode, orgTypes, services, targetGroups, areaGroups, areaInfo, areaName } from '../ref.js';
import { text, hoursBlock, verifiedLine, addressBlock, shareText, entityUrl } from '../cards.js';
import { contactList } from '../contacts.js';
import { weeklyTable } from '../hours.js';
import { shareControl } from '../share.js';
import { reportControl } from '../report.js';
import { bkkParts } from '../time.js';
import { errorText, savedNotice } from './answer.js';
import { vcardLink } from '../vcard.js';
import { orgStaffControls } from '../staffctl.js';

function section(title, ...content) {
    const id = uid('sec');
    return h('section', { class: 'block', 'aria-labelledby': id }, h('h2', { id }, title), content);
}

const DAY_INDEX = { su: 0, mo: 1, tu: 2, we: 3, th: 4, fr: 5, sa: 6 };

function weekTable(hours) {
    if (!hours || typeof hours !== 'object' || hours.always_open || !(hours.weekly || []).length) return null;
    const days = list('days.long');
    const today = ['su', 'mo', 'tu', 'we', 'th', 'fr', 'sa'][bkkParts(new Date()).dow];
    return h('table', { class: 'week' },
        h('caption', null, t('org.week')),
        h('tbody', null, weeklyTable(hours).map((row) => h('tr', { class: row.day === today ? 'today' : null },
            h('th', { scope: 'row' }, days[DAY_INDEX[row.day]]),
            h('td', null, row.spans.length ? row.spans.map(([o, c]) => t('org.span', { from: o, to: c })).join(', ') : t('org.closed_day'))))));
}

function exceptionsList(hours) {
    if (!hours || typeof hours !== 'object') return null;
    const todayIso = new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
    const upcoming = (hours.exceptions || []).filter((e) => (e.to || e.from) >= todayIso);
    if (!upcoming.length) return null;
    const id = uid('exc');
    return h('div', { class: 'exceptions-block' }, h('p', { class: 'sub-label', id }, t('org.exceptions')),
        h('ul', { class: 'exceptions', 'aria-labelledby': id }, upcoming.map((e) => {
        const range = e.to && e.to !== e.from ? t('org.range', { from: fmtDate(e.from), to: fmtDate(e.to) }) : fmtDate(e.from);
        const what = e.closed ? t('org.closed_day') : t('org.span', { from: e.opens_at, to: e.closes_at });
        const note = pickText(e, 'note');
        return h('li', null, `${range}: ${what}${note ? ` (${note})` : ''}`);
    })));
}

/** Coverage codes grouped: [{title, items: [names]}], zone groups first. */
async function coverage(codes) {
    const groups = await areaGroups();
    const gBy = new Map(groups.map((g) => [g.code, g]));
    const zoneOf = new Map();
    const names = new Map();
    for (const g of groups) {
        for (const m of g.members || []) {
            names.set(m.code, m);
            if (g.kind === 'zone') zoneOf.set(m.code, g);
        }
    }
    const buckets = new Map();
    const put = (key, title, order, item) => {
        if (!buckets.has(key)) buckets.set(key, { title, order, items: [] });
        if (!buckets.get(key).items.includes(item)) buckets.get(key).items.push(item);
    };
    const wide = t('org.coverage_wide');
    await Promise.all([...new Set(codes)].map(async (code) => {
        const g = gBy.get(code);
        if (g) {
            const zone = g.kind === 'zone' ? g : gBy.get(g.parent) || g;
            put(zone.code, pickText(zone, 'name'), 1, g === zone ? t('org.coverage_whole_zone') : pickText(g, 'name'));
            return;
        }
        if (names.has(code) && zoneOf.has(code)) {
            const z = zoneOf.get(code);
            put(z.code, pickText(z, 'name'), 1, areaName(names.get(code)));
            return;
        }
        const a = await areaInfo(code);
        if (!a) {
            put('?', wide, 0, code);
            return;
        }
        if (a.kind === 'country' || a.kind === 'province') {
            put('wide', wide, 0, a.kind === 'country' ? t('org.coverage_country') : areaName(a));
            return;
        }
        if (a.kind === 'district') {
            const z = zoneOf.get(a.code);
            const prov = (a.ancestors || []).find((x) => x.kind === 'province');
            if (z) put(z.code, pickText(z, 'name'), 1, areaName(a));
            else put(prov ? prov.code : 'wide', prov ? areaName(prov) : wide, 2, areaName(a));
            return;
        }
        const dist = (a.ancestors || []).filter((x) => x.kind === 'district').pop();
        put(dist ? dist.code : 'wide', dist ? areaName(dist) : wide, 3, areaName(a));
    }));
    return [...buckets.values()].sort((x, y) => x.order - y.order || x.title.localeCompare(y.title, currentLang()));
}

async function orgLink(id) {
    try {
        const { data } = await api(`/v1/organizations/${encodeURIComponent(id)}`);
        const p = pick(data, 'name');
        return h('a', { href: `/org/${data.id}`, lang: p.lang !== currentLang() ? p.lang : null }, p.text);
    } catch (e) {
        return h('a', { href: `/org/${encodeURIComponent(id)}` }, t('org.other', { id }));
    }
}

async function children(id) {
    try {
        const { data } = await api(`/v1/organizations?parent=${encodeURIComponent(id)}&limit=100`);
        return data.items || [];
    } catch (e) {
        return null; // the API may not list children (yet): the section is left out
    }
}

export async function render(root, ctx) {
    const id = ctx.params[0];
    const h1 = h('h1', { tabindex: '-1' }, t('org.title'));
    const loading = h('p', { class: 'loading', role: 'status' }, t('loading'));
    add(root, h1, loading);
    let res;
    try {
        res = await api(`/v1/organizations/${encodeURIComponent(id)}`, { keep: 'page' });
    } catch (e) {
        if (!ctx.current()) return;
        ctx.title(t('org.title'));
        loading.remove();
        add(root, h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
        return;
    }
    const o = res.data;
    const [types, svcMap, groupMap, cover, parent, successor, kids] = await Promise.all([
        byCode(orgTypes), byCode(services), byCode(targetGroups),
        coverage([...(o.areas || []), ...(o.services || []).flatMap((s) => s.areas || [])]),
        o.parent ? orgLink(o.parent) : null,
        o.successor ? orgLink(o.successor) : null,
        children(o.id),
    ]);
    if (!ctx.current()) return;
    loading.remove();
    const name = pick(o, 'name');
    h1.textContent = name.text;
    if (name.lang !== currentLang()) h1.lang = name.lang;
    ctx.title(name.text);
    const alt = currentLang() === 'th' ? o.name_en : o.name_th;
    const type = types.get(o.type);

    const statusBlock = o.status && o.status !== 'active'
        ? h('div', { class: 'status-block', role: 'note' },
            h('p', null, h('span', { class: 'badge badge-closed' },
                o.status_date ? t(`status.${o.status}_on`, { date: fmtDate(o.status_date) }) : t(`status.${o.status}`))),
            pick(o, 'status_reason').text ? text('p', pick(o, 'status_reason')) : null,
            successor ? h('p', null, t('org.successor'), ' ', successor) : null)
        : null;

    // Target groups once above the list when every service has the same ones.
    const svcs = o.services || [];
    const groupNames = (s) => (s.target_groups || []).map((g) => (groupMap.get(g) ? pickText(groupMap.get(g), 'name') : g));
    const forText = (names) => (names.length ? t('org.for_groups', { groups: names.join(t('list.sep')) }) : t('org.for_all'));
    const same = svcs.length > 1 && svcs.every((s) => (s.target_groups || []).join() === (svcs[0].target_groups || []).join());
    const svcList = svcs.length ? [
        same ? h('p', { class: 'svc-groups-all' }, forText(groupNames(svcs[0]))) : null,
        h('ul', { class: 'services' }, svcs.map((s) => h('li', null,
            text('strong', pick(svcMap.get(s.code) || s, 'name')),
            same ? null : h('span', { class: 'svc-groups' }, forText(groupNames(s)))))),
    ] : h('p', { class: 'muted' }, t('org.no_services'));

    const coverList = cover.length ? cover.map((b) => h('div', { class: 'cover-group' },
        h('h3', null, b.title),
        h('ul', { class: 'cover' }, b.items.map((n) => h('li', null, n))))) : h('p', { class: 'muted' }, t('org.no_coverage'));

    const rel = [];
    if (parent) rel.push(h('p', null, t('org.parent'), ' ', parent));
    if (kids && kids.length) {
        rel.push(h('h3', null, t('org.children')), h('ul', { class: 'children' }, kids.map((k) => {
            const p = pick(k, 'name');
            return h('li', null, h('a', { href: `/org/${k.id}`, lang: p.lang !== currentLang() ? p.lang : null }, p.text),
                k.status && k.status !== 'active' ? h('span', { class: 'badge badge-closed' }, t(`status.${k.status}`)) : null);
        })));
    }

    const desc = pick(o, 'description');
    add(root, 
        alt && alt !== name.text ? h('p', { class: 'other-name', lang: currentLang() === 'th' ? 'en' : 'th' }, alt) : null,
        h('p', { class: 'unit' },
            type ? text('span', pick(type, 'name')) : null,
            o.area ? [' · ', areaName(o.area)] : null),
        res.savedAt ? savedNotice(res.savedAt) : null,
        statusBlock,
        verifiedLine(o),
        res.savedAt ? null : orgStaffControls(o, ctx),
        section(t('org.contact'),
            o.status === 'active' || !o.status ? [hoursBlock(o, new Date(), res.serverDate), weekTable(o.hours), exceptionsList(o.hours)] : null,
            contactList(o.contacts) || h('p', { class: 'muted' }, t('contact.none')),
            addressBlock(o)),
        desc.text ? section(t('org.about'), text('p', desc),
            o.opened_year ? h('p', null, t('org.opened', { year: year(o.opened_year) })) : null) : null,
        section(t('org.services'), svcList),
        section(t('org.coverage'), coverList),
        rel.length ? section(t('org.related'), rel) : null,
        vcardLink('organization', o.id),
        h('div', { class: 'page-actions' },
            shareControl(() => ({ title: name.text, text: shareText(o), url: entityUrl(o) })),
            reportControl('organization', o.id, name.text)));
}
