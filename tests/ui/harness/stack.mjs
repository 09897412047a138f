// tests/ui/harness/stack.mjs - the real system the browser tests run against: a private
// PostgreSQL cluster (scripts/pgctl, in a temporary directory, on a free loopback port) with
// the Bangkok reference data and the demo directory, the logins the tests use, and a real
// directoryd serving the JSON API and webui/ on free loopback ports.
//
// Used by global-setup.mjs (one stack per run); also runnable by hand to look at the UI:
//   node harness/stack.mjs      (prints the URL and the logins; Ctrl-C stops everything)
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..', '..');
export const OUT = path.resolve(here, '..', 'out');
const PGCTL = path.join(ROOT, 'scripts', 'pgctl');

// The logins the tests use (made fresh in every run's private database). Signing out ends
// every session of that user everywhere, so tests running at the same time each sign in as
// their own caseworker: caseworkers[0] is the one to look around with by hand.
const caseworker = (n) => ({ username: `ui.caseworker${n}`, password: `ui-caseworker-pass-${n}` });
export const LOGINS = {
  adminKey: 'ui-test-admin-key-0123456789abcdef',
  coordinatorKey: 'ui-test-coordinator-key-0123456789',
  caseworkers: [1, 2, 3, 4, 5, 6, 7].map(caseworker), // 7: uiedit
  coordinator: { username: 'ui.coordinator', password: 'ui-coordinator-pass-1' },
  // uiwork: its own caseworker (reports) and an admin (the admin links)
  workCaseworker: { username: 'ui.work.caseworker', password: 'ui-work-caseworker-pass-1' },
  workAdmin: { username: 'ui.work.admin', password: 'ui-work-admin-pass-1' },
  admin: { username: 'ui.admin', password: 'ui-admin-pass-0001' }, // uiadmin: a local admin
};

// uiadmin: the city LDAP staff directoryd syncs from (harness/cityldap.py starts the slapd).
// Only the admin screens' tests (specs/uiadmin*.spec.mjs) look at them or change them.
export const CITY_STAFF = [
  ['ui.sync01', 'ทดสอบซิงก์ หนึ่ง', 'Syncone'], ['ui.sync02', 'ทดสอบซิงก์ สอง', 'Synctwo'],
  ['ui.sync03', 'ทดสอบซิงก์ สาม', 'Syncthree'], ['ui.sync04', 'ทดสอบซิงก์ สี่', 'Syncfour'],
  ...[1, 2, 3, 4, 5, 6].map((n) => [`ui.mass0${n}`, `ทดสอบลบหมู่ คนที่ ${n}`, `Mass${n}`]),
];

export function cityLdif(uid, cn, sn, base) {
  return `dn: uid=${uid},ou=people,${base}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${cn}\nsn: ${sn}\n` +
    `displayName: ${cn}\nmail: ${uid}@bangkok.go.th\ntelephoneNumber: 02 224 ${String(4000 + uid.length).padStart(4, '0')}\n` +
    `userPassword: ${uid}-city-pass\n\n`;
}

// Starts the city LDAP with CITY_STAFF in TMP; answers {uri, pid, base, admin_dn, admin_pw, env}.
function startCityLdap(tmp) {
  const info = JSON.parse(run('python3', [path.join(here, 'cityldap.py'), 'start', tmp]).trim().split('\n').pop());
  const ldif = CITY_STAFF.map(([uid, cn, sn]) => cityLdif(uid, cn, sn, info.base)).join('');
  execFileSync('ldapadd', ['-x', '-H', info.uri, '-D', info.admin_dn, '-w', info.admin_pw], { input: ldif, stdio: ['pipe', 'ignore', 'pipe'] });
  return info;
}

async function stopPid(pid) {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try { process.kill(pid, 0); } catch { return; }
    await sleep(50);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, env) {
  try {
    return execFileSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  } catch (e) {
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${e.status}):\n${e.stdout || ''}${e.stderr || ''}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHealthy(base, proc, logPath) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`directoryd exited early (${proc.exitCode}):\n${fs.readFileSync(logPath, 'utf8')}`);
    try {
      const r = await fetch(base + '/healthz');
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`directoryd did not become healthy:\n${fs.readFileSync(logPath, 'utf8')}`);
}

