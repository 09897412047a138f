// Poor signal: an answer seen once still shows with no network at all, marked as saved.
import { test, expect, shot } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

test('after one answer the phone goes offline, the app reloads and still shows it, marked as saved', async ({ page, context, db }) => {
  const welfare = db.value(`SELECT name_th FROM organization WHERE ref = 'district-1001-welfare'`);
  await app.open(page);
  await app.findAnswer(page, { type: 'พระนคร', pick: 'เขตพระนคร', need: 'การให้คำปรึกษาแนะนำ', group: 'เด็กเร่ร่อน' });
  await expect(app.answerCards(page).first()).toContainText(welfare);
  await expect(page.getByText(app.WORDS.th.saved)).toHaveCount(0);
  // The service worker has taken control of the page before the signal goes.
  await page.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller !== null, null, { timeout: 10_000 });

  await context.setOffline(true);
  // Really offline for the page: the server cannot be reached.
  expect(await page.evaluate(() => fetch('/healthz?offline-probe=' + Date.now()).then((r) => r.status, () => 'unreachable'))).not.toBe(200);
  await page.reload();
  await expect(app.answerCards(page).first()).toContainText(welfare);
  await expect(page.getByText(app.WORDS.th.saved).first()).toBeVisible();
  await shot(page, 'answer-offline');
  await context.setOffline(false);
});
