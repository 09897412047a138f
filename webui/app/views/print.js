// The printed directory (ทำเนียบเครือข่าย, seed 001 §6.7): /print?zone=&district=&type=&service=
// renders the network as an A4 booklet grouped zone group -> district -> organisation (central
// and city-wide units first), with a cover page (title, date printed in the page's era, the
// live directory's address), a table of contents and, per organisation, its Thai and English
// names, unit, public phones with extensions, e-mail, LINE, address, hours, services and
// verification date. On screen: the filters and a print button (window.print()); the print
// styles are in /styles/print.css, loaded while this view is shown. scripts/print makes the
// PDF with Debian's Chromium and fills in the contents' page numbers (span.toc-page).
// Only public contact points are printed: a booklet is pinned to walls, whoever prints it.

import { h, add, uid } from '../dom.js';
import { t, pick, pickText, fmtDate, currentLang } from '../i18n.js';
import { api } from '../api.js';
import { services, orgTypes, areaGroups, areaInfo } from '../ref.js';
import { onRoute } from '../router.js';
import { extensions } from '../contacts.js';
import { weeklyTable } from '../hours.js';
import { errorText } from './answer.js';

const KEYS = ['zone', 'district', 'type', 'service'];
const CSS_ID = 'print-css';
const CENTRAL = 'central';
const OTHER = 'other';

// The print styles live only while /print is shown.
function loadCss() {
    if (!document.getElementById(CSS_ID)) {
        document.head.appendChild(h('link', { rel: 'stylesheet', href: '/styles/print.css', id: CSS_ID }));
    }
}
onRoute((path) => {
    if (!/^\/print\/?$/.test(path)) {
        const el = document.getElementById(CSS_ID);
        if (el) el.remove();
    }
});

/** Both languages: the page's first, the other after it (lang= set on each). */
function both(obj, base, tag = 'span') {
    const me = currentLang();
    const other = me === 'th' ? 'en' : 'th';
    const a = obj[`${base}_${me}`];
    const b = obj[`${base}_${other}`];
    const second = b && b !== a ? h(tag, { class: 'l2', lang: other }, b) : null;
    return [a ? h(tag, { class: 'l1', lang: me }, a) : null, a && second ? ' ' : null, second];
}

async function allOrgs(query) {
    const out = [];
    let cursor = null;
    for (let page = 0; page < 100; page += 1) {
        const p = new URLSearchParams(query);
        if (cursor) p.set('cursor', cursor);
        const { data } = await api(`/v1/organizations?${p}`);
        out.push(...(data.items || []));
        cursor = data.next;
        if (!cursor) break;
    }
    return out;
}

/** The district code an organisation is located in, or null (central, city-wide, unknown). */
async function districtOf(o) {
    const a = o.area;
    if (!a) return null;
    if (a.kind === 'district') return a.code;
    if (a.kind !== 'subdistrict' && a.kind !== 'community') return null;
    const info = await areaInfo(a.code);
    const d = info && (info.ancestors || []).find((x) => x.kind === 'district');
    return d ? d.code : null;
}

function sortByName(list, get) {
    const lang = currentLang();
    const coll = new Intl.Collator(lang === 'th' ? 'th' : 'en');
    return list.sort((x, y) => coll.compare(get(x)[`name_${lang}`] || get(x).name_th || '', get(y)[`name_${lang}`] || get(y).name_th || ''));
}

// District offices and their welfare sections first, then the rest by name.
const TYPE_ORDER = ['district_office', 'bma_unit'];
function sortOrgs(list) {
    const rank = (o) => {
        const i = TYPE_ORDER.indexOf(o.type);
        return i < 0 ? TYPE_ORDER.length : i;
    };
    const byName = sortByName([...list], (o) => o);
    return byName.sort((a, b) => rank(a) - rank(b));
}

function phoneText(c) {
    const exts = extensions(c);
    if (!exts.length) return [h('span', { class: 'nowrap' }, c.value)];
    return exts.map((e) => h('span', { class: 'nowrap' }, t('contact.with_ext', { number: c.value, ext: e })));
}

