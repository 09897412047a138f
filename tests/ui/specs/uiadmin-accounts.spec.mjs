// Accounts (/admin/accounts): an admin creates a local account (the server's errors next to
// the fields), it can sign in; disabled, its open session ends and it cannot sign in; enabled
// again, it can. Staff roles are set and cleared.
import { test, expect, shot, seriousA11yViolations, horizontalOverflow, LOGINS } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';


// Several sign-ins, two browsers and axe-core: more time than the default 30 s.
test.describe.configure({ timeout: 90_000 });

test('a local account created in the UI can sign in; disabled, it is signed out and cannot sign in', async ({ page, browser, db, baseURL }) => {
  await app.signInTo(page, '/admin/accounts', LOGINS.admin, 'บัญชีผู้ใช้');
  const username = `ui.partner${Date.now() % 1000000}`;
  const password = 'partner-pass-2569';
  const form = page.getByRole('form', { name: 'สร้างบัญชีใหม่' });
  await form.getByLabel('ชื่อผู้ใช้', { exact: true }).fill(username);
  await form.getByLabel('ชื่อที่แสดง').fill('คุณทดสอบ มูลนิธิภาคี');
  await form.getByLabel('บทบาท').selectOption('caseworker');
  await form.getByLabel('รหัสผ่าน', { exact: true }).fill('short');
  await form.getByRole('button', { name: 'สร้างบัญชี' }).click();
  // The server's message in Thai, next to the password; what was typed stays.
  await expect(form.getByLabel('รหัสผ่าน', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(form).toContainText('รหัสผ่านต้องยาวอย่างน้อย 10 ตัวอักษร');
  await expect(form.getByLabel('ชื่อผู้ใช้', { exact: true })).toHaveValue(username);
  await form.getByLabel('รหัสผ่าน', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'สร้างบัญชี' }).click();
  const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: username, exact: true }) });
  await expect(item).toContainText('คุณทดสอบ มูลนิธิภาคี');
  await expect(item).toContainText('ใช้งานได้');
  expect(db.value(`SELECT role FROM local_account WHERE username = '${username}'`)).toBe('caseworker');

  // The new account signs in, in its own browser.
  const other = await browser.newContext({ baseURL, locale: 'th-TH', timezoneId: 'Asia/Bangkok' });
  const theirs = await other.newPage();
  await theirs.goto('/login');
  await expect(theirs.locator('html')).toHaveAttribute('data-ready', 'true');
  await app.signIn(theirs, { username, password });

  await item.getByRole('button', { name: `ปิดการใช้งาน ${username}` }).click();
  await page.getByRole('dialog', { name: `ปิดการใช้งานบัญชี ${username}` }).getByRole('button', { name: 'ปิดการใช้งาน' }).click();
  await expect(item).toContainText('ปิดการใช้งานเมื่อ');
  // Its open session ends at once, and it cannot sign in again.
  await theirs.reload();
  await expect(theirs.getByRole('navigation').getByRole('link', { name: 'เข้าสู่ระบบ' })).toBeVisible();
  await app.openSignIn(theirs);
  await theirs.getByLabel('ชื่อผู้ใช้').fill(username);
  await theirs.getByLabel('รหัสผ่าน').fill(password);
  await theirs.getByRole('main').getByRole('button', { name: 'เข้าสู่ระบบ' }).click();
  await expect(theirs.getByRole('alert')).toHaveText('ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง');

  // Enabled again, with a new password set by the admin: the new one works.
  await item.getByRole('button', { name: `เปิดการใช้งาน ${username}` }).click();
  await expect(item).toContainText('ใช้งานได้');
  await item.getByRole('button', { name: `ตั้งรหัสผ่านใหม่ให้ ${username}` }).click();
  await item.getByLabel('รหัสผ่านใหม่', { exact: true }).fill('another-pass-2569');
  await item.getByRole('button', { name: 'บันทึกรหัสผ่านใหม่' }).click();
  await expect(page.getByRole('main').getByRole('status').first()).toContainText(`ตั้งรหัสผ่านใหม่ให้ ${username} แล้ว`);
  await app.signIn(theirs, { username, password: 'another-pass-2569' });
  await other.close();
  expect(db.value(`SELECT string_agg(action, ',' ORDER BY id) FROM audit WHERE entity = 'local_account' AND entity_id = '${username}'`))
    .toBe('create,disable,enable,password');
});

test('an admin sets and clears a staff member\'s role', async ({ page, db }) => {
  await app.signInTo(page, '/admin/accounts', LOGINS.admin, 'บัญชีผู้ใช้');
  const form = page.getByRole('form', { name: 'กำหนดบทบาท' });
  await form.getByLabel('ชื่อผู้ใช้ใน LDAP').fill('ui.sync02');
  await form.getByLabel('บทบาท').selectOption('coordinator');
  await form.getByRole('button', { name: 'บันทึกบทบาท' }).click();
  const item = page.getByRole('listitem').filter({ hasText: 'ui.sync02' });
  await expect(item).toContainText('ผู้ประสานงาน');
  expect(db.value(`SELECT role FROM staff_role WHERE username = 'ui.sync02'`)).toBe('coordinator');
  await item.getByRole('button', { name: 'ล้างบทบาทที่กำหนดให้ ui.sync02' }).click();
  await expect(item).toHaveCount(0);
  expect(db.value(`SELECT count(*) FROM staff_role WHERE username = 'ui.sync02'`)).toBe('0');
});

for (const width of [360, 1280]) {
  test(`the accounts page at ${width} px: no serious accessibility violation, no horizontal scroll`, async ({ page }) => {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    await app.signInTo(page, '/admin/accounts', LOGINS.admin, 'บัญชีผู้ใช้');
    await expect(page.getByRole('heading', { name: LOGINS.admin.username, exact: true })).toBeVisible();
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await horizontalOverflow(page)).toBe(0);
    await shot(page, 'admin-accounts');
  });
}
