// Building blocks of the coordinators' edit forms: labelled fields with an error slot each
// (the server's RFC 9457 `errors[].field` shown next to the field it names, in the page
// language), a search-as-you-type code picker (single or several codes: areas, zone groups,
// services, target groups, organisations; nobody types a raw code), and deep comparison of
// API-shaped values (for "what did I change" and the conflict screen).
//
// Editing needs the network (every save goes to the API), so these modules are not part of
// the service worker's offline shell.

import { h, uid, clear, add } from './dom.js';
import { t, currentLang, pickText } from './i18n.js';
import { api } from './api.js';
import { session } from './session.js';
import { areaGroups, areaInfo, areaName } from './ref.js';

/** Whether the signed-in user may edit (coordinator or admin; the server checks again). */
export function canEdit() {
    const r = session.user && session.user.role;
    return session.state === 'signed-in' && (r === 'coordinator' || r === 'admin');
}

/** JSON with object keys sorted, for comparing API-shaped values. */
export function canon(v) {
    if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
    if (v && typeof v === 'object') {
        return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
    }
    return JSON.stringify(v === undefined ? null : v);
}

export const same = (a, b) => canon(a) === canon(b);

/** '' and white space only -> null; other strings trimmed. */
export const nn = (s) => (typeof s === 'string' && s.trim() !== '' ? s.trim() : null);

/** 'contacts[0].value' -> 'contacts[0]' -> 'contacts' -> ''. */
function parentPath(p) {
    const q = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
    return q === p ? '' : q;
}

/**
 * The error slots of one form. Each control registers the API field path it stands for
 * (a string, or a function when the path depends on the row's position); show(problem) puts
 * each error under its field (the nearest registered parent path when no control has that
 * exact path) and the rest in the summary at the top.
 */
export class ErrorSlots {
    constructor() {
        this.slots = [];
        this.summary = h('div', { class: 'edit-errors', role: 'alert', tabindex: '-1' });
    }

    /** An error paragraph for PATH, wired to CONTROL with aria-describedby. Returns it. */
    slot(path, control) {
        const el = h('p', { class: 'field-error', id: uid('err') });
        if (control) {
            const d = control.getAttribute('aria-describedby');
            control.setAttribute('aria-describedby', d ? `${d} ${el.id}` : el.id);
        }
        this.slots.push({ path, el, control });
        return el;
    }

    clear() {
        clear(this.summary);
        for (const s of this.slots) {
            clear(s.el);
            if (s.control) s.control.removeAttribute('aria-invalid');
        }
    }

    /** Live slots only (rows removed from the page are skipped). */
    live() {
        return this.slots.filter((s) => s.el.isConnected);
    }

    /** Shows a problem's errors; answers the number placed. Focuses the summary. */
    show(problem) {
        this.clear();
        const errs = (problem && problem.errors) || [];
        const slots = this.live().map((s) => ({ ...s, p: typeof s.path === 'function' ? s.path() : s.path }));
        const loose = [];
        for (const e of errs) {
            const msg = currentLang() === 'en' ? e.message_en || e.message_th : e.message_th || e.message_en;
            let path = e.field || '';
            let s = null;
            while (path && !s) {
                s = slots.find((x) => x.p === path);
                if (!s) path = parentPath(path);
            }
            if (s) {
                add(s.el, s.el.firstChild ? ' ' : null, msg);
                if (s.control) s.control.setAttribute('aria-invalid', 'true');
            } else loose.push(`${e.field}: ${msg}`);
        }
        const n = errs.length;
        add(this.summary,
            h('p', null, n ? t('edit.errors_n', { n }) : (problem && (currentLang() === 'en' ? problem.title : problem.detail || problem.title)) || t('edit.save_failed')),
            loose.length ? h('ul', null, loose.map((l) => h('li', null, l))) : null);
        this.summary.focus();
        return n - loose.length;
    }