function contactRows(contacts) {
    const rows = [];
    for (const c of contacts || []) {
        if (c.public === false) continue;
        const label = pick(c, 'label');
        const kind = t(`contact.kind.${c.kind}`);
        let value;
        if (c.kind === 'phone' || c.kind === 'mobile' || c.kind === 'fax') value = phoneText(c).flatMap((n, i) => (i ? [', ', n] : [n]));
        else value = [h('span', { class: 'url' }, c.value)];
        rows.push(h('li', { class: `pc pc-${c.kind}` },
            // "โทรศัพท์ (ฝ่ายพัฒนาชุมชนฯ)"; a label that already names the kind stands alone.
            h('span', { class: 'pc-label' },
                label.text && label.text.startsWith(kind) ? h('span', { lang: label.lang !== currentLang() ? label.lang : null }, label.text) : kind,
                label.text && !label.text.startsWith(kind) ? [' (', h('span', { lang: label.lang !== currentLang() ? label.lang : null }, label.text), ')'] : null, ': '),
            value));
    }
    return rows.length ? h('ul', { class: 'pcontacts' }, rows) : h('p', { class: 'pc-none' }, t('contact.none'));
}

/** "จ.–ศ. 08:30–16:30 น." lines from the structured weekly hours, consecutive equal days merged. */
export function hoursLines(hours) {
    if (!hours || typeof hours !== 'object') return [];
    if (hours.always_open) return [t('hours.open_24h')];
    const days = t('print.days_short').split(',');
    const rows = weeklyTable(hours).map((r, i) => ({ i, key: r.spans.map((s) => s.join('–')).join(', ') }));
    const out = [];
    for (let i = 0; i < rows.length;) {
        let j = i;
        while (j + 1 < rows.length && rows[j + 1].key === rows[i].key) j += 1;
        if (rows[i].key) {
            const span = i === j ? days[i] : t('print.day_range', { from: days[i], to: days[j] });
            out.push(t('print.hours_line', { days: span, times: rows[i].key }));
        }
        i = j + 1;
    }
    return out;
}

function hoursBlock(o) {
    const lines = hoursLines(o.hours);
    const note = o.hours && typeof o.hours === 'object' ? pick(o.hours, 'note') : { text: '' };
    const free = pick(o, 'hours');
    const parts = [...lines];
    if (o.hours && o.hours.closed_on_public_holidays && !o.hours.always_open && lines.length) parts.push(t('hours.holidays'));
    const extra = free.text || note.text;
    if (!parts.length && !extra) return h('p', { class: 'pfield' }, h('span', { class: 'pf-label' }, t('print.hours'), ': '), t('hours.call'));
    return h('p', { class: 'pfield' }, h('span', { class: 'pf-label' }, t('print.hours'), ': '),
        parts.join(' · '),
        extra && !lines.length ? h('span', { lang: (free.text ? free.lang : note.lang) !== currentLang() ? (free.text ? free.lang : note.lang) : null }, extra) : null);
}

// The catalogue's sentence with the date kept on one line.
function withDate(key, date) {
    const [before, after] = t(key, { date: '\u0000' }).split('\u0000');
    return [before, h('span', { class: 'nowrap' }, date), after];
}

function verifiedText(o) {
    if (!o.verified_at) return t('verified.never');
    return withDate(o.stale ? 'verified.stale' : 'verified.on', fmtDate(o.verified_at));
}

function entry(o, ctx) {
    const unit = [];
    const type = ctx.types.get(o.type);
    if (type) unit.push(pickText(type, 'name'));
    const parent = o.parent ? ctx.byId.get(o.parent) : null;
    if (parent) unit.push(t('print.under', { name: pickText(parent, 'name') }));
    const addr = pick(o, 'address');
    const svc = (o.services || []).map((s) => pickText(s, 'name')).filter(Boolean);
    return h('article', { class: 'pentry', 'data-org': o.id },
        h('div', { class: 'pwho' },
            h('h4', { class: 'pname' }, both(o, 'name')),
            unit.length ? h('p', { class: 'punit' }, unit.join(' · ')) : null,
            h('p', { class: ['pverified', o.stale || !o.verified_at ? 'is-stale' : null] }, verifiedText(o)),
            h('p', { class: 'pid' }, t('print.entry_no', { n: o.id }))),
        h('div', { class: 'phow' },
        contactRows(o.contacts),
        addr.text ? h('p', { class: 'pfield' }, h('span', { class: 'pf-label' }, t('print.address'), ': '), h('span', { lang: addr.lang !== currentLang() ? addr.lang : null }, addr.text)) : null,
        hoursBlock(o),
        svc.length ? h('p', { class: 'pfield' }, h('span', { class: 'pf-label' }, t('print.services'), ': '), svc.join(', ')) : null));
}

function select(label, name, options, value) {
    const id = uid(`print-${name}`);
    const sel = h('select', { id, name }, h('option', { value: '' }, t('search.any')), options);
    sel.value = value || '';
    return { sel, el: h('div', { class: 'field' }, h('label', { for: id }, label), sel) };
}

