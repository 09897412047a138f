// "Use my location": the nearest district to the browser's position (with permission),
// measured to the district coordinates the API has (/v1/areas?kind=district).

import { districts } from './ref.js';

/** Great-circle distance in km. */
export function haversineKm(lat1, lon1, lat2, lon2) {
    const r = (x) => (x * Math.PI) / 180;
    const dLat = r(lat2 - lat1);
    const dLon = r(lon2 - lon1);
    const a = Math.sin(dLat / 2) ** 2 + Math.cos(r(lat1)) * Math.cos(r(lat2)) * Math.sin(dLon / 2) ** 2;
    return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}

function nearestOf(list, lat, lon) {
    let best = null;
    for (const a of list) {
        const km = haversineKm(lat, lon, a.lat, a.lon);
        if (!best || km < best.km) best = { area: a, km };
    }
    return best;
}

/** The browser's position: {lat, lon}; rejects with a GeolocationPositionError-like {code}. */
export function position() {
    return new Promise((resolve, reject) => {
        if (!('geolocation' in navigator)) {
            reject({ code: 'unsupported' });
            return;
        }
        navigator.geolocation.getCurrentPosition(
            (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
            (err) => reject({ code: err.code }),
            { enableHighAccuracy: false, timeout: 20000, maximumAge: 300000 });
    });
}

// Bangkok and the provinces around it: Samut Prakan, Nonthaburi, Pathum Thani,
// Chachoengsao, Nakhon Pathom, Samut Sakhon.
const AROUND_BANGKOK = ['10', '11', '12', '13', '24', '73', '74'];

/**
 * The nearest district -> {area, km} or null. Near Bangkok (within 20 km of one of its
 * districts' centres) only Bangkok's and its neighbouring provinces' districts can be nearest,
 * so a few small lists suffice; elsewhere the whole country's 928 districts are read (once).
 */
export async function nearestDistrict(lat, lon) {
    const bkk = nearestOf(await districts('10'), lat, lon);
    if (bkk && bkk.km <= 20) {
        const lists = await Promise.all(AROUND_BANGKOK.map((p) => districts(p).catch(() => [])));
        return nearestOf(lists.flat(), lat, lon) || bkk;
    }
    return nearestOf(await districts(), lat, lon) || bkk;
}
