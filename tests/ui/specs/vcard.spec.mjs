// "Save to contacts (.vcf)" (issue 13 §3): the organisation and person pages link to their
// vCard, and the answer saves all its contacts as one file. What is downloaded is what the
// same person sees on the page: an anonymous user's answer file holds no people, a signed-in
// caseworker's holds the district's welfare staff.
import fs from 'node:fs';
import { test, expect, LOGINS, seriousA11yViolations, horizontalOverflow } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

const SAVE = /บันทึกลงสมุดโทรศัพท์ \(\.vcf\)|Save to contacts \(\.vcf\)/;
const SAVE_ALL = /บันทึกทุกรายชื่อลงสมุดโทรศัพท์ \(\.vcf\)|Save all these contacts \(\.vcf\)/;
const PATHUM_WAN = { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' };

async function download(page, click) {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const file = await dl.path();
  return { name: dl.suggestedFilename(), text: fs.readFileSync(file, 'utf8') };
}

const count = (text, s) => text.split(s).length - 1;

test('an anonymous user saves an organisation and a whole answer; the answer file has no people', async ({ page, db }) => {
  await app.open(page);
  await app.findAnswer(page, PATHUM_WAN);
  const cards = await app.answerCards(page).count();
  const all = await download(page, () => page.getByRole('button', { name: SAVE_ALL }).click());
  expect(all.name).toBe('contacts.vcf');
  expect(count(all.text, 'BEGIN:VCARD')).toBe(cards);
  expect(all.text).not.toContain('KIND:individual');
  const welfare = db.value(`SELECT name_th FROM organization WHERE ref = 'district-1007-welfare'`);
  expect(all.text.replace(/\r\n /g, '')).toContain(`FN;ALTID=1;LANGUAGE=th:${welfare}`);

  await app.openOrganization(page, app.answerCards(page).first());
  const link = page.getByRole('link', { name: SAVE });
  await expect(link).toBeVisible();
  const id = db.value(`SELECT id FROM organization WHERE ref = 'district-1007-welfare'`);
  await expect(link).toHaveAttribute('href', `/v1/organizations/${id}/vcard`);
  const one = await download(page, () => link.click());
  expect(one.name).toBe(`organization-${id}.vcf`);
  expect(count(one.text, 'BEGIN:VCARD')).toBe(1);
  expect(one.text).toContain('KIND:org');
  expect(one.text.replace(/\r\n /g, '')).toContain(`LANGUAGE=th:${welfare}`);
  const box = await link.boundingBox();
  expect(box.height, 'a real tap target (44 px)').toBeGreaterThanOrEqual(44);
  expect(await horizontalOverflow(page)).toBe(0);
  expect(await seriousA11yViolations(page)).toEqual([]);
});

test('a signed-in caseworker saves a person, and the answer file holds the welfare staff', async ({ page, db }) => {
  await app.open(page);
  await app.signIn(page, LOGINS.caseworkers[0]); // never signed out by the tests
  await app.findAnswer(page, PATHUM_WAN);
  const all = await download(page, () => page.getByRole('button', { name: SAVE_ALL }).click());
  expect(all.text).toContain('KIND:individual');
  expect(count(all.text, 'BEGIN:VCARD')).toBe(await app.answerCards(page).count());

  const [id, name] = db.rows(`SELECT p.id, p.name_th FROM person p JOIN membership m ON m.person_id = p.id
      JOIN organization o ON o.id = m.organization_id
      WHERE o.ref = 'district-1007-welfare' AND m.team_role = 'district_welfare' AND p.active ORDER BY p.id LIMIT 1`)[0];
  await app.openPerson(page, app.answerCards(page).filter({ hasText: name }).first());
  const link = page.getByRole('link', { name: SAVE });
  await expect(link).toHaveAttribute('href', `/v1/people/${id}/vcard`);
  const one = await download(page, () => link.click());
  expect(one.name).toBe(`person-${id}.vcf`);
  expect(one.text).toContain('KIND:individual');
  expect(one.text.replace(/\r\n /g, '')).toContain(`FN;ALTID=1;LANGUAGE=th:${name}`);
  expect(await seriousA11yViolations(page)).toEqual([]);
});