function opt(item, value) {
    return h('option', { value: item.code, selected: item.code === value ? true : null }, pickText(item, 'name'));
}

function controls(ctx, data) {
    const q = ctx.query;
    const zone = select(t('print.zone'), 'zone', data.zones.map((z) => opt(z, q.get('zone'))), q.get('zone'));
    const district = select(t('print.district'), 'district', data.zones.map((z) => h('optgroup', { label: pickText(z, 'name') },
        sortByName([...(z.members || [])], (d) => d).map((d) => opt(d, q.get('district'))))), q.get('district'));
    const type = select(t('search.type'), 'type', data.typeList.map((x) => opt(x, q.get('type'))), q.get('type'));
    const service = select(t('search.service'), 'service', data.svc.map((x) => opt(x, q.get('service'))), q.get('service'));
    const form = h('form', { class: 'print-filters', 'aria-label': t('print.filters') },
        zone.el, district.el, type.el, service.el,
        h('button', { type: 'submit', class: 'btn btn-secondary' }, t('print.apply')));
    form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const p = new URLSearchParams();
        for (const [k, s] of [['zone', zone], ['district', district], ['type', type], ['service', service]]) if (s.sel.value) p.set(k, s.sel.value);
        ctx.navigate(`/print${p.toString() ? `?${p}` : ''}`);
    });
    const printBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'print-now' }, t('print.print'));
    printBtn.addEventListener('click', () => window.print());
    return h('section', { class: 'print-controls', 'aria-labelledby': 'print-controls-h' },
        h('h2', { id: 'print-controls-h' }, t('print.controls')),
        h('p', { class: 'hint' }, t('print.hint')),
        form,
        h('p', null, printBtn));
}

function filterSummary(ctx, data) {
    const q = ctx.query;
    const parts = [];
    const zone = data.zones.find((z) => z.code === q.get('zone'));
    if (zone) parts.push(pickText(zone, 'name'));
    for (const z of data.zones) {
        const d = (z.members || []).find((m) => m.code === q.get('district'));
        if (d) parts.push(t('area.district_bkk', { name: pickText(d, 'name') }));
    }
    const type = data.typeList.find((x) => x.code === q.get('type'));
    if (type) parts.push(pickText(type, 'name'));
    const svc = data.svc.find((x) => x.code === q.get('service'));
    if (svc) parts.push(pickText(svc, 'name'));
    return parts.length ? t('print.filtered', { what: parts.join(' · ') }) : t('print.whole');
}