    /** A message that belongs to no field (offline, 403...). */
    message(text) {
        this.clear();
        add(this.summary, h('p', null, text));
        this.summary.focus();
    }
}

/**
 * A labelled input: field(slots, {path, label, value, type, multiline, hint, required, attrs})
 * -> {el, input, get()}. get() answers the trimmed text or null.
 */
export function field(slots, { path, label, value = null, type = 'text', multiline = false, hint = null, required = false, attrs = {}, lang = null }) {
    const id = uid('f');
    const hintEl = hint ? h('p', { class: 'hint', id: uid('hint') }, hint) : null;
    const input = multiline
        ? h('textarea', { id, rows: 3, required, lang, 'aria-describedby': hintEl ? hintEl.id : null, ...attrs })
        : h('input', { id, type, required, lang, autocomplete: 'off', 'aria-describedby': hintEl ? hintEl.id : null, ...attrs });
    input.value = value === null || value === undefined ? '' : String(value);
    const err = slots ? slots.slot(path, input) : null;
    const el = h('div', { class: 'field' }, h('label', { for: id }, label, required ? h('span', { class: 'req' }, ' *') : null), hintEl, input, err);
    return { el, input, get: () => nn(input.value) };
}

/** A select of reference items {code, name_th, name_en}: select(slots, {path, label, items, value, empty}). */
export function select(slots, { path, label, items, value = null, empty = null, required = false }) {
    const id = uid('f');
    const sel = h('select', { id, required },
        empty !== null ? h('option', { value: '' }, empty) : null,
        items.map((it) => h('option', { value: it.code, selected: it.code === value }, it.label || pickText(it, 'name'))));
    if (value && !items.some((it) => it.code === value)) sel.appendChild(h('option', { value, selected: true }, value));
    const err = slots ? slots.slot(path, sel) : null;
    const el = h('div', { class: 'field' }, h('label', { for: id }, label, required ? h('span', { class: 'req' }, ' *') : null), sel, err);
    return { el, input: sel, get: () => sel.value || null };
}

/** A checkbox: check(slots, {path, label, value}) -> {el, input, get()}. */
export function check(slots, { path, label, value = false }) {
    const id = uid('f');
    const input = h('input', { id, type: 'checkbox', checked: !!value });
    const err = slots && path ? slots.slot(path, input) : null;
    return { el: h('div', { class: 'field check' }, input, h('label', { for: id }, label), err), input, get: () => input.checked };
}

/**
 * A search-as-you-type picker (ARIA combobox) for codes.
 * picker(slots, {path, label, search: async q -> [{code, label, sub}], nameOf: async code -> label,
 *   multiple, value: code | [codes], hint, required})
 * -> {el, input, get() -> code|null or [codes]}
 */
