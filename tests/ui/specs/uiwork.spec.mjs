// The coordinators' worklists (issue 17 §1, §4): "needs verification" shrinks when an entry
// is marked verified, one at a time or several at once, and a bulk run in which someone else
// changed one entry meanwhile shows that one as failed (and why) while the others are done;
// a caseworker's report sent from the app appears in the reports worklist and is closed with a
// note (checked in the database and its audit row); caseworkers never see the staff menu and
// the API refuses them; no serious axe-core violation on either worklist. Each test works on
// organisations it creates itself, in a district no other test looks at.
import { test, expect, shot, seriousA11yViolations, LOGINS } from '../harness/fixtures.mjs';
import * as app from '../harness/app.mjs';

const run = `${Date.now() % 1_000_000}`;

function districtOf(db, nameEn) {
  const [code, nameTh] = db.rows(`SELECT code, name_th FROM area WHERE kind = 'district' AND parent_code = '10' AND name_en = '${nameEn}'`)[0];
  return { code, label: `เขต${nameTh}` };
}

// New never-verified organisations in DISTRICT (as the coordinator API client): [{id, name}].
async function createOrgs(api, district, names) {
  const out = [];
  for (const name of names) {
    const r = await api.call('POST', '/v1/organizations', {
      as: 'coordinator',
      body: { name_th: name, name_en: `Worklist test ${name.split(' ').pop()}`, type: 'ngo', sector: 'ngo', area: district.code },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    out.push({ id: String(r.body.id), name });
  }
  return out;
}

async function signInAs(page, who) {
  await app.open(page, '/login');
  await app.signIn(page, who);
}

// 'never' or the time it was verified.
const verifiedAt = (db, id) => db.value(`SELECT coalesce(verified_at::text, 'never') FROM organization WHERE id = ${id}`);

test('marking one entry verified takes it off the worklist, in the database too', async ({ page, db, api }) => {
  const district = districtOf(db, 'Bang Bon');
  const [a, b] = await createOrgs(api, district, [`ศูนย์ทดสอบตรวจสอบ ก ${run}`, `ศูนย์ทดสอบตรวจสอบ ข ${run}`]);
  await signInAs(page, LOGINS.coordinator);
  await app.openVerifyWorklist(page, { district: district.label });
  await expect(page).toHaveURL(new RegExp(`/work/verify\\?district=${district.code}$`));
  await expect(app.verifyRow(page, a.name)).toBeVisible();
  await expect(app.verifyRow(page, b.name)).toBeVisible();
  const before = await app.verifyRows(page).count();

  await app.markVerified(page, a.name);
  await expect(app.verifyRow(page, a.name)).toHaveCount(0);
  await expect(app.verifyRows(page)).toHaveCount(before - 1);
  await expect(page.getByRole('main').getByRole('status').filter({ hasText: /ทำเครื่องหมายว่าตรวจสอบแล้ว 1 รายการ/ })).toBeVisible();
  expect(verifiedAt(db, a.id), 'verified in PostgreSQL').not.toBe('never');
  expect(verifiedAt(db, b.id)).toBe('never');
  // Still gone after a reload (the server's list, not just the screen).
  await page.reload();
  await expect(app.verifyRow(page, b.name)).toBeVisible();
  await expect(app.verifyRow(page, a.name)).toHaveCount(0);
  // Each row opens its entity.
  await app.verifyRow(page, b.name).getByRole('link', { name: b.name }).click();
  await expect(page).toHaveURL(new RegExp(`/org/${b.id}$`));
  await expect(page.getByRole('main').getByRole('heading', { level: 1 })).toHaveText(b.name);
});

test('bulk verification: the others are done, the one changed by someone else meanwhile fails and says why', async ({ page, db, api }) => {
  test.setTimeout(60_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  const district = districtOf(db, 'Nong Chok');
  const orgs = await createOrgs(api, district, ['ก', 'ข', 'ค'].map((x) => `ศูนย์ทดสอบตรวจสอบหลายรายการ ${x} ${run}`));
  await signInAs(page, LOGINS.coordinator);
  await app.openVerifyWorklist(page, { district: district.label });
  for (const o of orgs) await app.selectForVerification(page, o.name);
  await expect(app.bulkVerifyButton(page)).toHaveText(/\(3 /);
  const before = await app.verifyRows(page).count();

  // Someone else edits the middle one after the coordinator's list was drawn.
  const changed = orgs[1];
  await api.patchOrganization(changed.id, { hours_th: 'จันทร์-ศุกร์ 08:30-16:30' });

  await app.bulkVerifyButton(page).click();
  // Three writes, each answered once every reader sees it: give a loaded machine time.
  await expect(page.getByRole('main').getByRole('status').filter({ hasText: /สำเร็จ 2 รายการ ไม่สำเร็จ 1 รายการ/ })).toBeVisible({ timeout: 20_000 });
  await expect(app.verifyRows(page)).toHaveCount(before - 2);
  await expect(app.verifyRow(page, orgs[0].name)).toHaveCount(0);
  await expect(app.verifyRow(page, orgs[2].name)).toHaveCount(0);
  const row = app.verifyRow(page, changed.name);
  await expect(row).toContainText('มีผู้อื่นแก้ไขรายการนี้ก่อน');
  const failures = app.verifyFailures(page);
  await expect(failures).toContainText(changed.name);
  await expect(failures).toContainText('มีผู้อื่นแก้ไขรายการนี้ก่อน');
  await expect(failures.getByRole('link', { name: changed.name })).toHaveAttribute('href', `/org/${changed.id}`);
  expect(verifiedAt(db, orgs[0].id)).not.toBe('never');
  expect(verifiedAt(db, orgs[2].id)).not.toBe('never');
  expect(verifiedAt(db, changed.id), 'the changed one was not verified over the change').toBe('never');
  // Audited, one verify each, by the coordinator who signed in.
  const audits = db.rows(`SELECT entity_id, actor FROM audit WHERE entity = 'organization' AND action = 'verify' AND entity_id IN ('${orgs.map((o) => o.id).join("','")}') ORDER BY entity_id`);
  expect(audits).toEqual([[orgs[0].id, LOGINS.coordinator.username], [orgs[2].id, LOGINS.coordinator.username]].sort());
  await shot(page, 'work-verify-partial');
  // A second, deliberate try (the coordinator has looked at it) goes through.
  await app.bulkVerifyButton(page).click();
  await expect(app.verifyRow(page, changed.name)).toHaveCount(0);
  expect(verifiedAt(db, changed.id)).not.toBe('never');
});

test("a caseworker's report appears in the reports worklist and is closed with a note", async ({ browser, db, api }) => {
  const district = districtOf(db, 'Thawi Watthana');
  const [org] = await createOrgs(api, district, [`ศูนย์ทดสอบรายงาน ${run}`]);
  const message = `เบอร์โทรของศูนย์นี้ไม่มีผู้รับสาย (ทดสอบ ${run})`;
  const note = 'โทรตรวจสอบแล้ว เบอร์ยังใช้ได้ ผู้แจ้งโทรนอกเวลาทำการ';

  // The caseworker, signed in, reports from the organisation's page.
  const cw = await browser.newContext();
  const cwPage = await cw.newPage();
  await signInAs(cwPage, LOGINS.workCaseworker);
  await app.open(cwPage, `/org/${org.id}`);
  await app.reportMistake(cwPage, cwPage.getByRole('main'), { message });
  await cw.close();

  // The coordinator finds it in the worklist, opens the entity from it, and closes it.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signInAs(page, LOGINS.coordinator);
  await app.openReportsWorklist(page);
  const item = app.reportItem(page, message);
  await expect(item).toBeVisible();
  await expect(item.getByRole('heading', { name: org.name })).toBeVisible();
  await expect(item).toContainText(LOGINS.workCaseworker.username);
  await expect(item.getByRole('link', { name: org.name })).toHaveAttribute('href', `/org/${org.id}`);
  await app.closeReport(page, item, { resolution: 'not_a_mistake', note });
  await expect(item).toHaveCount(0);
  await expect(page.getByRole('main').getByRole('status').filter({ hasText: /ปิดรายงานเลขที่ \d+ .* ไม่ใช่ข้อผิดพลาด/ })).toBeVisible();

  const [status, resolution, savedNote, by] = db.rows(`SELECT status, resolution, note, resolved_by FROM report WHERE message = '${message}'`)[0];
  expect([status, resolution, savedNote, by]).toEqual(['resolved', 'not_a_mistake', note, LOGINS.coordinator.username]);
  const audit = db.rows(`SELECT a.actor, a.after->>'resolution', a.after->>'note' FROM audit a JOIN report r ON a.entity = 'report' AND a.entity_id = r.id::text WHERE r.message = '${message}' AND a.action = 'resolve'`);
  expect(audit).toEqual([[LOGINS.coordinator.username, 'not_a_mistake', note]]);

  // The closed tab shows it with the outcome and the note.
  await page.getByRole('navigation', { name: /สถานะรายงาน/ }).getByRole('link', { name: 'ปิดแล้ว' }).click();
  const closed = app.reportItem(page, message);
  await expect(closed).toContainText('ไม่ใช่ข้อผิดพลาด');
  await expect(closed).toContainText(note);
  await ctx.close();
});

test('a report closed as fixed from the worklist', async ({ page, db, api }) => {
  const district = districtOf(db, 'Thawi Watthana');
  const [org] = await createOrgs(api, district, [`ศูนย์ทดสอบรายงานแก้ไข ${run}`]);
  const message = `ที่อยู่ผิด ย้ายไปซอยถัดไปแล้ว (ทดสอบ ${run})`;
  const r = await api.call('POST', '/v1/reports', { body: { entity: 'organization', id: org.id, message } });
  expect(r.status).toBe(201);
  await signInAs(page, LOGINS.coordinator);
  await app.openReportsWorklist(page);
  await app.closeReport(page, app.reportItem(page, message), { resolution: 'fixed', note: 'แก้ที่อยู่แล้ว' });
  await expect(app.reportItem(page, message)).toHaveCount(0);
  expect(db.rows(`SELECT status, resolution, note FROM report WHERE id = ${r.body.id}`)[0]).toEqual(['resolved', 'fixed', 'แก้ที่อยู่แล้ว']);
});

test('a caseworker never sees the staff menu and the API refuses the worklists to them', async ({ page }) => {
  // Anonymous: no staff menu, the print link for everyone.
  await app.open(page, '/');
  await expect(app.staffMenu(page)).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'เมนูหลัก' }).getByRole('link', { name: 'พิมพ์ทำเนียบ' })).toHaveAttribute('href', '/print');
  await app.open(page, '/work/verify');
  await expect(page.getByRole('main')).toContainText('โปรดเข้าสู่ระบบ');

  await signInAs(page, LOGINS.workCaseworker);
  await app.open(page, '/');
  await expect(app.staffMenu(page)).toHaveCount(0);
  for (const name of ['ต้องตรวจสอบ', 'รายงานข้อผิดพลาด', 'นำเข้าข้อมูล', 'ซิงก์บุคลากร', 'ไคลเอนต์ API', 'บัญชีผู้ใช้']) {
    await expect(page.getByRole('link', { name })).toHaveCount(0);
  }
  // Forced: the screen says it is for coordinators, and the API answers 403 to the session.
  await app.open(page, '/work/verify');
  await expect(page.getByRole('main').getByRole('alert')).toHaveText(/สำหรับผู้ประสานงานเครือข่าย/);
  await expect(app.verifyRows(page)).toHaveCount(0);
  const statuses = await page.evaluate(async () => {
    const csrf = (await (await fetch('/v1/session')).json()).csrf_token;
    const list = await fetch('/v1/worklist/verification');
    const reports = await fetch('/v1/reports');
    const resolve = await fetch('/v1/reports/1/resolve', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: '{"resolution":"fixed"}',
    });
    return [list.status, reports.status, resolve.status];
  });
  expect(statuses).toEqual([403, 403, 403]);
});

