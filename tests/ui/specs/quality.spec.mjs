// What every screen owes its users whatever they do on it: no serious or critical axe-core
// violation, no horizontal scrolling at 360 px, a strict CSP that the app never trips, and a
// first view light enough for a weak signal (at most 100 KB of compressed HTML+JS+CSS).
// Screenshots of each main screen at 360 px and 1280 px go to out/screenshots/.
import { test, expect, shot, seriousA11yViolations, horizontalOverflow, LOGINS } from '../harness/fixtures.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { OUT } from '../harness/stack.mjs';
import * as app from '../harness/app.mjs';

const BUDGET = 100 * 1024;

// The caseworker's main screens, one after another; AT(name) runs on each.
async function everyScreen(page, db, at) {
  await app.open(page);
  await at('start');
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  await expect(app.answerCards(page).first()).toBeVisible();
  await at('answer');
  const lumphini = db.value(`SELECT name_th FROM organization WHERE ref = 'coc-lumphini'`);
  await app.openOrganization(page, app.answerCards(page).filter({ hasText: lumphini }));
  await at('organization');
  await app.search(page, 'ลุมพินี');
  await at('search');
}

for (const width of [360, 1280]) {
  test(`at ${width} px every main screen has no serious accessibility violation and no horizontal scroll (screenshots)`, async ({ page, db }) => {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    const problems = [];
    await everyScreen(page, db, async (name) => {
      await shot(page, name);
      const over = await horizontalOverflow(page);
      if (over > 0) problems.push(`${name}: ${over} px wider than the screen`);
      for (const v of await seriousA11yViolations(page)) problems.push(`${name}: ${v}`);
    });
    expect(problems).toEqual([]);
  });
}

test('the signed-in screens: sign-in, the answer with staff, a person page, the report form (screenshots at 360 and 1280 px)', async ({ page, db }) => {
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    await app.open(page);
    await app.openSignIn(page);
    await shot(page, 'sign-in');
    await app.signIn(page, LOGINS.caseworkers[2]);
    await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
    await expect(app.answerCards(page).nth(1)).toBeVisible();
    await shot(page, 'answer-signed-in');
    const person = db.value(`SELECT p.name_th FROM person p JOIN membership m ON m.person_id = p.id JOIN organization o
        ON o.id = m.organization_id WHERE o.ref = 'district-1007-welfare' AND p.active ORDER BY p.id LIMIT 1`);
    await app.openPerson(page, app.answerCards(page).filter({ hasText: person }));
    await expect(page.getByRole('heading', { name: person })).toBeVisible();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await shot(page, 'person');
    await app.signOut(page);
    await app.open(page);
    await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
    await app.openReportForm(page, app.answerCards(page).first());
    await shot(page, 'report');
  }
});

test('the first view transfers at most 100 KB of compressed HTML+JS+CSS, gzip-encoded, under a strict CSP', async ({ page, context, baseURL }, testInfo) => {
  const seen = [];
  // Every request of the context (the page's and the service worker's).
  const pending = [];
  // (A service worker's request can stay unanswerable to Playwright: give up on it after 5 s
  // and measure it again below.)
  const within = (p) => Promise.race([p, new Promise((_, no) => setTimeout(() => no(new Error('no answer in 5 s')), 5000))]);
  context.on('requestfinished', (req) => pending.push((async () => {
    const res = await within(req.response());
    if (!res) return;
    const sizes = await within(req.sizes());
    seen.push({ url: req.url(), type: req.resourceType(), status: res.status(), sw: Boolean(req.serviceWorker()),
      encoding: (await within(res.headerValue('content-encoding'))) || '', ctype: (await within(res.headerValue('content-type'))) || '',
      body: sizes.responseBodySize, headers: sizes.responseHeadersSize });
  })().catch((e) => { seen.push({ url: req.url(), lost: String(e) }); })));
  const first = await test.step('the first view loads', async () => {
    const r = await page.goto('/', { waitUntil: 'networkidle' });
    await expect(page.locator('html')).toHaveAttribute('lang', 'th');
    return r;
  });
  // The service worker's install (it caches the app shell) is part of the first visit too.
  await test.step('the service worker takes over', async () => {
    await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null, null, { timeout: 10_000 });
    await page.waitForLoadState('networkidle');
  });
  await test.step('the sizes are read', () => Promise.all(pending));

  const csp = first.headers()['content-security-policy'] || '';
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
    expect(csp, 'the page\'s Content-Security-Policy').toContain(d);
  }
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  expect(first.headers()['x-content-type-options']).toBe('nosniff');
  expect(first.headers()['referrer-policy']).toBeTruthy();

  // A request whose answer the browser dropped before it could be read (the service worker's
  // own script, fetched by the browser for the registration) is measured again: fetched here
  // with gzip accepted, its bytes on the wire.
  for (const s of seen.filter((x) => x.lost)) {
    const r = await fetch(s.url, { headers: { 'Accept-Encoding': 'gzip' } });
    Object.assign(s, { sw: true, refetched: true, status: r.status, encoding: r.headers.get('content-encoding') || '',
      ctype: r.headers.get('content-type') || '', body: Number(r.headers.get('content-length') || (await r.arrayBuffer()).byteLength), headers: 0 });
  }
  const code = seen.filter((s) => s.url.startsWith(baseURL) && /text\/html|javascript|text\/css/.test(s.ctype));
  expect(code.length, 'the first view loads its HTML, JS and CSS').toBeGreaterThan(1);
  const total = code.reduce((n, s) => n + s.body + s.headers, 0);
  const lines = code.map((s) => `${s.body + s.headers}\t${s.encoding || 'identity'}\t${s.sw ? 'service worker' : 'page'}${s.refetched ? ' (measured again)' : ''}\t${s.url.slice(baseURL.length)}`);
  const report = `${total} bytes in all (budget ${BUDGET})\n${lines.join('\n')}\n`;
  await testInfo.attach('first-view-bytes.txt', { body: report });
  fs.writeFileSync(path.join(OUT, 'first-view-bytes.txt'), report);
  console.log(`first view: ${total} bytes of HTML+JS+CSS over the network (budget ${BUDGET})`);
  const plain = code.filter((s) => s.encoding !== 'gzip' && s.body > 1024).map((s) => s.url);
  expect(plain, 'text assets over 1 KB sent without gzip').toEqual([]);
  expect(total).toBeLessThanOrEqual(BUDGET);
});
