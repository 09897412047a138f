// Share a contact by message: where the phone has no share sheet (headless Chromium has none),
// the text goes to the clipboard and a LINE share link carries it. Staff-only numbers never
// leave in a shared text.
import { test, expect, LOGINS } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

const lineText = async (panel) => {
  const href = await panel.getByRole('link', { name: app.WORDS.th.sendWithLine }).getAttribute('href');
  expect(href.startsWith('https://line.me/R/share?text=')).toBe(true);
  return decodeURIComponent(href.slice('https://line.me/R/share?text='.length));
};

test('sharing a card copies its name and number and offers a LINE link with the same text', async ({ page, db }) => {
  const [name, value, ext] = db.rows(`SELECT o.name_th, cp.value, coalesce(cp.extension, '') FROM organization o
      JOIN contact_point cp ON cp.organization_id = o.id AND cp.kind = 'phone'
      WHERE o.ref = 'district-1007-welfare' ORDER BY cp.position LIMIT 1`)[0];
  await app.open(page);
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  const card = app.answerCards(page).first();
  await card.getByRole('button', { name: app.WORDS.th.share, exact: true }).click();
  await expect(card.getByText(app.WORDS.th.copied)).toBeVisible();
  const text = await lineText(card);
  expect(text).toContain(name);
  expect(text).toContain(ext ? `${value} ต่อ ${ext}` : value);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);
});

test('a signed-in caseworker sharing a staff member\'s card sends no staff-only contact point', async ({ page, db }) => {
  const [id, name] = db.rows(`SELECT p.id, p.name_th FROM person p JOIN membership m ON m.person_id = p.id
      JOIN organization o ON o.id = m.organization_id WHERE o.ref = 'district-1007-welfare' AND p.active ORDER BY p.id LIMIT 1`)[0];
  const staffOnly = db.rows(`SELECT value FROM contact_point WHERE person_id = ${id} AND NOT is_public`).map((r) => r[0]);
  expect(staffOnly.length).toBeGreaterThan(0);
  await app.open(page);
  await app.signIn(page, LOGINS.caseworkers[3]);
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  const card = app.answerCards(page).filter({ hasText: name });
  for (const v of staffOnly) await expect(card).toContainText(v); // shown to the caseworker...
  await card.getByRole('button', { name: app.WORDS.th.share, exact: true }).click();
  await expect(card.getByText(app.WORDS.th.copied)).toBeVisible();
  const text = await lineText(card);
  expect(text).toContain(name);
  expect(staffOnly.filter((v) => text.includes(v)), '...but never shared').toEqual([]);
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  expect(staffOnly.filter((v) => clip.includes(v))).toEqual([]);
});
