// tests/ui/harness/fixtures.mjs - what every UI test gets on top of Playwright's own fixtures:
// baseURL pointing at the run's directoryd; `db` (psql against the run's database: the tests
// check numbers against the system of record, not against what the UI says); `api` (plain HTTP
// to the JSON API as anonymous, the admin key or the coordinator key); and a check after each
// test that the browser reported no Content-Security-Policy violation and no uncaught error.
// Helpers: shot() (a screenshot under out/screenshots/), seriousA11yViolations() (axe-core),
// horizontalOverflow().
import { test as base, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LOGINS, OUT } from './stack.mjs';

export { expect, LOGINS };

const CSP_RE = /Content[- ]Security[- ]Policy/i;

function psqlRows(dbURL, sql) {
  const out = execFileSync('psql', [dbURL, '-X', '-v', 'ON_ERROR_STOP=1', '-qAt', '-F', '\t', '-c', sql],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

class Api {
  constructor(base) { this.base = base; }

  // METHOD PATH as WHO ('anonymous', 'admin' or 'coordinator' key, or {cookie, csrf});
  // answers {status, headers, body} with body parsed when JSON.
  async call(method, p, { as = 'anonymous', body, headers = {} } = {}) {
    const h = { ...headers };
    if (as === 'admin') h.Authorization = 'Bearer ' + LOGINS.adminKey;
    else if (as === 'coordinator') h.Authorization = 'Bearer ' + LOGINS.coordinatorKey;
    else if (as && typeof as === 'object') { h.Cookie = as.cookie; if (as.csrf) h['X-CSRF-Token'] = as.csrf; }
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const r = await fetch(this.base + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    const json = /json/.test(r.headers.get('content-type') || '') && text ? JSON.parse(text) : text;
    return { status: r.status, headers: r.headers, body: json };
  }

  get(p, opts) { return this.call('GET', p, opts); }

  // GET that must answer 200; answers the parsed body.
  async json(p, opts) {
    const r = await this.get(p, opts);
    if (r.status !== 200) throw new Error(`GET ${p} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  // PATCH an organisation as the coordinator API client (reads its ETag first).
  async patchOrganization(id, body) {
    const cur = await this.get(`/v1/organizations/${id}`, { as: 'coordinator' });
    const r = await this.call('PATCH', `/v1/organizations/${id}`, { as: 'coordinator', body, headers: { 'If-Match': cur.headers.get('etag') } });
    if (r.status !== 200) throw new Error(`PATCH organisation ${id} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  // POST /v1/organizations/{id}/verify as the coordinator API client.
  async verifyOrganization(id) {
    const cur = await this.get(`/v1/organizations/${id}`, { as: 'coordinator' });
    const r = await this.call('POST', `/v1/organizations/${id}/verify`, { as: 'coordinator', headers: { 'If-Match': cur.headers.get('etag') } });
    if (r.status !== 200) throw new Error(`verify organisation ${id} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

// The tel: URI a caseworker's phone dials for a stored number and extension: +66 without the
// leading 0, the extension after a pause (",") - as issue 12 asks: tel:+6621234567,12.
// Short hotlines (1300) stay as they are.
export function telHref(value, extension) {
  const digits = value.replace(/[^0-9]/g, '');
  const intl = digits.startsWith('0') ? '+66' + digits.slice(1) : digits;
  return 'tel:' + intl + (extension ? ',' + extension : '');
}

export const test = base.extend({
  baseURL: async ({}, use) => {
    if (!process.env.DIRECTORYD_UI_URL) throw new Error('DIRECTORYD_UI_URL unset: run through playwright.config.mjs (global setup starts directoryd)');
    await use(process.env.DIRECTORYD_UI_URL);
  },
  db: async ({}, use) => {
    const url = process.env.DIRECTORYD_UI_DB;
    await use({ rows: (sql) => psqlRows(url, sql), value: (sql) => (psqlRows(url, sql)[0] || [])[0] });
  },
  api: async ({ baseURL }, use) => { await use(new Api(baseURL)); },
  // Every page of the test's context is watched: a CSP violation the browser reports, or an
  // error the app let through uncaught, fails the test.
  context: async ({ context }, use, testInfo) => {
    const violations = [];
    context.on('console', (m) => { if (CSP_RE.test(m.text())) violations.push(m.text()); });
    const errors = [];
    context.on('weberror', (e) => { errors.push(String(e.error())); });
    await use(context);
    expect(violations, 'Content-Security-Policy violations reported in the browser console').toEqual([]);
    expect(errors, 'uncaught errors in the app').toEqual([]);
  },
});

// A full-page screenshot under out/screenshots/NAME-<width>.png, and what the screen shows
// without scrolling as NAME-<width>-screen.png (the README's pictures); answers the paths.
export async function shot(page, name) {
  const dir = path.join(OUT, 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${name}-${page.viewportSize().width}`);
  await page.screenshot({ path: `${base}-screen.png` });
  await page.screenshot({ path: `${base}.png`, fullPage: true });
  return [`${base}.png`, `${base}-screen.png`];
}

// axe-core's serious and critical violations on the page as it is now, one line each.
export async function seriousA11yViolations(page) {
  const res = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
}

// How many CSS pixels the page is wider than the viewport (0 = no horizontal scrolling).
export async function horizontalOverflow(page) {
  return page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body ? document.body.scrollWidth : 0) - window.innerWidth);
}
