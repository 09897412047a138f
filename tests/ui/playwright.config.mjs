// tests/ui/playwright.config.mjs - the caseworker web UI in a real browser: Debian's Chromium
// (never a downloaded one), headless, against the real directoryd and private PostgreSQL that
// harness/global-setup.mjs starts for the run (or an already running one: DIRECTORYD_UI_URL and
// DIRECTORYD_UI_DB). Output (traces of failures, screenshots) goes to out/, which git ignores.
import { defineConfig } from '@playwright/test';

// The flags every launch uses: Debian's Chromium as root in a container, on a machine whose
// only network is loopback (no background requests to anyone).
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export default defineConfig({
  testDir: './specs',
  outputDir: './out/test-results',
  globalSetup: './harness/global-setup.mjs',
  timeout: 30_000,
  expect: { timeout: 7_000 },
  fullyParallel: true,
  workers: Number(process.env.DIRECTORYD_UI_WORKERS || 2),
  retries: 0,
  forbidOnly: true,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.DIRECTORYD_UI_CHROMIUM || '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
    locale: 'th-TH',
    timezoneId: 'Asia/Bangkok',
    viewport: { width: 360, height: 740 },
    hasTouch: true,
    serviceWorkers: 'allow',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