export async function render(root, ctx) {
    loadCss();
    ctx.title(t('print.title'));
    const q = ctx.query;
    const [zonesAll, typeList, svc] = await Promise.all([areaGroups(), orgTypes(), services()]);
    const zones = zonesAll.filter((g) => g.kind === 'zone');
    const data = { zones, typeList, svc };
    const types = new Map(typeList.map((x) => [x.code, x]));
    const status = h('p', { class: 'print-status', role: 'status' }, t('loading'));
    add(root, controls(ctx, data), status);

    const oq = new URLSearchParams({ status: 'active', limit: '500' });
    if (q.get('district')) oq.set('area', q.get('district'));
    if (q.get('zone')) oq.set('zone', q.get('zone'));
    const area = q.get('district') || q.get('zone');
    for (const k of ['type', 'service']) if (q.get(k)) oq.set(k, q.get(k));
    let orgs;
    let everyone;
    try {
        // The filtered entries, and every active organisation to name each one's parent unit.
        [orgs, everyone] = await Promise.all([allOrgs(oq), area || q.get('type') || q.get('service') ? allOrgs(new URLSearchParams({ status: 'active', limit: '500' })) : null]);
    } catch (e) {
        status.textContent = errorText(e);
        return;
    }
    if (!ctx.current()) return;
    const byId = new Map((everyone || orgs).map((o) => [o.id, o]));

    // zone group -> district -> organisations; central and city-wide units first, then the
    // zones in their official order, then districts outside Bangkok's zones.
    const zoneOf = new Map();
    const districtInfo = new Map();
    for (const z of zones) {
        for (const d of z.members || []) {
            if (d.kind === 'district') {
                zoneOf.set(d.code, z.code);
                districtInfo.set(d.code, d);
            }
        }
    }
    const buckets = new Map([[CENTRAL, new Map()], ...zones.map((z) => [z.code, new Map()]), [OTHER, new Map()]]);
    const dists = await Promise.all(orgs.map(districtOf));
    if (!ctx.current()) return;
    for (let i = 0; i < orgs.length; i += 1) {
        const d = dists[i];
        const key = d ? zoneOf.get(d) || OTHER : CENTRAL;
        const m = buckets.get(key);
        const dk = d || '';
        if (!m.has(dk)) m.set(dk, []);
        m.get(dk).push(orgs[i]);
        if (d && !districtInfo.has(d)) districtInfo.set(d, orgs[i].area && orgs[i].area.code === d ? orgs[i].area : { code: d, name_th: d, name_en: d });
    }

    const printed = new Date();
    const live = new URL('/', location.origin).href;
    const sections = [];
    const tocItems = [];
    const ectx = { types, byId };
    const groupTitle = (key) => {
        if (key === CENTRAL) return { name_th: 'หน่วยงานส่วนกลางและหน่วยงานที่ดูแลทั้งกรุงเทพมหานคร', name_en: 'Central and city-wide units' };
        if (key === OTHER) return { name_th: 'พื้นที่อื่น', name_en: 'Other areas' };
        return zones.find((z) => z.code === key);
    };
    for (const [key, dmap] of buckets) {
        if (!dmap.size) continue;
        const g = groupTitle(key);
        const id = `zone-${key}`;
        const dcodes = [...dmap.keys()];
        const dlist = sortByName(dcodes.filter(Boolean).map((c) => districtInfo.get(c)), (d) => d);
        const parts = [];
        if (dmap.has('')) parts.push(sortOrgs(dmap.get('')).map((o) => entry(o, ectx)));
        for (const d of dlist) {
            // The heading stays on the page of the district's first entry.
            const [head, ...rest] = sortOrgs(dmap.get(d.code)).map((o) => entry(o, ectx));
            parts.push(h('section', { class: 'pdistrict', id: `district-${d.code}`, 'aria-labelledby': `district-${d.code}-h` },
                h('div', { class: 'pkeep' },
                    h('h3', { id: `district-${d.code}-h` }, both({ name_th: `เขต${d.name_th}`, name_en: `${d.name_en} district` }, 'name')),
                    head),
                rest));
        }
        const count = [...dmap.values()].reduce((n, l) => n + l.length, 0);
        sections.push(h('section', { class: 'pzone', id, 'data-zone': key, 'aria-labelledby': `${id}-h` },
            h('h2', { id: `${id}-h`, class: 'pzone-title' }, both(g, 'name')),
            h('p', { class: 'pzone-count' }, dlist.length ? t('print.zone_count', { n: count, d: dlist.length }) : t('print.count', { n: count })),
            parts));
        tocItems.push(h('li', { class: 'toc-item' },
            h('a', { href: `#${id}`, class: 'toc-link' }, h('span', { class: 'toc-name' }, pickText(g, 'name')),
                h('span', { class: 'toc-page', 'data-zone': key, hidden: true })),
            dlist.length ? h('p', { class: 'toc-districts' }, dlist.map((d) => pickText(d, 'name')).join(' · ')) : null));
    }

    const doc = h('div', { class: 'print-doc', 'data-ready': '1' },
        h('section', { class: 'pcover', 'aria-labelledby': 'pcover-h' },
            h('p', { class: 'pcover-org' }, t('print.publisher')),
            h('h1', { id: 'pcover-h', tabindex: '-1' }, t('print.title')),
            h('p', { class: 'pcover-en', lang: currentLang() === 'th' ? 'en' : 'th' }, t('print.title_other')),
            h('p', { class: 'pcover-filter' }, filterSummary(ctx, data)),
            h('p', { class: 'pcover-count' }, t('print.count', { n: orgs.length })),
            h('p', { class: 'pcover-date' }, withDate('print.printed_on', fmtDate(printed))),
            h('p', { class: 'pcover-live' }, t('print.live'), ' ', h('a', { href: live, class: 'url' }, live)),
            h('p', { class: 'pcover-live' }, t('print.by_number', { url: new URL('/org/', location.origin).href })),
            h('p', { class: 'pcover-note' }, t('print.note'))),
        h('nav', { class: 'ptoc', 'aria-labelledby': 'ptoc-h' },
            h('h2', { id: 'ptoc-h' }, t('print.toc')),
            tocItems.length ? h('ol', { class: 'toc' }, tocItems) : h('p', null, t('print.empty'))),
        sections);
    status.textContent = t('print.ready', { n: orgs.length });
    add(root, doc);
}
