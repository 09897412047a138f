// The area field: type a Thai or English name (prefix or substring of a district, sub-district
// or community: "ปทุมวัน", "pathum", "Lumphini") and pick from the suggestions (an ARIA
// combobox: arrows, Enter, Escape, or tap), or "use my location" for the nearest district.

import { h, clear, uid } from './dom.js';
import { t, fmtKm } from './i18n.js';
import { api } from './api.js';
import { areaInfo, areaName } from './ref.js';
import { position, nearestDistrict } from './geo.js';

const KIND_ORDER = { district: 0, subdistrict: 1, community: 2 };

function score(a, q) {
    const ql = q.toLowerCase();
    const names = [a.name_th || '', (a.name_en || '').toLowerCase()];
    let s = 3;
    for (const n of names) {
        if (n === q || n === ql) s = Math.min(s, 0);
        else if (n.startsWith(q) || n.startsWith(ql)) s = Math.min(s, 1);
        else if (n.includes(q) || n.includes(ql)) s = Math.min(s, 2);
    }
    const bkk = /^(10|C10)/.test(a.code) ? 0 : 1;
    return [s, bkk, KIND_ORDER[a.kind] ?? 3, a.code];
}

function cmp(x, y) {
    for (let i = 0; i < x.length; i += 1) {
        if (x[i] < y[i]) return -1;
        if (x[i] > y[i]) return 1;
    }
    return 0;
}

/** What lies around an area, for the second line of a suggestion: "เขตปทุมวัน, กรุงเทพมหานคร". */
async function context(a) {
    if (!a.parent) return '';
    const p = await areaInfo(a.parent);
    if (!p) return '';
    const chain = [p, ...[...(p.ancestors || [])].reverse()].filter((x) => x.kind !== 'country');
    return chain.map((x) => areaName(x)).join(', ');
}

/**
 * areaPicker({label, initial: area code or null, onChange(area|null)}) ->
 * {el, value() -> code|null, area() -> {code, kind, name_th, name_en}|null}
 */
