// Reference lists from the API (services, target groups, organisation types, zone groups,
// professions, team roles) and area look-ups, fetched once per page load and kept for offline
// use (they are public). Also how an area is named in each language ("เขตปทุมวัน",
// "Lumphini sub-district").

import { api } from './api.js';
import { t, pickText } from './i18n.js';

const promises = new Map();

function once(path) {
    if (!promises.has(path)) {
        const p = api(path, { keep: 'ref' }).then((r) => r.data);
        p.catch(() => promises.delete(path));
        promises.set(path, p);
    }
    return promises.get(path);
}

async function items(path) {
    try {
        const d = await once(path);
        return (d && d.items) || [];
    } catch (e) {
        return [];
    }
}

export const services = () => items('/v1/services');
export const targetGroups = () => items('/v1/target-groups');
export const orgTypes = () => items('/v1/org-types');
export const areaGroups = () => items('/v1/area-groups');
export const professions = () => items('/v1/professions');
export const teamRoles = () => items('/v1/team-roles');

/** code -> item map of a reference list. */
export async function byCode(listFn) {
    const m = new Map();
    for (const it of await listFn()) m.set(it.code, it);
    return m;
}

/** /v1/areas/{code} (with ancestors and zone groups), or null when unknown or offline. */
export async function areaInfo(code) {
    try {
        return await once(`/v1/areas/${encodeURIComponent(code)}`);
    } catch (e) {
        return null;
    }
}

/** Bangkok's districts use เขต/แขวง, the provinces อำเภอ/ตำบล. */
function inBangkok(code) {
    return /^10\d*$/.test(String(code)) || /^C10/.test(String(code));
}

/** "เขตปทุมวัน" / "Pathum Wan district" for an area object {code, kind, name_th, name_en}. */
export function areaName(a) {
    if (!a) return '';
    const name = pickText(a, 'name');
    const bkk = inBangkok(a.code);
    switch (a.kind) {
    case 'district': return t(bkk ? 'area.district_bkk' : 'area.district', { name });
    case 'subdistrict': return t(bkk ? 'area.subdistrict_bkk' : 'area.subdistrict', { name });
    case 'province': return a.code === '10' ? name : t('area.province', { name });
    case 'community': return /^ชุมชน/.test(name) || /community/i.test(name) ? name : t('area.community', { name });
    default: return name;
    }
}

/** Districts with coordinates: of one province (code), or of the whole country (null). */
export async function districts(province = null) {
    const out = [];
    let cursor = null;
    const base = province ? `/v1/areas?kind=district&parent=${encodeURIComponent(province)}&limit=500` : '/v1/areas?kind=district&limit=500';
    for (let page = 0; page < 10; page += 1) {
        const d = await once(cursor ? `${base}&cursor=${encodeURIComponent(cursor)}` : base);
        out.push(...(d.items || []));
        cursor = d.next;
        if (!cursor) break;
    }
    return out.filter((a) => typeof a.lat === 'number' && typeof a.lon === 'number');
}
