// /import: a coordinator imports a spreadsheet (CSV) of organisations, people or communities.
// Upload a file, see the dry run as a table (each line: what would happen, and the errors
// next to the column and value they are about), then confirm; nothing is written until then,
// and a file with any error is never written (POST /v1/imports, docs/import.md). Links to
// the templates and to exports of what the directory holds. An HSDS 3.0 data package (the
// ZIP of GET /v1/export/hsds.zip, or its JSON form) goes the same way (kind=hsds,
// docs/hsds.md): one line per organisation, and what directoryd cannot hold listed below.

import { h, uid, add, clear } from '../dom.js';
import { t, currentLang } from '../i18n.js';
import { session } from '../session.js';

const KINDS = ['organizations', 'people', 'communities'];
const HSDS = 'hsds'; // not a spreadsheet: a data package, offered after the CSV kinds

function canImport() {
    return session.state === 'signed-in' && session.user &&
        (session.user.role === 'coordinator' || session.user.role === 'admin');
}

/** POST /v1/imports with the file's bytes; {status, data} (data: the report or a problem). */
async function send(file, { kind, dryRun, encoding, delimiter }) {
    const q = new URLSearchParams({ kind });
    if (dryRun) q.set('dry_run', '1');
    if (encoding) q.set('encoding', encoding);
    if (delimiter) q.set('delimiter', delimiter);
    const res = await fetch(`/v1/imports?${q}`, {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: {
            Accept: 'application/json',
            'Content-Type': kind !== HSDS ? 'text/csv'
                : /\.json$/i.test(file.name) ? 'application/json' : 'application/zip',
            'X-File-Name': encodeURIComponent(file.name).slice(0, 200),
            'X-CSRF-Token': session.user.csrf_token,
        },
        body: file,
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { status: res.status, data };
}

function select(label, name, options) {
    const id = uid(name);
    const sel = h('select', { id, name }, options.map(([v, text]) => h('option', { value: v }, text)));
    return [h('div', { class: 'field' }, h('label', { for: id }, label), sel), sel];
}

function reason(e) {
    return currentLang() === 'en' ? e.reason_en : e.reason_th;
}

/** The report as a table: line, what happens, errors (column, value, reason). HSDS lines also
 * name their organisation and the fields an update changes. */
function reportTable(rep) {
    const rows = rep.lines.map((l) => h('tr', { class: l.action === 'error' ? 'import-row-error' : null },
        h('td', null, l.file ? `${l.file}:${l.line}` : String(l.line)),
        h('td', null, t(`import.action.${l.action}`), l.id !== null && l.id !== undefined ? ` (${l.id})` : '',
            l.name_th ? h('span', { class: 'import-org' }, ` ${l.name_th}`) : '',
            l.fields && l.fields.length ? h('span', { class: 'import-fields' }, ` – ${l.fields.join(', ')}`) : ''),
        h('td', null, l.errors.length ? h('ul', { class: 'import-errors' }, l.errors.map((e) => h('li', null,
            e.column ? h('strong', null, e.column) : null,
            e.column && e.value !== null && e.value !== undefined ? ` «${e.value}»` : '',
            e.column ? ': ' : '', reason(e)))) : '')));
    return h('div', { class: 'import-table-wrap', role: 'region', tabindex: '0', 'aria-label': t('import.report_title') },
        h('table', { class: 'import-report' },
            h('caption', null, t('import.report_title')),
            h('thead', null, h('tr', null,
                h('th', { scope: 'col' }, t('import.col_line')),
                h('th', { scope: 'col' }, t('import.col_action')),
                h('th', { scope: 'col' }, t('import.col_errors')))),
            h('tbody', null, rows)));
}

/** HSDS: errors of files rather than organisations, and what directoryd cannot hold. */
function hsdsExtras(rep) {
    const out = [];
    const loose = (rep.errors || []).filter((e) => !rep.lines.some((l) => l.errors.includes(e) ||
        (l.file === e.file && l.line === e.line)));
    if (loose.length) {
        out.push(h('ul', { class: 'import-errors import-file-errors', role: 'alert' }, loose.map((e) => h('li', null,
            h('strong', null, e.line ? `${e.file}:${e.line}` : e.file), e.column ? ` ${e.column}` : '', ': ', reason(e)))));
    }
    const nh = rep.not_held || [];
    if (nh.length) {
        out.push(h('details', { class: 'import-not-held' },
            h('summary', null, t('hsds_import.not_held', { count: nh.length })),
            h('ul', null, nh.slice(0, 500).map((n) => h('li', null,
                h('strong', null, n.line ? `${n.file}:${n.line}` : n.file),
                n.column ? ` ${n.column}` : '', n.value ? ` «${n.value}»` : '', ': ', n.reason_en)))));
    }
    return out;
}

function summary(rep) {
    const c = rep.counts;
    return t('import.summary', { created: c.created, updated: c.updated, unchanged: c.unchanged, errors: c.errors });
}

export async function render(root, ctx) {
    ctx.title(t('import.title'));
    add(root, h('h1', { tabindex: '-1' }, t('import.title')));
    if (!canImport()) {
        add(root, h('p', null, t('import.need_role')),
            h('p', null, h('a', { href: `/login?next=${encodeURIComponent('/import')}` }, t('import.sign_in'))));
        return;
    }
    add(root, h('p', null, t('import.intro')));

    const [kindField, kind] = select(t('import.kind'), 'kind',
        [...KINDS.map((k) => [k, t(`import.kind.${k}`)]), [HSDS, t('hsds_import.kind')]]);
    const [encField, enc] = select(t('import.encoding'), 'encoding', [
        ['', t('import.auto')], ['utf-8', 'UTF-8'], ['windows-874', 'Windows-874 / TIS-620']]);
    const [delField, del] = select(t('import.delimiter'), 'delimiter', [
        ['', t('import.auto')], ['comma', t('import.comma')], ['semicolon', t('import.semicolon')], ['tab', t('import.tab')]]);
    const fileId = uid('file');
    const file = h('input', { id: fileId, name: 'file', type: 'file', accept: '.csv,.txt,text/csv', required: true });
    const check = h('button', { type: 'submit', class: 'btn btn-primary' }, t('import.check'));
    const error = h('p', { class: 'form-error', role: 'alert' });
    const out = h('div', { class: 'import-result', 'aria-live': 'polite' });
    const fileLabel = h('label', { for: fileId }, t('import.file'));
    const csvOptions = h('details', null, h('summary', null, t('import.options')), encField, delField);
    const form = h('form', { class: 'import-form', novalidate: true, 'aria-label': t('import.form') },
        kindField, h('div', { class: 'field' }, fileLabel, file), csvOptions, error, check);
    // An HSDS package is a ZIP (or JSON) file, with no encoding or delimiter to choose.
    kind.addEventListener('change', () => {
        const pkg = kind.value === HSDS;
        file.accept = pkg ? '.zip,.json,application/zip,application/json' : '.csv,.txt,text/csv';
        fileLabel.textContent = pkg ? t('hsds_import.file') : t('import.file');
        csvOptions.hidden = pkg;
    });

    let pending = null; // the checked file and options, until confirmed or changed
    const opts = () => ({ kind: kind.value, encoding: enc.value, delimiter: del.value });
    for (const el of [kind, enc, del, file]) el.addEventListener('change', () => { pending = null; clear(out); });

    function problemText(status, data) {
        if (status === 413) return t('import.too_large');
        if (data && data.detail) return data.detail;
        return t('import.failed', { status });
    }

    async function confirm() {
        const { file: f, options } = pending;
        pending = null;
        clear(out).append(h('p', { role: 'status' }, t('import.saving')));
        let r;
        try { r = await send(f, { ...options, dryRun: false }); } catch (e) { r = { status: 0, data: null }; }
        clear(out);
        if (r.status === 200) {
            add(out, h('p', { class: 'import-done', role: 'status' }, t('import.done', { name: f.name }), ' ', summary(r.data)));
        } else if (r.status === 422 && r.data && r.data.lines) {
            add(out, h('p', { class: 'form-error', role: 'alert' }, t('import.has_errors')), reportTable(r.data),
                ...hsdsExtras(r.data));
        } else {
            add(out, h('p', { class: 'form-error', role: 'alert' }, r.status ? problemText(r.status, r.data) : t('import.offline')));
        }
    }

    form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        clear(out);
        const f = file.files && file.files[0];
        if (!f) {
            error.textContent = t('import.err_no_file');
            file.focus();
            return;
        }
        check.disabled = true;
        add(out, h('p', { role: 'status' }, t('import.checking')));
        let r;
        try { r = await send(f, { ...opts(), dryRun: true }); } catch (e) { r = { status: 0, data: null }; }
        check.disabled = false;
        clear(out);
        if ((r.status === 200 || r.status === 422) && r.data && r.data.lines) {
            const ok = r.status === 200;
            add(out, h('h2', null, t('import.report_heading', { name: f.name })),
                h('p', { role: 'status' }, summary(r.data)),
                ok ? h('p', null, t('import.ready')) : h('p', { class: 'form-error' }, t('import.has_errors')),
                reportTable(r.data), ...hsdsExtras(r.data));
            if (ok) {
                pending = { file: f, options: opts() };
                const go = h('button', { type: 'button', class: 'btn btn-primary btn-big' }, t('import.confirm'));
                go.addEventListener('click', () => { if (pending) confirm(); });
                add(out, go);
            }
        } else {
            add(out, h('p', { class: 'form-error', role: 'alert' }, r.status ? problemText(r.status, r.data) : t('import.offline')));
        }
    });

    const links = (prefix, label) => h('ul', { class: 'import-links' }, KINDS.map((k) => h('li', null,
        h('a', { href: `${prefix}/${k}.csv`, download: '' }, label(k)))));
    add(root, form, out,
        h('h2', null, t('import.templates')),
        h('p', null, t('import.templates_text')),
        links('/v1/imports/templates', (k) => t('import.template_of', { kind: t(`import.kind.${k}`) })),
        h('h2', null, t('import.exports')),
        links('/v1/export', (k) => t('import.export_of', { kind: t(`import.kind.${k}`) })),
        h('p', null, h('a', { href: '/v1/export/hsds.zip', download: '' }, t('hsds_import.export'))));
}
