// search.mjs - an npm LDAP client (ldapts) reads directoryd's LDAP face, as a Node.js
// address-book or integration would: anonymous search, a bind as an API client, paged
// results. Prints one JSON line with what it saw; the pytest side checks it.
import { Client } from 'ldapts';

const [url, suffix, bindDN, secret] = process.argv.slice(2);
const client = new Client({ url, timeout: 10000, connectTimeout: 5000 });
const out = {};
try {
  const anon = await client.search(`ou=organizations,${suffix}`, {
    scope: 'sub', filter: '(cn=*ลุมพินี*)', attributes: ['cn', 'telephoneNumber'],
  });
  out.anonOrgs = anon.searchEntries.map((e) => e.dn);
  const anonPeople = await client.search(`ou=people,${suffix}`, {
    scope: 'sub', filter: '(objectClass=inetOrgPerson)',
  });
  out.anonPeople = anonPeople.searchEntries.length;
  await client.bind(bindDN, secret);
  const people = await client.search(`ou=people,${suffix}`, {
    scope: 'sub', filter: '(&(departmentNumber=1007)(objectClass=inetOrgPerson))',
    attributes: ['cn', 'mail', 'departmentNumber'], paged: { pageSize: 2 },
  });
  out.people = people.searchEntries.map((e) => ({ dn: e.dn, dept: e.departmentNumber }));
  try {
    await client.add(`cn=x,ou=people,${suffix}`, { objectClass: 'person', cn: 'x', sn: 'x' });
    out.addResult = 'accepted';
  } catch (e) {
    out.addResult = e.code;
  }
} finally {
  await client.unbind();
}
console.log(JSON.stringify(out));