test('the staff menu by role: coordinators get the worklists and import, admins the admin pages too', async ({ browser }) => {
  const coordinator = await browser.newPage();
  await signInAs(coordinator, LOGINS.coordinator);
  const menu = app.staffMenu(coordinator);
  await expect(menu.getByRole('link')).toHaveText(['ต้องตรวจสอบ', 'รายงานข้อผิดพลาด', 'นำเข้าข้อมูล']);
  await expect(menu.getByRole('link', { name: 'ต้องตรวจสอบ' })).toHaveAttribute('href', '/work/verify');
  await expect(menu.getByRole('link', { name: 'รายงานข้อผิดพลาด' })).toHaveAttribute('href', '/work/reports');
  await expect(menu.getByRole('link', { name: 'นำเข้าข้อมูล' })).toHaveAttribute('href', '/import');
  await coordinator.context().close();

  const admin = await browser.newPage();
  await signInAs(admin, LOGINS.workAdmin);
  const links = app.staffMenu(admin).getByRole('link');
  await expect(links).toHaveText(['ต้องตรวจสอบ', 'รายงานข้อผิดพลาด', 'นำเข้าข้อมูล', 'ซิงก์บุคลากร', 'ไคลเอนต์ API', 'บัญชีผู้ใช้']);
  const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  expect(hrefs).toEqual(['/work/verify', '/work/reports', '/import', '/admin/sync', '/admin/clients', '/admin/accounts']);
  // In English too.
  await app.setLanguage(admin, 'en');
  await expect(app.staffMenu(admin).getByRole('link')).toHaveText(['Needs verification', 'Reported mistakes', 'Import data', 'Staff sync', 'API clients', 'User accounts']);
  await admin.context().close();
});

