// tests/ui/harness/global-setup.mjs - one private PostgreSQL + directoryd for the whole run
// (harness/stack.mjs); the tests find them in DIRECTORYD_UI_URL and DIRECTORYD_UI_DB. When
// DIRECTORYD_UI_URL is already set, the tests run against that server and nothing is started.
import { startStack } from './stack.mjs';

export default async function globalSetup() {
  if (process.env.DIRECTORYD_UI_URL) return undefined;
  const s = await startStack();
  process.env.DIRECTORYD_UI_URL = s.baseURL;
  process.env.DIRECTORYD_UI_DB = s.dbURL;
  process.env.DIRECTORYD_UI_CITY_LDAP = JSON.stringify(s.cityLdap); // uiadmin: the sync's slapd
  return async () => { await s.stop(); };
}
