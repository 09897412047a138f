// The caseworker's main task on a phone (issue 12 §4): area + need + target group -> the
// ordered answer, with what a caseworker acts on: the right number as a tel: link, the
// nearest centre with its distance, and never a closed organisation.
import { test, expect, telHref } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

// What the card says about the distance the resolver gives (kilometres to one decimal).
function distanceText(item) {
  expect(typeof item.distance_km, 'the resolver gives the centre\'s distance').toBe('number');
  if (item.distance_approximate && item.distance_km < 0.05) return app.WORDS.th.sameDistrict;
  return app.WORDS.th.aboutKm(item.distance_km < 10 ? item.distance_km.toFixed(1) : String(Math.round(item.distance_km)));
}

const nameOf = (db, ref) => db.value(`SELECT name_th FROM organization WHERE ref = '${ref}'`);

test('at 360x740 "ปทุมวัน" + counselling + street children: the Pathum Wan welfare section first, the Lumphini Park centre with its distance, the central unit last, the right number to tap', async ({ page, db, api }) => {
  expect(page.viewportSize()).toEqual({ width: 360, height: 740 });
  await app.open(page);
  await app.findAnswer(page, { type: 'ปทุมวัน', pick: 'เขตปทุมวัน', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });

  const welfare = nameOf(db, 'district-1007-welfare');
  const lumphini = nameOf(db, 'coc-lumphini');
  const central = nameOf(db, 'bma-child-protection-unit');
  const cards = app.answerCards(page);
  await expect(cards.first()).toContainText(welfare);
  await expect(cards.last()).toContainText(central);
  const texts = await cards.allInnerTexts();
  const at = (name) => texts.findIndex((t) => t.includes(name));
  expect(at(lumphini), 'the Lumphini Park centre is in the answer').toBeGreaterThan(0);
  expect(at(lumphini)).toBeLessThan(texts.length - 1);

  // The nearest centre shows how far it is (between district points: approximate).
  const answer = await api.json('/v1/resolve?area=1007&need=counselling&group=street_children');
  await expect(cards.nth(at(lumphini))).toContainText(distanceText(answer.items.find((i) => i.ref === 'coc-lumphini')));

  // The number to tap is the one in the system of record, extension dialled after a pause.
  const [value, ext] = db.rows(`SELECT cp.value, coalesce(cp.extension, '') FROM contact_point cp
      JOIN organization o ON o.id = cp.organization_id
      WHERE o.ref = 'district-1007-welfare' AND cp.kind = 'phone' ORDER BY cp.position LIMIT 1`)[0];
  const first = cards.first();
  const call = first.locator(`a[href="${telHref(value, ext)}"]`);
  await expect(call).toBeVisible();
  if (ext) await expect(first).toContainText(`ต่อ ${ext}`);
  const box = await call.boundingBox();
  expect(box.height, 'the phone link is a real tap target (44 px)').toBeGreaterThanOrEqual(44);
  // Why each contact is there, in the page language (the resolver's reason).
  await expect(first).toContainText(answer.items[0].reason.th);
  await app.noHorizontalScroll(page);
  // A deep link survives a reload: the same answer comes back.
  await page.reload();
  await expect(cards.first()).toContainText(welfare);
  await expect(cards.last()).toContainText(central);
});

test('Rat Burana never shows the closed Rama 9 centre, but the nearest open one with its distance', async ({ page, db, api }) => {
  const rama9 = nameOf(db, 'coc-rama9');
  expect(db.value(`SELECT status FROM organization WHERE ref = 'coc-rama9'`)).toBe('closed');
  const thungKhru = nameOf(db, 'coc-thung-khru');
  await app.open(page);
  await app.findAnswer(page, { type: 'ราษฎร์บูรณะ', pick: 'เขตราษฎร์บูรณะ', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  const cards = app.answerCards(page);
  await expect(cards.last()).toContainText(nameOf(db, 'bma-child-protection-unit'));
  const thungKhruCard = cards.filter({ hasText: thungKhru });
  await expect(thungKhruCard).toHaveCount(1);
  const answer = await api.json('/v1/resolve?area=1024&need=counselling&group=street_children');
  await expect(thungKhruCard).toContainText(distanceText(answer.items.find((i) => i.ref === 'coc-thung-khru')));
  await expect(page.locator('body')).not.toContainText(rama9);
});

test('search by name finds the Lumphini Park centre, counts what it shows, and offers "show more" only when there is more', async ({ page, db }) => {
  const lumphini = nameOf(db, 'coc-lumphini');
  await app.open(page);
  await app.search(page, 'ลุมพินี');
  const cards = app.answerCards(page);
  await expect(cards.filter({ hasText: lumphini })).toHaveCount(1);
  const n = await cards.count();
  await expect(page.getByRole('main').getByRole('status').first()).toHaveText(`พบ ${n} รายการ`);
  await expect(page.getByRole('button', { name: app.WORDS.th.more })).toBeHidden();
  // The card leads to the organisation's own page.
  await app.openOrganization(page, cards.filter({ hasText: lumphini }));
});
