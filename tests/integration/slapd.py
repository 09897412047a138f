"""A private slapd (Debian's) as the test "city LDAP": its own config directory, back-mdb,
the syncprov overlay (RFC 4533) and the memberof overlay, on a free loopback port.

    city = CityLdap(workdir); city.add_ldif(text); ...; city.stop()

Users live in ou=people, groups (groupOfNames) in ou=groups, under dc=bangkok,dc=go,dc=th.
The service account cn=directoryd,ou=services can read everything (the sync and the
login search use it); users can bind with their own userPassword.
"""
import os
import shutil
import signal
import subprocess
import time

from conftest import free_port

BASE = "dc=bangkok,dc=go,dc=th"
ADMIN_DN = "cn=admin," + BASE
ADMIN_PW = "city-admin-secret"
SERVICE_DN = "cn=directoryd,ou=services," + BASE
SERVICE_PW = "city-service-secret"

# The cn=schema entry with Debian's standard schemas, for slapadd -n0 configurations.
SCHEMA = """dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
"""

CONFIG = """dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {dir}/slapd.pid
olcArgsFile: {dir}/slapd.args
olcLogLevel: none

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: syncprov
olcModuleLoad: memberof

{schema}
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: unlimited

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {base}
olcRootDN: {admin}
olcRootPW: {adminpw}
olcDbDirectory: {dir}/data
olcDbMaxSize: 1073741824
olcDbIndex: objectClass eq
olcDbIndex: entryUUID,entryCSN eq
olcDbIndex: uid eq
olcLimits: dn.exact="{service}" size=unlimited time=unlimited
olcAccess: {{0}}to attrs=userPassword by self read by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact="{service}" read by users read by * none

dn: olcOverlay={{0}}syncprov,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {{0}}syncprov
olcSpCheckpoint: 100 10

dn: olcOverlay={{1}}memberof,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {{1}}memberof
olcMemberOfRefInt: TRUE
"""

TREE = """dn: {base}
objectClass: dcObject
objectClass: organization
dc: bangkok
o: Bangkok Metropolitan Administration

dn: ou=people,{base}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{base}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{base}
objectClass: organizationalUnit
ou: services

dn: {service}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: directoryd
userPassword: {servicepw}
"""


class CityLdap:
    def __init__(self, workdir, name="city", syncprov=True, consumer_of=None, sessionlog=0,
                 reloadhint=False):
        """CONSUMER_OF: another CityLdap this one replicates with syncrepl (refreshOnly,
        every second): the anchor the staff sync is measured against in bench/sync-scale.
        SESSIONLOG: syncprov keeps a session log of that many operations, so a refresh
        whose cookie it covers is answered with a delete phase (RFC 4533 3.3.2: the deleted
        entries named) instead of a present phase (every unchanged entry named, the deleted
        ones left out). RELOADHINT: syncprov answers a cookie no entry's CSN covers any
        more with e-syncRefreshRequired (4096)."""
        self.dir = os.path.join(workdir, "slapd-%s-%d" % (name, os.getpid()))
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "config"))
        os.makedirs(os.path.join(self.dir, "data"))
        self.port = free_port()
        self.uri = "ldap://127.0.0.1:%d" % self.port
        self.base = BASE
        conf = CONFIG.format(dir=self.dir, base=BASE, admin=ADMIN_DN, adminpw=ADMIN_PW,
                             service=SERVICE_DN, schema=SCHEMA)
        sp = ""
        if sessionlog:
            sp += "olcSpSessionlog: %d\n" % sessionlog
        if reloadhint:
            sp += "olcSpReloadHint: TRUE\n"
        conf = conf.replace("olcSpCheckpoint: 100 10\n", "olcSpCheckpoint: 100 10\n" + sp)
        if not syncprov:  # a server without RFC 4533 (as Active Directory): the sync polls
            conf = "\n\n".join(e for e in conf.split("\n\n") if "syncprov,olcDatabase" not in e)
            conf = conf.replace("olcModuleLoad: syncprov\n", "").replace("{1}memberof", "{0}memberof")
        if consumer_of:
            conf = conf.replace("olcDbIndex: uid eq\n", (
                "olcDbIndex: uid eq\n"
                "olcSyncrepl: rid=001 provider=%s bindmethod=simple binddn=\"%s\" "
                "credentials=%s searchbase=\"%s\" type=refreshOnly interval=00:00:00:01 "
                "retry=\"1 +\" scope=sub schemachecking=off\n") % (
                    consumer_of.uri, ADMIN_DN, ADMIN_PW, BASE))
        path = os.path.join(self.dir, "config.ldif")
        with open(path, "w") as f:
            f.write(conf)
        self._run(["slapadd", "-n0", "-F", os.path.join(self.dir, "config"), "-l", path])
        self.pid = None
        self.start()
        if not consumer_of:  # a consumer gets its tree from the provider
            self.add_ldif(TREE.format(base=BASE, service=SERVICE_DN, servicepw=SERVICE_PW))

    def _run(self, args, stdin=None):
        p = subprocess.run(args, input=stdin, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("%s failed: %s%s" % (args[0], p.stdout, p.stderr))
        return p.stdout

    def start(self):
        self._run(["slapd", "-h", self.uri + "/", "-F", os.path.join(self.dir, "config")])
        deadline = time.time() + 20
        pidfile = os.path.join(self.dir, "slapd.pid")
        while time.time() < deadline:
            if os.path.exists(pidfile):
                try:
                    self._run(["ldapsearch", "-x", "-H", self.uri, "-s", "base", "-b", "",
                               "namingContexts"])
                    self.pid = int(open(pidfile).read().strip())
                    return
                except RuntimeError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("slapd did not start")

    def stop(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.time() + 20
            while time.time() < deadline:
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            self.pid = None

    def add_ldif(self, text):
        self._run(["ldapadd", "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PW], stdin=text)

    def modify_ldif(self, text):
        self._run(["ldapmodify", "-x", "-H", self.uri, "-D", ADMIN_DN, "-w", ADMIN_PW], stdin=text)

    def add_user(self, uid, cn, password, groups=(), **attrs):
        lines = ["dn: uid=%s,ou=people,%s" % (uid, BASE), "objectClass: inetOrgPerson",
                 "uid: " + uid, "cn: " + cn, "sn: " + attrs.pop("sn", cn.split()[-1]),
                 "userPassword: " + password]
        for k, v in attrs.items():
            for item in (v if isinstance(v, (list, tuple)) else [v]):
                lines.append("%s: %s" % (k, item))
        self.add_ldif("\n".join(lines) + "\n")
        for g in groups:
            self.add_to_group(g, "uid=%s,ou=people,%s" % (uid, BASE))

    def add_to_group(self, group, member_dn):
        dn = "cn=%s,ou=groups,%s" % (group, BASE)
        try:
            self.modify_ldif("dn: %s\nchangetype: modify\nadd: member\nmember: %s\n" % (dn, member_dn))
        except RuntimeError:
            self.add_ldif("dn: %s\nobjectClass: groupOfNames\ncn: %s\nmember: %s\n" % (dn, group, member_dn))

    def env(self, workdir):
        """directoryd's environment for this server (the password goes in a file)."""
        pwfile = os.path.join(self.dir, "service.pw")
        with open(pwfile, "w") as f:
            f.write(SERVICE_PW + "\n")
        os.chmod(pwfile, 0o600)
        return {"DIRECTORYD_SYNC_URI": self.uri, "DIRECTORYD_SYNC_BINDDN": SERVICE_DN,
                "DIRECTORYD_SYNC_PASSWORD_FILE": pwfile, "DIRECTORYD_SYNC_BASE": BASE}