export function areaPicker({ label, initial = null, onChange = () => {}, required = false, geo = true } = {}) {
    const id = uid('area');
    const listId = `${id}-list`;
    const hintId = `${id}-hint`;
    let chosen = null;
    let options = [];
    let active = -1;
    let seq = 0;
    let timer = null;

    const input = h('input', {
        id, type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
        'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
        'aria-describedby': hintId, required,
    });
    const listbox = h('ul', { id: listId, role: 'listbox', class: 'suggestions', hidden: true, 'aria-label': t('area.suggestions') });
    // aria-live, not role=status: the screen's own status (results, report) stays the first status.
    const status = h('p', { class: 'area-status', 'aria-live': 'polite' });
    const geoBtn = geo ? h('button', { type: 'button', class: 'btn btn-secondary btn-geo' }, t('area.use_location')) : null;

    const setExpanded = (yes) => {
        listbox.hidden = !yes;
        input.setAttribute('aria-expanded', yes ? 'true' : 'false');
        if (!yes) {
            input.removeAttribute('aria-activedescendant');
            active = -1;
        }
    };

    const choose = (a, how) => {
        chosen = a;
        input.value = a ? areaName(a) : '';
        setExpanded(false);
        status.textContent = a ? (how || t('area.chosen', { name: areaName(a) })) : '';
        onChange(a);
    };

    const highlight = (i) => {
        options.forEach((o, k) => o.el.setAttribute('aria-selected', k === i ? 'true' : 'false'));
        active = i;
        if (i >= 0) {
            input.setAttribute('aria-activedescendant', options[i].el.id);
            options[i].el.scrollIntoView({ block: 'nearest' });
        } else input.removeAttribute('aria-activedescendant');
    };

    const render = (items) => {
        clear(listbox);
        options = items.map((a) => {
            const sub = h('span', { class: 'opt-sub' });
            const el = h('li', { id: uid('opt'), role: 'option', class: 'option', 'aria-selected': 'false' },
                h('span', { class: 'opt-main' }, areaName(a)), ' ', sub);
            el.addEventListener('mousedown', (ev) => ev.preventDefault()); // keep focus in the input
            el.addEventListener('click', () => choose(a));
            context(a).then((c) => { sub.textContent = c; });
            listbox.appendChild(el);
            return { a, el };
        });
        if (!items.length) {
            listbox.appendChild(h('li', { class: 'option-none', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false', id: uid('opt') }, t('area.none')));
        }
        setExpanded(true);
    };

    const search = async () => {
        const q = input.value.trim();
        const my = ++seq;
        if (q.length < 2) {
            setExpanded(false);
            return;
        }
        try {
            const { data } = await api(`/v1/areas?q=${encodeURIComponent(q)}&limit=40`);
            if (my !== seq) return;
            const items = (data.items || [])
                .filter((a) => a.kind in KIND_ORDER)
                .sort((x, y) => cmp(score(x, q), score(y, q)))
                .slice(0, 12);
            render(items);
            status.textContent = items.length ? t('area.n_found', { n: items.length }) : '';
        } catch (e) {
            if (my !== seq) return;
            setExpanded(false);
            status.textContent = e.offline ? t('area.offline') : t('area.error');
        }
    };

    // Submitted with a typed name but nothing picked: take the suggestion named exactly so
    // (a district before a sub-district of the same name), or the only one. -> area or null.
    const chooseTyped = async () => {
        if (chosen) return chosen;
        const q = input.value.trim();
        if (q.length < 2) return null;
        clearTimeout(timer);
        await search();
        const exact = options.filter((o) => score(o.a, q)[0] === 0);
        if (exact.length) choose(exact[0].a);
        else if (options.length === 1) choose(options[0].a);
        return chosen;
    };

    input.addEventListener('input', () => {
        if (chosen) {
            chosen = null;
            onChange(null);
        }
        clearTimeout(timer);
        timer = setTimeout(search, 200);
    });
    input.addEventListener('keydown', (ev) => {
        const open = !listbox.hidden && options.length;
        if (ev.key === 'ArrowDown') {
            ev.preventDefault();
            if (!open) search();
            else highlight(Math.min(options.length - 1, active + 1));
        } else if (ev.key === 'ArrowUp') {
            if (open) {
                ev.preventDefault();
                highlight(Math.max(0, active - 1));
            }
        } else if (ev.key === 'Enter') {
            if (open && active >= 0) {
                ev.preventDefault();
                choose(options[active].a);
            } else if (open && options.length === 1) {
                ev.preventDefault();
                choose(options[0].a);
            }
        } else if (ev.key === 'Escape') {
            if (!listbox.hidden) {
                ev.preventDefault();
                setExpanded(false);
            }
        }
    });
    input.addEventListener('blur', () => setTimeout(() => setExpanded(false), 150));

    if (geoBtn) {
        geoBtn.addEventListener('click', async () => {
            geoBtn.disabled = true;
            status.textContent = t('area.locating');
            try {
                const p = await position();
                const best = await nearestDistrict(p.lat, p.lon);
                if (!best) throw { code: 'none' };
                choose(best.area, t('area.nearest', { name: areaName(best.area), km: fmtKm(best.km) }));
            } catch (e) {
                const code = e && e.code;
                if (code === 1) status.textContent = t('area.geo_denied');
                else if (code === 'unsupported') status.textContent = t('area.geo_unsupported');
                else if (e && e.offline) status.textContent = t('area.offline');
                else status.textContent = t('area.geo_failed');
            } finally {
                geoBtn.disabled = false;
            }
        });
    }

    if (initial) {
        areaInfo(initial).then((a) => {
            if (a && !chosen && !input.value) {
                chosen = a;
                input.value = areaName(a);
                onChange(a);
            }
        });
    }

    const el = h('div', { class: 'field area-field' },
        h('label', { for: id }, label || t('area.label')),
        h('p', { class: 'hint', id: hintId }, t('area.hint')),
        h('div', { class: 'combo' }, input, listbox),
        geoBtn,
        status);
    return {
        el,
        input,
        value: () => (chosen ? chosen.code : null),
        area: () => chosen,
        chooseTyped,
    };
}
