// The pieces every screen shows about an organisation or a person: the open-now line, the
// verified date or stale badge, the address with map links, and the cards of an answer or a
// search result (name, unit, reason, hours, contacts, address, distance, verified, share,
// report a mistake).

import { h } from './dom.js';
import { t, pick, pickText, fmtDate, fmtTime, fmtKm, list, currentLang } from './i18n.js';
import { openState } from './hours.js';
import { bkkParts } from './time.js';
import { contactList, shareLines } from './contacts.js';
import { shareControl } from './share.js';
import { reportControl } from './report.js';
import { areaName } from './ref.js';

/** An element holding text in its own language: lang= set when it is not the page's. */
export function text(tag, picked, props = {}) {
    const lang = picked.lang !== currentLang() ? picked.lang : null;
    return h(tag, { ...props, lang }, picked.text);
}

function sameBkkDay(a, b) {
    const x = bkkParts(a);
    const y = bkkParts(b);
    return x.y === y.y && x.m === y.m && x.d === y.d;
}

function when(d, now) {
    const time = fmtTime(d);
    if (sameBkkDay(d, now)) return { key: '', time };
    const tomorrow = new Date(now.getTime() + 24 * 3600 * 1000);
    if (sameBkkDay(d, tomorrow)) return { key: '_tomorrow', time };
    const day = list('days.long')[bkkParts(d).dow];
    // A weekday alone is clear within the coming week; further off, the date too.
    if (d.getTime() - now.getTime() < 6 * 24 * 3600 * 1000) return { key: '_day', time, day };
    return { key: '_day', time, day: t('fmt.day_date', { day, date: fmtDate(d) }) };
}

/** The open-now sentence for an organisation: {state, text}. */
export function hoursStatus(org, now = new Date(), serverNow = null) {
    const st = openState(org, now, serverNow);
    let s;
    if (st.state === 'open') {
        if (st.always) s = t('hours.open_24h');
        else if (st.until) {
            const w = when(st.until, now);
            s = t(`hours.open_until${w.key}`, w);
        } else s = t('hours.open');
    } else if (st.state === 'closed') {
        if (st.opensAt) {
            const w = when(st.opensAt, now);
            s = t(`hours.closed_opens${w.key}`, w);
        } else s = t('hours.closed');
    } else s = t('hours.call');
    if (st.holidays) s = `${s} · ${t('hours.holidays')}`;
    return { state: st.state, text: s };
}

/** <p class="hours is-open">เปิดอยู่ · ปิด 16:30 น.</p> plus the free-text hours if any. */
export function hoursBlock(org, now = new Date(), serverNow = null) {
    const st = hoursStatus(org, now, serverNow);
    const free = pick(org, 'hours');
    const note = org.hours && typeof org.hours === 'object' ? pick(org.hours, 'note') : { text: '' };
    return [
        h('p', { class: `hours is-${st.state}` }, h('span', { class: 'dot', 'aria-hidden': 'true' }), st.text),
        free.text ? h('p', { class: 'hours-text' }, t('hours.as_given'), ' ', text('span', free)) : null,
        note.text ? h('p', { class: 'hours-text' }, text('span', note)) : null,
    ];
}

/** "ตรวจสอบเมื่อ 12 ม.ค. 2569", or the stale badge with the date (or never verified). */
export function verifiedLine(e) {
    if (e.stale || !e.verified_at) {
        const s = e.verified_at ? t('verified.stale', { date: fmtDate(e.verified_at) }) : t('verified.never');
        return h('p', { class: 'verified' }, h('span', { class: 'badge badge-stale' }, s));
    }
    return h('p', { class: 'verified' }, t('verified.on', { date: fmtDate(e.verified_at) }));
}

function coords(org) {
    const loc = org.location;
    if (loc && typeof loc.lat === 'number' && typeof loc.lon === 'number') return loc;
    if (typeof org.lat === 'number' && typeof org.lon === 'number') return { lat: org.lat, lon: org.lon, approximate: false };
    return null;
}

