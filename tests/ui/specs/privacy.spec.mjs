// Anonymous users never see a person's contact points (nor the non-public numbers of an
// organisation); a caseworker who signs in sees the district welfare staff with their numbers,
// and signing out takes them away again.
import { test, expect, telHref, LOGINS } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

const digits = (s) => s.replace(/[^0-9]/g, '');
const asNational = (d) => (d.startsWith('66') && d.length >= 10 ? '0' + d.slice(2) : d);

// Everything a person could read or tap on the page: its text and the targets of its links.
async function whatShows(page) {
  const text = await page.locator('body').innerText();
  const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  const numbers = new Set();
  for (const m of (text + '\n' + hrefs.join('\n')).matchAll(/\+?[0-9][0-9 \-]{5,}[0-9]/g)) numbers.add(asNational(digits(m[0])));
  return { all: text + '\n' + hrefs.join('\n'), numbers };
}

function assertNoPrivate(shown, privateRows, where) {
  const leaks = [];
  for (const [kind, value] of privateRows) {
    if (shown.all.includes(value)) leaks.push(`${kind} ${value}`);
    else if ((kind === 'phone' || kind === 'mobile' || kind === 'fax') && shown.numbers.has(digits(value))) leaks.push(`${kind} ${value} (reformatted)`);
  }
  expect(leaks, `non-public contact points shown to an anonymous user on ${where}`).toEqual([]);
}

test('an anonymous user never sees a non-public contact point, on the answer, the organisation page and the search', async ({ page, db }) => {
  // Every contact point the database keeps private (and no public one has the same value).
  const privateRows = db.rows(`SELECT kind, value FROM contact_point WHERE NOT is_public
      AND value NOT IN (SELECT value FROM contact_point WHERE is_public)`);
  expect(privateRows.length).toBeGreaterThan(50);
  const staff = db.rows(`SELECT p.name_th FROM person p JOIN membership m ON m.person_id = p.id
      JOIN organization o ON o.id = m.organization_id WHERE o.ref = 'district-1007-welfare' AND p.active`).map((r) => r[0]);
  expect(staff.length).toBeGreaterThan(0);

  await app.open(page);
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  await expect(app.answerCards(page).first()).toBeVisible();
  assertNoPrivate(await whatShows(page), privateRows, 'the Pathum Wan answer');
  for (const n of staff) await expect(page.locator('body')).not.toContainText(n);

  await app.openOrganization(page, app.answerCards(page).first());
  assertNoPrivate(await whatShows(page), privateRows, 'the Pathum Wan welfare section\'s page');
  for (const n of staff) await expect(page.locator('body')).not.toContainText(n);

  await app.search(page, 'ปทุมวัน');
  assertNoPrivate(await whatShows(page), privateRows, 'the search for ปทุมวัน');
  await app.search(page, staff[0].split(' ')[0]);
  for (const n of staff) await expect(page.locator('body')).not.toContainText(n);
});