for (const width of [360, 1280]) {
  test(`both worklists are accessible and fit the screen at ${width} px (axe-core, screenshots)`, async ({ page, db, api }) => {
    test.setTimeout(120_000); // axe-core on three screens, on a machine the other suites share
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    const district = districtOf(db, 'Bang Bon');
    await createOrgs(api, district, [`ศูนย์ทดสอบหน้าจอ ${width} ${run}`]);
    const r = await api.call('POST', '/v1/reports', { body: { entity: 'organization', id: 'coc-lumphini', message: `ตัวอย่างรายงานสำหรับภาพหน้าจอ (${width})` } });
    expect(r.status).toBe(201);
    await signInAs(page, LOGINS.coordinator);
    await app.openVerifyWorklist(page, { district: district.label });
    await app.selectForVerification(page, `ศูนย์ทดสอบหน้าจอ ${width} ${run}`);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await app.noHorizontalScroll(page);
    await shot(page, 'work-verify');
    await app.openReportsWorklist(page);
    await expect(page.getByRole('main').getByRole('article').first()).toBeVisible();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await app.noHorizontalScroll(page);
    await shot(page, 'work-reports');
    await app.setLanguage(page, 'en');
    await expect(page.getByRole('main').getByRole('heading', { level: 1 })).toHaveText('Reported mistakes');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });
}