/** The address with a geo: link and an OpenStreetMap link (none for a district's centre only). */
export function addressBlock(org) {
    const addr = pick(org, 'address');
    const c = coords(org);
    const exact = c && !c.approximate;
    let geo = null;
    let osm = null;
    if (exact) {
        geo = `geo:${c.lat},${c.lon}`;
        osm = `https://www.openstreetmap.org/?mlat=${c.lat}&mlon=${c.lon}#map=17/${c.lat}/${c.lon}`;
    } else if (addr.text) {
        geo = `geo:0,0?q=${encodeURIComponent(addr.text)}`;
        osm = `https://www.openstreetmap.org/search?query=${encodeURIComponent(addr.text)}`;
    }
    if (!addr.text && !geo) return null;
    return h('div', { class: 'address' },
        addr.text ? text('p', addr, { class: 'addr-text' }) : null,
        geo ? h('p', { class: 'map-links' },
            h('a', { href: geo, class: 'maplink' }, t('map.geo')),
            h('a', { href: osm, class: 'maplink', rel: 'noopener noreferrer' }, t('map.osm'))) : null);
}

/** The distance line of the nearest child opportunity centre. */
export function distanceLine(item) {
    if (typeof item.distance_km !== 'number') return null;
    let s;
    if (item.distance_approximate && item.distance_km < 0.05) s = t('distance.same_district');
    else s = item.distance_approximate ? t('distance.approx', { km: fmtKm(item.distance_km) }) : t('distance.exact', { km: fmtKm(item.distance_km) });
    return h('p', { class: 'distance' }, s);
}

/** Text of one organisation or person for sharing (public contact points only). */
export function shareText(e) {
    const lines = [pickText(e, 'name')];
    const title = pickText(e, 'title');
    if (title) lines.push(title);
    lines.push(...shareLines(e.contacts));
    const addr = pickText(e, 'address');
    if (addr) lines.push(addr);
    if (e.verified_at) lines.push(t('verified.on', { date: fmtDate(e.verified_at) }));
    return lines.join('\n');
}

export function entityUrl(e) {
    return new URL(e.kind === 'person' ? `/person/${e.id}` : `/org/${e.id}`, location.origin).href;
}

/**
 * A card of an answer item or a search result.
 * opts: {types: Map of org types, level: heading level (3), reason: true, now, serverNow}
 */
export function card(e, opts = {}) {
    const isPerson = e.kind === 'person';
    const level = opts.level || 3;
    const name = pick(e, 'name');
    const href = isPerson ? `/person/${e.id}` : `/org/${e.id}`;
    const headId = `${isPerson ? 'p' : 'o'}${e.id}-${Math.random().toString(36).slice(2, 7)}`;
    const unit = [];
    if (isPerson) {
        const title = pick(e, 'title');
        if (title.text) unit.push(text('span', title));
    } else {
        const type = opts.types && opts.types.get(e.type);
        if (type) unit.push(text('span', pick(type, 'name')));
        if (e.area) unit.push(h('span', null, areaName(e.area)));
    }
    const reason = opts.reason !== false && e.reason ? (currentLang() === 'en' ? e.reason.en : e.reason.th) || e.reason.th : null;
    return h('article', { class: ['card', isPerson ? 'card-person' : 'card-org'], 'aria-labelledby': headId },
        h(`h${level}`, { class: 'card-title', id: headId }, h('a', { href, lang: name.lang !== currentLang() ? name.lang : null }, name.text)),
        unit.length ? h('p', { class: 'unit' }, unit.flatMap((u, i) => (i ? [' · ', u] : [u]))) : null,
        reason ? h('p', { class: 'reason' }, reason) : null,
        !isPerson && e.status && e.status !== 'active' ? h('p', null, h('span', { class: 'badge badge-closed' }, t(`status.${e.status}`))) : null,
        isPerson || (e.status && e.status !== 'active') ? null : hoursBlock(e, opts.now || new Date(), opts.serverNow || null),
        contactList(e.contacts) || h('p', { class: 'muted' }, t('contact.none')),
        isPerson ? null : addressBlock(e),
        distanceLine(e),
        verifiedLine(e),
        h('div', { class: 'card-actions' },
            shareControl(() => ({ title: name.text, text: shareText(e), url: entityUrl(e) })),
            reportControl(isPerson ? 'person' : 'organization', e.id, name.text)));
}