test('a caseworker who signs in sees the district welfare staff and their numbers; signing out hides them', async ({ page, db }) => {
  const staff = db.rows(`SELECT p.name_th, (SELECT c.value FROM contact_point c WHERE c.person_id = p.id AND c.kind = 'mobile'
        ORDER BY c.position LIMIT 1)
      FROM person p JOIN membership m ON m.person_id = p.id JOIN organization o ON o.id = m.organization_id
      WHERE o.ref = 'district-1007-welfare' AND m.team_role = 'district_welfare' AND p.active ORDER BY p.id`);
  expect(staff.length).toBeGreaterThan(0);

  await app.open(page);
  await app.signIn(page, LOGINS.caseworkers[1]);
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  for (const [name, mobile] of staff) {
    const card = app.answerCards(page).filter({ hasText: name });
    await expect(card).toHaveCount(1);
    if (mobile) await expect(card.locator(`a[href="${telHref(mobile)}"]`)).toBeVisible();
  }
  // The staff come with the district's welfare section, before the other organisations.
  const texts = await app.answerCards(page).allInnerTexts();
  const welfare = db.value(`SELECT name_th FROM organization WHERE ref = 'district-1007-welfare'`);
  const lumphini = db.value(`SELECT name_th FROM organization WHERE ref = 'coc-lumphini'`);
  const at = (s) => texts.findIndex((t) => t.includes(s));
  expect(at(welfare)).toBe(0);
  for (const [name] of staff) expect(at(name)).toBeLessThan(at(lumphini));

  await app.signOut(page);
  // Nothing personal stays on the device: every contact point of a person, searched for in
  // Cache Storage and localStorage after signing out.
  const personal = db.rows(`SELECT value FROM contact_point WHERE person_id IS NOT NULL`).map((r) => r[0]);
  const stored = await page.evaluate(async () => {
    let all = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage });
    for (const name of await caches.keys()) {
      const c = await caches.open(name);
      for (const req of await c.keys()) all += '\n' + req.url + '\n' + (await (await c.match(req)).text());
    }
    return all;
  });
  expect(personal.filter((v) => stored.includes(v)), 'people\'s contact points left on the device after signing out').toEqual([]);
  await app.open(page);
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  await expect(app.answerCards(page).first()).toContainText(welfare);
  for (const [name] of staff) await expect(page.locator('body')).not.toContainText(name);
});

test('an answer asked for signed in and arriving after signing out is neither kept nor shown', async ({ page, db }) => {
  // A weak signal: the signed-in resolve answer is fetched at once (with the cookie) but held
  // back until the caseworker has signed out.
  let release;
  const gate = new Promise((r) => { release = r; });
  await app.open(page);
  await app.signIn(page, LOGINS.caseworkers[5]);
  await page.route('**/v1/resolve?**', async (route) => {
    const resp = await route.fetch();
    await gate;
    await route.fulfill({ response: resp });
  });
  const pending = app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' })
    .catch(() => {});
  await page.waitForRequest('**/v1/resolve?**');
  await app.signOut(page);
  release();
  await pending;
  await page.unroute('**/v1/resolve?**');
  await page.waitForTimeout(1000);
  const staff = db.rows(`SELECT p.name_th FROM person p JOIN membership m ON m.person_id = p.id
      JOIN organization o ON o.id = m.organization_id WHERE o.ref = 'district-1007-welfare' AND p.active`).map((r) => r[0]);
  expect(staff.length).toBeGreaterThan(0);
  const personal = db.rows(`SELECT value FROM contact_point WHERE person_id IS NOT NULL`).map((r) => r[0]);
  const stored = await page.evaluate(async () => {
    let all = '';
    for (const name of await caches.keys()) {
      const c = await caches.open(name);
      for (const req of await c.keys()) all += '\n' + req.url + '\n' + (await (await c.match(req)).text());
    }
    return all;
  });
  expect(personal.filter((v) => stored.includes(v)), 'a signed-in answer saved on the device after signing out').toEqual([]);
  for (const name of staff) {
    expect(stored.includes(name), `staff member ${name} saved after signing out`).toBe(false);
    await expect(page.locator('body')).not.toContainText(name);
  }
});

test('signed out on another phone: this phone says it is signed out and still finds public contacts', async ({ page, browser, db }) => {
  const who = LOGINS.caseworkers[4];
  await app.open(page);
  await app.signIn(page, who);
  // The same caseworker on a second phone signs out: that ends every session of theirs.
  const other = await browser.newContext();
  const phone2 = await other.newPage();
  await app.open(phone2);
  await app.signIn(phone2, who);
  await app.signOut(phone2);
  await other.close();

  // Back on the first phone (no reload: the app is still open), the next search still works,
  // anonymously, and says so.
  await page.getByRole('navigation').getByRole('link', { name: app.WORDS.th.nav[0], exact: true }).click();
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  await expect(app.answerCards(page).first()).toContainText(db.value(`SELECT name_th FROM organization WHERE ref = 'district-1007-welfare'`));
  await expect(page.getByRole('navigation').getByRole('link', { name: /เข้าสู่ระบบ/ })).toBeVisible();
});
