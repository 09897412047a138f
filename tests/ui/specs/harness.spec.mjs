// Proves the harness before the app exists: Debian's Chromium renders Thai, reaches the run's
// real directoryd (a throwaway page at its origin fetches /v1/resolve), and screenshots land in
// out/. Deleted once the app is served.
import { test, expect, shot } from '../harness/fixtures.mjs';

test('a page at directoryd\'s origin shows the resolver answer from the real API', async ({ page, baseURL, db }) => {
  const html = `<!doctype html><html lang="th"><head><meta charset="utf-8"><title>probe</title>
    <meta name="viewport" content="width=device-width"></head><body><h1>ปทุมวัน</h1><ol id="a"></ol>
    <script type="module" src="/__probe.js"></script></body></html>`;
  const js = `const r = await fetch('/v1/resolve?area=1007&need=counselling&group=street_children');
    const d = await r.json();
    for (const i of d.items) { const li = document.createElement('li'); li.textContent = i.name_th;
      const c = i.contacts.find((c) => c.kind === 'phone');
      if (c) { const a = document.createElement('a'); a.href = 'tel:' + c.value.replace(/-/g, ''); a.textContent = c.value; li.append(' ', a); }
      document.getElementById('a').append(li); }`;
  await page.route(baseURL + '/__probe.html', (r) => r.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
  await page.route(baseURL + '/__probe.js', (r) => r.fulfill({ contentType: 'text/javascript', body: js }));
  await page.goto('/__probe.html');
  const items = page.getByRole('listitem');
  await expect(items.first()).toContainText('ปทุมวัน');
  await expect(items.last()).toContainText('กลุ่มงานสงเคราะห์และพิทักษ์เด็ก');
  const phone = db.value(`SELECT cp.value FROM contact_point cp JOIN organization o ON o.id = cp.organization_id
    WHERE o.ref = 'district-1007-welfare' AND cp.kind = 'phone' ORDER BY cp.position LIMIT 1`);
  await expect(items.first().getByRole('link')).toHaveAttribute('href', 'tel:' + phone.replace(/-/g, ''));
  await shot(page, 'harness-probe');
});
