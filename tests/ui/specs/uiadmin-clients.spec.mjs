// API clients (/admin/clients): an admin creates one, sees its secret once (with a copy
// button), the secret works against the API, the list shows its last use, and revoking it
// makes the secret fail.
import { test, expect, shot, seriousA11yViolations, horizontalOverflow, LOGINS } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';


// Several sign-ins, two browsers and axe-core: more time than the default 30 s.
test.describe.configure({ timeout: 90_000 });

test('an admin creates an API client, sees the secret once, the secret works, revoking makes it fail', async ({ page, context, baseURL }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await app.signInTo(page, '/admin/clients', LOGINS.admin, 'ไคลเอนต์ API');
  const name = `ui-client-${Date.now()}`;
  await page.getByLabel('ชื่อไคลเอนต์').fill(name);
  await page.getByLabel('บทบาท').selectOption('caseworker');
  await page.getByRole('button', { name: 'สร้างไคลเอนต์' }).click();

  const box = page.getByRole('region', { name: `สร้างไคลเอนต์ ${name} แล้ว` });
  await expect(box).toContainText('ระบบจะไม่แสดงอีก');
  const secret = await box.getByLabel('รหัสลับ (แสดงครั้งเดียว)').inputValue();
  expect(secret.length).toBeGreaterThanOrEqual(32);
  await box.getByRole('button', { name: 'คัดลอกรหัสลับ' }).click();
  await expect(box.getByRole('status')).toHaveText('คัดลอกแล้ว');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  expect(await seriousA11yViolations(page)).toEqual([]);
  await shot(page, 'admin-clients-secret');

  // The secret works against the API (people are for signed-in callers and API clients only).
  const people = (key) => fetch(`${baseURL}/v1/people?limit=1`, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
  expect((await people(null)).status).toBe(401);
  expect((await people(secret)).status).toBe(200);

  // Shown once: closed, then after a reload, it is nowhere on the page.
  await box.getByRole('button', { name: 'เก็บรหัสแล้ว ปิดกล่องนี้' }).click();
  await expect(box).toBeHidden();
  await page.reload();
  const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) });
  await expect(item).toContainText('ผู้ปฏิบัติงาน');
  await expect(item).toContainText('ใช้งานได้');
  await expect(item).not.toContainText('ยังไม่เคยใช้'); // its last use is shown
  await expect(item).toContainText('ใช้ล่าสุด');
  expect(await page.content()).not.toContain(secret);

  await item.getByRole('button', { name: `เพิกถอน ${name}` }).click();
  await page.getByRole('dialog', { name: `เพิกถอนไคลเอนต์ ${name}` }).getByRole('button', { name: 'เพิกถอน' }).click();
  await expect(item).toContainText('ถูกเพิกถอน');
  await expect(item.getByRole('button', { name: `เพิกถอน ${name}` })).toHaveCount(0);
  expect((await people(secret)).status).toBe(401);
});

test('a taken client name is shown next to the name field', async ({ page }) => {
  await app.signInTo(page, '/admin/clients', LOGINS.admin, 'ไคลเอนต์ API');
  await page.getByLabel('ชื่อไคลเอนต์').fill('ui-admin'); // the harness's own client
  await page.getByRole('button', { name: 'สร้างไคลเอนต์' }).click();
  await expect(page.getByLabel('ชื่อไคลเอนต์')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('.field-error').first()).toHaveText('ชื่อนี้มีผู้ใช้แล้ว โปรดเลือกชื่ออื่น');
  await expect(page.getByLabel('ชื่อไคลเอนต์')).toHaveValue('ui-admin');
});

for (const width of [360, 1280]) {
  test(`the clients page at ${width} px: no serious accessibility violation, no horizontal scroll`, async ({ page }) => {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    await app.signInTo(page, '/admin/clients', LOGINS.admin, 'ไคลเอนต์ API');
    await expect(page.getByRole('heading', { name: 'ไคลเอนต์ทั้งหมด' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'ui-admin', exact: true })).toBeVisible();
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await horizontalOverflow(page)).toBe(0);
    await shot(page, 'admin-clients');
  });
}