// Starts everything; answers {baseURL, dbURL, stop()}. BIN is the directoryd to test
// (DIRECTORYD_BIN, default build/directoryd); DIRECTORYD_UI_WEBUI_DIR, when set, is passed as
// --webui-dir (by default directoryd serves the in-repo webui/).
export async function startStack({ bin = process.env.DIRECTORYD_BIN || path.join(ROOT, 'build', 'directoryd') } = {}) {
  if (!fs.existsSync(bin)) throw new Error(`no directoryd at ${bin}: build it first (scripts/lib.sh dir_build) or set DIRECTORYD_BIN`);
  fs.mkdirSync(OUT, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'directoryd-ui-'));
  fs.chmodSync(tmp, 0o755); // the unprivileged postgres user must reach the cluster directory
  const pgData = path.join(tmp, 'pg');
  const pgPort = await freePort();
  let proc = null;
  let pgStarted = false;
  let city = null;
  const cleanup = async () => {
    if (pgStarted) { try { run(PGCTL, ['stop', pgData]); } catch (e) { console.error(String(e)); } }
    if (city) await stopPid(city.pid);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    // A throw-away cluster: no fsync (scripts/pgctl DIRECTORYD_PG_FSYNC), as the integration harness.
    run(PGCTL, ['start', pgData, String(pgPort)], { DIRECTORYD_PG_FSYNC: process.env.DIRECTORYD_PG_FSYNC || 'off' });
    pgStarted = true;
    const dbURL = run(PGCTL, ['url', pgData, String(pgPort)]).trim();
    const env = { DIRECTORYD_DB: dbURL };
    run(bin, ['migrate'], env);
    run(bin, ['load-demo'], env);
    run(bin, ['api-client', 'ui-admin', 'admin'], { ...env, DIRECTORYD_CLIENT_SECRET: LOGINS.adminKey });
    run(bin, ['api-client', 'ui-coordinator', 'coordinator'], { ...env, DIRECTORYD_CLIENT_SECRET: LOGINS.coordinatorKey });
    for (const [role, acc] of [...LOGINS.caseworkers.map((c) => ['caseworker', c]), ['coordinator', LOGINS.coordinator],
      ['caseworker', LOGINS.workCaseworker], ['admin', LOGINS.workAdmin], ['admin', LOGINS.admin]]) {
      run(bin, ['local-account', acc.username, role], { ...env, DIRECTORYD_ACCOUNT_PASSWORD: acc.password });
    }
    const httpPort = await freePort();
    const ldapPort = await freePort();
    const logPath = path.join(OUT, 'directoryd.log');
    const log = fs.openSync(logPath, 'w');
    const args = ['serve'];
    if (process.env.DIRECTORYD_UI_WEBUI_DIR) args.push('--webui-dir', process.env.DIRECTORYD_UI_WEBUI_DIR);
    city = startCityLdap(tmp);
    // Synced on demand only (the admin screens' tests start every run): one a day otherwise.
    const syncEnv = { ...city.env, DIRECTORYD_SYNC_MODE: 'syncrepl', DIRECTORYD_SYNC_INTERVAL_S: '86400', DIRECTORYD_SYNC_MAX_DEACTIVATE_PCT: '10' };
    proc = spawn(bin, args, {
      env: { ...process.env, ...env, ...syncEnv, DIRECTORYD_HTTP_PORT: String(httpPort), DIRECTORYD_LDAP_PORT: String(ldapPort), DIRECTORYD_REFRESH_MS: '100' },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const baseURL = `http://127.0.0.1:${httpPort}`;
    await waitHealthy(baseURL, proc, logPath);

    const stop = async () => {
      let problem = null;
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => { problem = 'directoryd did not stop on SIGTERM'; proc.kill('SIGKILL'); }, 30_000);
        await exited;
        clearTimeout(t);
      }
      const text = fs.readFileSync(logPath, 'utf8');
      if (!problem && proc.exitCode !== 0) problem = `directoryd exited ${proc.exitCode ?? proc.signalCode}`;
      if (/ERROR: AddressSanitizer|runtime error:/.test(text)) problem = 'sanitizer report in directoryd.log';
      await cleanup();
      if (problem) throw new Error(`${problem} (see ${logPath}):\n${text.slice(-4000)}`);
    };
    const cityLdap = { uri: city.uri, base: city.base, adminDn: city.admin_dn, adminPw: city.admin_pw };
    return { baseURL, dbURL, logPath, cityLdap, stop };
  } catch (e) {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    await cleanup();
    throw e;
  }
}

// By hand: start, print, and stop on Ctrl-C.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const s = await startStack();
  console.log(`directoryd: ${s.baseURL}/  (Ctrl-C stops it)\n  psql '${s.dbURL}'\n` +
    `  tests against it: DIRECTORYD_UI_URL=${s.baseURL} DIRECTORYD_UI_DB=${s.dbURL} npx playwright test\n` +
    `  admin key: ${LOGINS.adminKey}\n  admin: ${LOGINS.admin.username} / ${LOGINS.admin.password}\n  city LDAP: ${s.cityLdap.uri}\n  caseworker: ${LOGINS.caseworkers[0].username} / ${LOGINS.caseworkers[0].password}\n  coordinator: ${LOGINS.coordinator.username} / ${LOGINS.coordinator.password}`);
  const done = async () => { await s.stop().catch((e) => console.error(String(e))); process.exit(0); };
  process.on('SIGINT', done);
  process.on('SIGTERM', done);
}