export function picker(slots, { path, label, search, nameOf, multiple = false, value = null, hint = null, required = false }) {
    const id = uid('pick');
    const listId = `${id}-list`;
    const hintEl = h('p', { class: 'hint', id: uid('hint') }, hint || t('edit.pick_hint'));
    let chosen = multiple ? [...(value || [])].map((c) => ({ code: c, label: c })) : (value ? { code: value, label: value } : null);
    let options = [];
    let active = -1;
    let seq = 0;
    let timer = null;
    const input = h('input', {
        id, type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false', required: required && !multiple,
        'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId, 'aria-describedby': hintEl.id,
    });
    const listbox = h('ul', { id: listId, role: 'listbox', class: 'suggestions', hidden: true, 'aria-label': t('edit.suggestions', { label }) });
    const chips = multiple ? h('ul', { class: 'chips', 'aria-label': t('edit.chosen', { label }) }) : null;
    const live = h('p', { class: 'area-status', 'aria-live': 'polite' });
    const err = slots ? slots.slot(path, input) : null;

    const expanded = (yes) => {
        listbox.hidden = !yes;
        input.setAttribute('aria-expanded', yes ? 'true' : 'false');
        if (!yes) {
            input.removeAttribute('aria-activedescendant');
            active = -1;
        }
    };
    const drawChips = () => {
        if (!multiple) return;
        clear(chips);
        for (const c of chosen) {
            chips.appendChild(h('li', { class: 'chip' }, h('span', null, c.label),
                h('button', { type: 'button', class: 'btn btn-link chip-x', 'aria-label': t('edit.remove_item', { name: c.label }),
                    on: { click: () => { chosen = chosen.filter((x) => x.code !== c.code); drawChips(); input.focus(); } } }, '×')));
        }
    };
    const choose = (o) => {
        if (multiple) {
            if (!chosen.some((c) => c.code === o.code)) chosen.push({ code: o.code, label: o.label });
            input.value = '';
            drawChips();
            live.textContent = t('edit.added', { name: o.label });
        } else {
            chosen = { code: o.code, label: o.label };
            input.value = o.label;
            live.textContent = t('edit.picked', { name: o.label });
        }
        expanded(false);
    };
    const highlight = (i) => {
        options.forEach((o, k) => o.el.setAttribute('aria-selected', k === i ? 'true' : 'false'));
        active = i;
        if (i >= 0) input.setAttribute('aria-activedescendant', options[i].el.id);
    };
    const run = async () => {
        const q = input.value.trim();
        const my = ++seq;
        if (!q) {
            expanded(false);
            return;
        }
        let items = [];
        try {
            items = await search(q);
        } catch (e) {
            items = [];
        }
        if (my !== seq) return;
        clear(listbox);
        options = items.slice(0, 12).map((o) => {
            const el = h('li', { id: uid('opt'), role: 'option', class: 'option', 'aria-selected': 'false' },
                h('span', { class: 'opt-main' }, o.label), o.sub ? [' ', h('span', { class: 'opt-sub' }, o.sub)] : null);
            el.addEventListener('mousedown', (ev) => ev.preventDefault());
            el.addEventListener('click', () => choose(o));
            listbox.appendChild(el);
            return { o, el };
        });
        if (!options.length) listbox.appendChild(h('li', { class: 'option-none', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false', id: uid('opt') }, t('edit.none_found')));
        expanded(true);
    };
    input.addEventListener('input', () => {
        if (!multiple && chosen && input.value !== chosen.label) chosen = null;
        clearTimeout(timer);
        timer = setTimeout(run, 150);
    });
    input.addEventListener('keydown', (ev) => {
        const open = !listbox.hidden && options.length;
        if (ev.key === 'ArrowDown') {
            ev.preventDefault();
            if (open) highlight(Math.min(options.length - 1, active + 1));
            else run();
        } else if (ev.key === 'ArrowUp' && open) {
            ev.preventDefault();
            highlight(Math.max(0, active - 1));
        } else if (ev.key === 'Enter' && open) {
            ev.preventDefault();
            choose(options[active >= 0 ? active : 0].o);
        } else if (ev.key === 'Escape' && !listbox.hidden) {
            ev.preventDefault();
            expanded(false);
        }
    });
    input.addEventListener('blur', () => setTimeout(() => {
        expanded(false);
        if (!multiple && !chosen) input.value = '';
    }, 150));

    // Names for the codes we start with.
    const named = multiple ? chosen : chosen ? [chosen] : [];
    Promise.all(named.map(async (c) => {
        const was = c.label;
        c.label = (await nameOf(c.code)) || c.code;
        // The field still shows the code it started with (nobody typed since): show the name.
        if (!multiple && chosen === c && input.value === String(was)) input.value = c.label;
    })).then(drawChips);
    if (!multiple && chosen) input.value = chosen.label;
    drawChips();

    const el = h('div', { class: ['field', 'picker', multiple ? 'picker-multi' : null] },
        h('label', { for: id }, label, required ? h('span', { class: 'req' }, ' *') : null), hintEl, chips,
        h('div', { class: 'combo' }, input, listbox), live, err);
    return {
        el,
        input,
        get: () => (multiple ? chosen.map((c) => c.code) : chosen ? chosen.code : null),
    };
}

// ---- search sources for pickers ----

const fold = (s) => String(s || '').toLowerCase();
const matches = (it, q) => fold(it.name_th).includes(fold(q)) || fold(it.name_en).includes(fold(q)) || fold(it.code) === fold(q);

/** Items of a reference list matching q: [{code, label}]. */
export function refSource(listFn) {
    return {
        search: async (q) => (await listFn()).filter((it) => matches(it, q)).map((it) => ({ code: it.code, label: pickText(it, 'name') })),
        nameOf: async (code) => {
            const it = (await listFn()).find((x) => x.code === code);
            return it ? pickText(it, 'name') : null;
        },
    };
}

/** Areas (district, sub-district, community; with zone groups and provinces when wide). */
export function areaSource({ groups = false, kinds = ['district', 'subdistrict', 'community'] } = {}) {
    return {
        search: async (q) => {
            const out = [];
            if (groups) {
                for (const g of await areaGroups()) {
                    if (matches(g, q)) out.push({ code: g.code, label: pickText(g, 'name'), sub: t('edit.zone_group') });
                }
            }
            const { data } = await api(`/v1/areas?q=${encodeURIComponent(q)}&limit=30`);
            for (const a of data.items || []) {
                if (kinds.includes(a.kind)) out.push({ code: a.code, label: areaName(a), sub: t(`edit.kind_${a.kind}`) });
            }
            return out;
        },
        nameOf: async (code) => {
            const g = (await areaGroups()).find((x) => x.code === code);
            if (g) return pickText(g, 'name');
            const a = await areaInfo(code);
            return a ? areaName(a) : null;
        },
    };
}

/** Organisations of the directory by name (id as code). */
export function orgSource({ exclude = null } = {}) {
    return {
        search: async (q) => {
            const { data } = await api(`/v1/organizations?q=${encodeURIComponent(q)}&limit=12`);
            return (data.items || []).filter((o) => String(o.id) !== String(exclude))
                .map((o) => ({ code: o.id, label: pickText(o, 'name'), sub: o.area ? areaName(o.area) : null }));
        },
        nameOf: async (id) => {
            try {
                const { data } = await api(`/v1/organizations/${encodeURIComponent(id)}`);
                return pickText(data, 'name');
            } catch (e) {
                return String(id);
            }
        },
    };
}

/** A titled group of fields. */
export function group(title, ...content) {
    const id = uid('grp');
    return h('fieldset', { class: 'edit-group', 'aria-labelledby': id }, h('legend', { id }, title), content);
}

/** The page heading plus the "only coordinators" note for everyone else; true when allowed. */
export function guard(root, ctx, title) {
    if (canEdit()) return true;
    ctx.title(title);
    add(root, h('h1', { tabindex: '-1' }, title), h('p', { class: 'form-error', role: 'alert' }, t('edit.not_allowed')));
    return false;
}

/**
 * Waits (up to ~6 s, more on a slow server) until GET path shows at least `version`: a write
 * answers the entry as the read model shows it, and on a very busy daemon the read model may
 * not have followed within the write's own wait (3 s), so the page drawn next would show the
 * entry as before. Never throws.
 */
export async function waitFresh(path, version) {
    if (typeof version !== 'number') return;
    for (let i = 0; i < 30; i += 1) {
        try {
            const { data } = await api(path);
            if (data && typeof data.version === 'number' && data.version >= version) return;
        } catch (e) {
            if (e.status !== 404) return; // a new entry the read model has not reached yet: wait
        }
        await new Promise((r) => { setTimeout(r, 200); });
    }
}

/** The If-Match value of an entity answer. */
export const etagOf = (e) => `"${e.version}"`;
