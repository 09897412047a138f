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

/**
 * The nearest district: Bangkok's 50 first (one small request); the whole country's only when
 * the position is not within 15 km of a Bangkok district's centre. -> {area, km} or null.
 */
export async function nearestDistrict(lat, lon) {
    const bkk = nearestOf(await districts({ bangkokOnly: true }), lat, lon);
    if (bkk && bkk.km <= 15) return bkk;
    const all = nearestOf(await districts(), lat, lon);
    return all || bkk;
}
