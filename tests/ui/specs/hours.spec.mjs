// "Open now" that is right (issue 12 §3): hours set by a coordinator through the API around
// the test's clock -> open now; opens later today -> closed now + the opening time; no
// structured hours -> call for hours. The browser's clock is fixed to the same instant.
import { test, expect } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

const DAYS = ['mo', 'tu', 'we', 'th', 'fr', 'sa', 'su'];
const hhmm = (min) => { const m = ((min % 1440) + 1440) % 1440; return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`; };
const everyDay = (opens, closes) => DAYS.map((day) => ({ day, opens_at: opens, closes_at: closes }));
const schedule = (opens, closes) => ({ always_open: false, closed_on_public_holidays: false,
  weekly: everyDay(opens, closes), exceptions: [], note_th: null, note_en: null });

test('open now, closed now with the opening time, and call for hours follow the hours a coordinator set', async ({ page, db, api }) => {
  const now = new Date();
  await page.clock.setFixedTime(now);
  const [h, m] = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Bangkok', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(now).split(':').map(Number);
  const t = h * 60 + m;
  // Every day, so an interval crossing midnight (closes_at <= opens_at) still brackets now.
  const idOf = (ref) => db.value(`SELECT id FROM organization WHERE ref = '${ref}'`);
  const openOrg = idOf('district-1019-welfare');
  const laterOrg = idOf('coc-rama8');
  const unknownOrg = idOf('dcy-shelter-bkk');
  const opensLater = hhmm(t + 120);
  await api.patchOrganization(openOrg, { hours: schedule(hhmm(t - 60), hhmm(t + 60)) });
  await api.patchOrganization(laterOrg, { hours: schedule(opensLater, hhmm(t + 180)) });
  await api.patchOrganization(unknownOrg, { hours: null });
  const state = async (id) => (await api.json(`/v1/organizations/${id}`)).open_now;
  expect(await state(openOrg), 'the server agrees it is open').toBe(true);
  expect(await state(laterOrg)).toBe(false);
  expect(await state(unknownOrg)).toBe(null);

  const name = (id) => db.value(`SELECT name_th FROM organization WHERE id = ${id}`);
  await app.open(page);
  await app.findAnswer(page, { type: 'ตลิ่งชัน', pick: 'เขตตลิ่งชัน', need: 'บ้านพักฉุกเฉิน', group: 'เด็กเร่ร่อน' });
  const card = (id) => app.answerCards(page).filter({ hasText: name(id) });
  await expect(card(openOrg)).toContainText(app.WORDS.th.openNow);
  await expect(card(openOrg)).not.toContainText(app.WORDS.th.closedNow);
  await expect(card(laterOrg)).toContainText(app.WORDS.th.closedNow);
  await expect(card(laterOrg)).toContainText(app.WORDS.th.opensAt(opensLater));
  await expect(card(unknownOrg)).toContainText(app.WORDS.th.callForHours);
  await expect(card(unknownOrg)).not.toContainText(app.WORDS.th.openNow);

  await app.setLanguage(page, 'en');
  const nameEn = (id) => db.value(`SELECT name_en FROM organization WHERE id = ${id}`);
  const cardEn = (id) => app.answerCards(page).filter({ hasText: nameEn(id) });
  await expect(cardEn(openOrg)).toContainText(app.WORDS.en.openNow);
  await expect(cardEn(laterOrg)).toContainText(app.WORDS.en.opensAt(opensLater));
  await expect(cardEn(unknownOrg)).toContainText(app.WORDS.en.callForHours);
});
