// The edit cycle shared by the organisation and person editors: load the entry (its version
// is the If-Match of the save), draw the form, send only the fields the coordinator changed
// (PATCH) or the whole new entry (POST, with an Idempotency-Key so a retried create is not
// made twice), show the server's field errors next to the fields (the form keeps what was
// typed), and on 412 open the conflict screen; after the choices, save against the current
// version (and again, should someone save in between).

import { h, add, clear } from './dom.js';
import { t, pickText, onLangChange } from './i18n.js';
import { api, ApiError } from './api.js';
import { announce } from './shell.js';
import { ErrorSlots, same, etagOf, waitFresh } from './editkit.js';
import { conflictView } from './conflict.js';
import { errorText } from './views/answer.js';

// The form on screen, so that switching the language (which redraws the screen) keeps what
// was typed: {path, get, base, current, idemKey}. keep is set by the switch, used once.
let active = null;
let keep = false;
onLangChange(() => { keep = !!active && active.path === location.pathname + location.search; });

function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The keys of `values` whose value differs from `base` (coordinates go together). */
export function changed(values, base, together = [['lat', 'lon']]) {
    const out = {};
    for (const k of Object.keys(values)) if (!same(values[k], base[k])) out[k] = values[k];
    for (const g of together) {
        if (g.some((k) => k in out)) for (const k of g) out[k] = values[k];
    }
    return out;
}

/** A create's body: empty values left out. */
function createBody(values) {
    const out = {};
    for (const [k, v] of Object.entries(values)) {
        if (v === null || v === undefined || (Array.isArray(v) && !v.length)) continue;
        out[k] = v;
    }
    return out;
}

/**
 * editEntity(root, ctx, spec): spec = {
 *   collection: '/v1/organizations', id (null: create), page: (id) -> '/org/{id}',
 *   heading: (entity|null) -> string, toBody: entity -> values, blank: values for a new entry,
 *   build: (slots, values, entity|null) -> {el, get()}, fields: conflict fields,
 *   load: id -> entity (optional; default GET collection/id), keyOf: entity -> its key in
 *   the collection's path (optional; default its id) }
 */
export async function editEntity(root, ctx, spec) {
    let entity = null;
    const drawFormFor = (values, base, current, idemKey) => runForm(root, ctx, spec, values, base, current, idemKey);
    const here = location.pathname + location.search;
    const draft = keep && active && active.path === here ? active : null;
    keep = false;
    active = null;
    if (draft) {
        const values = draft.get();
        drawFormFor(values, draft.base, draft.current, draft.idemKey);
        return;
    }
    if (spec.id !== null) {
        add(root, h('h1', { tabindex: '-1' }, spec.heading(null)), h('p', { class: 'loading', role: 'status' }, t('loading')));
        try {
            entity = spec.load ? await spec.load(spec.id) : (await api(`${spec.collection}/${encodeURIComponent(spec.id)}`)).data;
        } catch (e) {
            if (!ctx.current()) return;
            clear(root);
            add(root, h('h1', { tabindex: '-1' }, spec.heading(null)), h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
            return;
        }
        if (!ctx.current()) return;
    }
    const base0 = entity ? spec.toBody(entity) : spec.blank;
    drawFormFor(base0, base0, entity, newKey());
}

/** The form and its save cycle (see editEntity). */
function runForm(root, ctx, spec, values0, base0, entity0, idemKey) {
    const keyOf = spec.keyOf || ((e) => e.id);
    drawForm(values0, base0, entity0, null);

    function drawForm(values, base, current, problem) {
        clear(root);
        const title = spec.heading(current);
        ctx.title(title);
        const slots = new ErrorSlots();
        const body = spec.build(slots, values, current);
        const status = h('p', { class: 'edit-status', role: 'status' });
        const save = h('button', { type: 'submit', class: 'btn btn-primary' }, current ? t('edit.save') : t('edit.create'));
        active = { path: location.pathname + location.search, get: body.get, base, current, idemKey };
        const form = h('form', { class: 'edit-form', novalidate: true, 'aria-labelledby': 'edit-title' },
            slots.summary, body.el,
            h('div', { class: 'form-actions' }, save,
                h('a', { class: 'btn btn-secondary', href: current ? spec.page(keyOf(current)) : spec.cancel || '/search' }, t('edit.cancel'))),
            status);
        add(root, h('h1', { tabindex: '-1', id: 'edit-title' }, title),
            current ? h('p', { class: 'hint' }, t('edit.version', { version: current.version })) : null,
            form);
        if (problem) slots.show(problem);
        form.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            const mine = body.get();
            slots.clear();
            status.textContent = t('edit.saving');
            save.disabled = true;
            try {
                let res;
                if (current) {
                    const diff = changed(mine, base);
                    if (!Object.keys(diff).length) {
                        status.textContent = t('edit.no_changes');
                        return;
                    }
                    res = await api(`${spec.collection}/${encodeURIComponent(keyOf(current))}`, { method: 'PATCH', body: diff, headers: { 'If-Match': etagOf(current) } });
                } else {
                    res = await api(spec.collection, { method: 'POST', body: createBody(mine), headers: { 'Idempotency-Key': idemKey } });
                }
                done(res.data, current);
            } catch (e) {
                status.textContent = '';
                if (!(e instanceof ApiError)) throw e;
                if (e.status === 412 && e.problem && e.problem.version !== undefined) {
                    conflict(mine, base, e.problem);
                    return;
                }
                if (e.status === 400 && e.problem && e.problem.errors) slots.show(e.problem);
                else slots.message(errorText(e));
            } finally {
                save.disabled = false;
            }
        });
        return slots;
    }

    // before: the entry as it was when saved (null for a create): the page must show a later one.
    async function done(saved, before) {
        const want = Math.max(saved.version || 1, before ? before.version + 1 : 1);
        if (!spec.load) await waitFresh(`${spec.collection}/${encodeURIComponent(keyOf(saved))}`, want);
        ctx.navigate(spec.page(keyOf(saved))).then(() => announce(t('edit.saved', { name: pickText(saved, 'name') })));
    }

    async function conflict(mine, base, current) {
        const theirs = spec.toBody(current);
        await conflictView(root, {
            title: pickText(current, 'name'),
            version: current.version,
            fields: spec.fields,
            base,
            mine,
            theirs,
            onDiscard: () => ctx.navigate(spec.page(keyOf(current))),
            onSave: async (merged) => {
                const diff = changed(merged, theirs);
                if (!Object.keys(diff).length) {
                    done(current, null);
                    return;
                }
                try {
                    const res = await api(`${spec.collection}/${encodeURIComponent(keyOf(current))}`, { method: 'PATCH', body: diff, headers: { 'If-Match': etagOf(current) } });
                    done(res.data, current);
                } catch (e) {
                    if (!(e instanceof ApiError)) throw e;
                    if (e.status === 412 && e.problem && e.problem.version !== undefined) {
                        await conflict(merged, theirs, e.problem);
                        return;
                    }
                    // Back to the form with the chosen values, against the current version.
                    const slots = drawForm(merged, theirs, current, e.status === 400 ? e.problem : null);
                    if (e.status !== 400) slots.message(errorText(e));
                }
            },
        });
    }
}

