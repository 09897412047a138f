// The staff sync screen (/admin/sync), against the stack's real slapd (harness/cityldap.py)
// and directoryd syncing from it: an admin runs the sync, a dry run shows its counts and
// changes nothing; a mass deletion in the city LDAP gives a refused run shown as such, with
// what it would do, and forcing it (after a confirmation) applies it. The tests in this file
// run in order: they share the city LDAP's staff (harness/stack.mjs CITY_STAFF), which no
// other spec uses.
import { test, expect, shot, seriousA11yViolations, horizontalOverflow, LOGINS } from '../harness/fixtures.mjs';
import { cityLdif } from '../harness/stack.mjs';
import * as app from '../harness/app.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../harness/stack.mjs';

// Each test waits for real sync runs (and axe-core): more time than the default 30 s.
test.describe.configure({ mode: 'serial', timeout: 120_000 });

const MASS = [1, 2, 3, 4, 5, 6].map((n) => `ui.mass0${n}`);
const active = (db, u) => db.value(`SELECT active FROM person WHERE username = '${u}'`);

test('an admin runs the sync, then a dry run shows what a new city LDAP entry would do and changes nothing', async ({ page, db }) => {
  const city = app.cityLdap();
  test.skip(!city, 'no city LDAP: the tests run against a server the harness did not start');
  await page.setViewportSize({ width: 1280, height: 900 });
  await app.signInTo(page, '/admin/sync', LOGINS.admin, 'ซิงก์บุคลากร');
  await app.syncAndWait(page, 'ซิงก์ตอนนี้');
  await expect(page.locator('.sync-last')).toContainText('สำเร็จ');
  expect(active(db, 'ui.sync01')).toBe('t');

  app.cityAdd(city, cityLdif('ui.sync05', 'ทดสอบซิงก์ ห้า', 'Syncfive', city.base));
  await app.syncAndWait(page, 'ทดลองซิงก์ (ไม่เปลี่ยนข้อมูล)');
  const last = page.locator('.sync-last');
  await expect(last).toContainText('ทดลอง (ไม่เปลี่ยนข้อมูล)');
  await expect(app.lastRunCount(page, 'created')).toHaveText('1');
  await expect(app.lastRunCount(page, 'deactivated')).toHaveText('0');
  // The history names who would be created; the database has no such person yet.
  const run = page.locator('.sync-history details').first();
  await run.locator('summary').click();
  await expect(run).toContainText('เพิ่มใหม่ (1 คน)');
  await expect(run).toContainText('ทดสอบซิงก์ ห้า');
  expect(db.value(`SELECT count(*) FROM person WHERE username = 'ui.sync05'`)).toBe('0');
  expect(await seriousA11yViolations(page)).toEqual([]);
  await shot(page, 'admin-sync-dry');
});

test('a mass deletion in the city LDAP is refused and shown as such; forcing it after a confirmation applies it', async ({ page, db }) => {
  const city = app.cityLdap();
  test.skip(!city, 'no city LDAP: the tests run against a server the harness did not start');
  await page.setViewportSize({ width: 1280, height: 900 });
  await app.signInTo(page, '/admin/sync', LOGINS.admin, 'ซิงก์บุคลากร');
  for (const u of MASS) expect(active(db, u)).toBe('t');
  app.cityDelete(city, MASS);
  await app.syncAndWait(page, 'ซิงก์ตอนนี้');

  const refused = page.getByRole('region', { name: /การซิงก์ถูกระงับ/ });
  await expect(refused).toBeVisible();
  await expect(refused).toContainText('จะปิดการใช้งาน (6 คน)');
  for (const n of [1, 6]) await expect(refused).toContainText(`ทดสอบลบหมู่ คนที่ ${n}`);
  await expect(refused.locator('[data-count=deactivated] dd')).toHaveText('6');
  await expect(refused.locator('[data-count=created] dd')).toHaveText('1'); // ui.sync05, too
  await expect(page.locator('.sync-last')).toContainText('ถูกระงับ');
  for (const u of MASS) expect(active(db, u)).toBe('t'); // nothing changed
  expect(await seriousA11yViolations(page)).toEqual([]);
  expect(await horizontalOverflow(page)).toBe(0);
  const [, screen] = await shot(page, 'admin-sync-refused');
  fs.mkdirSync(path.join(ROOT, 'docs', 'screenshots'), { recursive: true });
  fs.copyFileSync(screen, path.join(ROOT, 'docs', 'screenshots', 'sync.png'));
  await page.setViewportSize({ width: 360, height: 740 });
  expect(await horizontalOverflow(page)).toBe(0);
  await shot(page, 'admin-sync-refused');
  await page.setViewportSize({ width: 1280, height: 900 });

  // Force: a dialog asks first; cancelling changes nothing.
  await refused.getByRole('button', { name: 'บังคับซิงก์ (ปิดการใช้งาน 6 คน)' }).click();
  const dialog = page.getByRole('dialog', { name: 'ยืนยันการบังคับซิงก์' });
  await expect(dialog).toContainText('เจ้าหน้าที่ 6 คนจะถูกปิดการใช้งาน');
  await dialog.getByRole('button', { name: 'ยกเลิก' }).click();
  await expect(dialog).toBeHidden();
  expect(active(db, 'ui.mass01')).toBe('t');
  await refused.getByRole('button', { name: 'บังคับซิงก์ (ปิดการใช้งาน 6 คน)' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'ยืนยัน บังคับซิงก์' }).click();
  await expect(page.locator('.sync-controls [role=status]')).toContainText('ซิงก์เสร็จแล้ว', { timeout: 60_000 });
  await expect(refused).toBeHidden();
  await expect(page.locator('.sync-last')).toContainText('สำเร็จ');
  await expect(app.lastRunCount(page, 'deactivated')).toHaveText('6');
  await expect(app.lastRunCount(page, 'created')).toHaveText('1');
  for (const u of MASS) expect(active(db, u)).toBe('f');
  expect(active(db, 'ui.sync05')).toBe('t');
});

test('the sync screen is for admins only', async ({ page }) => {
  await app.signInTo(page, '/admin/sync', LOGINS.coordinator, 'ซิงก์บุคลากร');
  await expect(page.getByRole('main')).toContainText('หน้านี้ใช้ได้เฉพาะผู้ดูแลระบบ');
  await expect(page.getByRole('button', { name: 'ซิงก์ตอนนี้' })).toHaveCount(0);
});
