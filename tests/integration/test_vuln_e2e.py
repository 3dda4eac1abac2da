"""Vulnerability findings end to end with the real binary: `koban vuln advisory
add` -> `koban vuln inventory` -> issues with the advisories' severities ->
an upgraded inventory closes them -> triage closes, expiry reopens ->
OpenVEX export and import into a fresh store -> the same triage; the CLI
refusing while `koban serve` runs, and POST /v1/inventory/{asset}.

Usage: python3 tests/integration/test_vuln_e2e.py [BUILDDIR]"""
import datetime
import json
import os
import shutil
import sys
import tempfile

if len(sys.argv) > 1 and "KOBAN_BIN" not in os.environ:
    os.environ["KOBAN_BIN"] = os.path.join(os.path.abspath(sys.argv[1]), "koban")

from kobantest import wait_for, Daemon, Results, Skip, check, eq, koban  # noqa: E402

CRIT = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"  # 10.0
LOW_A = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"  # 5.3 medium

ADVISORIES = {
    "debian/DSA-9999-1.json": {
        "id": "DSA-9999-1", "modified": "2024-03-29T00:00:00Z", "aliases": ["CVE-2024-3094"],
        "summary": "xz backdoor", "severity": [{"type": "CVSS_V3", "score": CRIT}],
        "affected": [{"package": {"ecosystem": "Debian", "name": "xz-utils"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "5.6.0"}, {"fixed": "5.6.1+really5.4.5-1"}]}]}]},
    "team/CVE-2023-38545.json": {
        "id": "CVE-2023-38545", "modified": "2023-10-11T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": LOW_A}],
        "affected": [{"package": {"ecosystem": "Debian", "name": "curl"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "0"}, {"fixed": "7.88.1-10+deb12u4"}]}]}]},
}

STATUS_OLD = """Package: xz-utils
Status: install ok installed
Architecture: amd64
Version: 5.6.0-0.2

Package: curl
Status: install ok installed
Architecture: amd64
Version: 7.88.1-10

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2
"""
STATUS_NEW = STATUS_OLD.replace("5.6.0-0.2", "5.6.1+really5.4.5-1")


def write(d, name, text):
    p = os.path.join(d, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text if isinstance(text, str) else json.dumps(text))
    return p


class Store:
    """A data_dir with the advisories and host-a's old inventory loaded."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="koban-vuln-e2e-")
        self.data = os.path.join(self.dir, "data")
        self.adv = os.path.join(self.dir, "adv")
        for name, rec in ADVISORIES.items():
            write(self.adv, name, rec)
        self.old = write(self.dir, "status-old", STATUS_OLD)
        self.new = write(self.dir, "status-new", STATUS_NEW)

    def k(self, *args, rc=0):
        return koban(*args, "--data-dir", self.data, check_rc=rc)

    def load(self):
        _, out, _ = self.k("vuln", "advisory", "add", self.adv)
        check("2 advisories stored, 0 refused" in out, out)
        _, out, _ = self.k("vuln", "inventory", "host-a", self.old)
        return out

    def issues(self):
        _, out, _ = self.k("issues", "--state", "all", "--json")
        return {json.loads(l)["identity"]: json.loads(l) for l in out.splitlines() if l}

    def issue(self, package):
        for ident, i in self.issues().items():
            if f"package={package}" in ident:
                return i
        raise AssertionError(f"no issue for {package}")

    def issue_on(self, package, asset):
        for ident, i in self.issues().items():
            if f"package={package}" in ident and f"asset={asset}" in ident:
                return i
        raise AssertionError(f"no issue for {package} on {asset}")

    def history(self, iid):
        _, out, _ = self.k("issues", "show", str(iid), "--json")
        return json.loads(out)["history"]

    def findings(self, *args):
        _, out, _ = self.k("vuln", "list", "--json", *args)
        return {json.loads(l)["package"]: json.loads(l) for l in out.splitlines() if l}

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def day(offset):
    d = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset)
    return d.isoformat()


def test_lifecycle():
    s = Store()
    try:
        out = s.load()
        check("host-a: 3 packages; findings: 2 new" in out, out)
        check("critical CVE-2024-3094 in xz-utils 5.6.0-0.2 on host-a" in out, out)
        check("issues: 2 new" in out, out)
        xz, curl = s.issue("xz-utils"), s.issue("curl")
        # the stock policies: a finding is at most medium (an issue, not a
        # page) unless the asset faces the internet (CVSS 9+: high) or the
        # vulnerability is known exploited (critical)
        eq(xz["severity"], "medium")
        eq(curl["severity"], "medium")
        eq(xz["source"], "vuln")
        eq(xz["state"], "open")
        f = s.findings()
        eq(sorted(f), ["curl", "xz-utils"])
        eq(f["curl"]["issue"]["id"], curl["id"])
        eq(f["xz-utils"]["fixed"], "5.6.1+really5.4.5-1")

        _, out, _ = s.k("vuln", "search", "curl")
        check("host-a" in out and "7.88.1-10" in out and "1 installation" in out, out)
        s.k("vuln", "search", "nothing-like-it", rc=1)

        # the same inventory again changes nothing
        _, out, _ = s.k("vuln", "inventory", "host-a", s.old)
        check("findings: 0 new, 0 updated, 0 resolved" in out, out)

        # upgraded: the xz issue closes, saying so
        _, out, _ = s.k("vuln", "inventory", "host-a", s.new)
        check("1 resolved" in out and "upgraded: xz-utils 5.6.0-0.2 -> 5.6.1+really5.4.5-1"
              in out, out)
        xz = s.issue("xz-utils")
        eq(xz["state"], "closed")
        check("upgraded" in s.history(xz["id"])[-1]["reason"], s.history(xz["id"]))
        eq(s.issue("curl")["state"], "open")
        eq(s.findings("--state", "resolved")["xz-utils"]["state"], "resolved")

        # triage: not_affected needs a justification
        _, _, err = s.k("vuln", "triage", str(curl["id"]), "--status", "not_affected", rc=2)
        check("needs a justification" in err, err)
        _, _, err = s.k("vuln", "triage", str(curl["id"]), "--status", "affected",
                        "--until", day(10), rc=2)
        check("until" in err, err)
        until = day(30)
        _, out, _ = s.k("vuln", "triage", str(curl["id"]), "--status", "not_affected",
                        "--justification", "vulnerable_code_not_in_execute_path",
                        "--until", until, "--note", "no SOCKS5 proxy", "--author", "alice")
        reason = (f"triaged: not_affected (vulnerable_code_not_in_execute_path) until {until} "
                  "by alice: no SOCKS5 proxy")
        check(reason in out and "closed" in out, out)
        eq(s.issue("curl")["state"], "closed")
        h = s.history(curl["id"])[-1]
        eq(h["reason"], reason)
        eq(s.findings()["curl"]["triage"]["status"], "not_affected")

        # the verdict expires: the issue reopens, saying why
        _, out, _ = s.k("vuln", "triage", "--expire")
        check("0 issues reopened" in out, out)
        _, out, _ = s.k("vuln", "triage", "--expire", "--now", day(31))
        check("1 issue reopened" in out and "triage expired" in out, out)
        eq(s.issue("curl")["state"], "open")
        eq(s.history(curl["id"])[-1]["reason"], f"triage expired (not_affected until {until})")
        eq(s.findings()["curl"]["triage"]["status"], "under_investigation")

        # by finding id, then export and import into a fresh store
        fid = s.findings()["curl"]["id"][:12]
        _, out, _ = s.k("vuln", "show", fid)
        check("CVE-2023-38545" in out and "under_investigation" in out, out)
        s.k("vuln", "triage", fid, "--status", "not_affected", "--justification",
            "component_not_present", "--note", "curl binary removed", "--author", "bob")
        _, doc, _ = s.k("vuln", "vex", "export", "--author", "secteam@example.com")
        vex = json.loads(doc)
        eq(vex["@context"], "https://openvex.dev/ns/v0.2.0")
        eq(vex["author"], "secteam@example.com")
        eq(vex["version"], 1)
        check(vex["@id"].startswith("urn:uuid:") and vex["timestamp"], vex)
        eq(len(vex["statements"]), 1)
        st = vex["statements"][0]
        eq(st["vulnerability"]["name"], "CVE-2023-38545")
        eq(st["status"], "not_affected")
        eq(st["justification"], "component_not_present")
        eq(st["impact_statement"], "curl binary removed")
        eq(st["products"][0]["@id"], "host-a")
        eq(st["products"][0]["subcomponents"][0]["@id"], "pkg:deb/debian/curl@7.88.1-10")
        vexfile = write(s.dir, "doc.vex.json", doc)

        fresh = Store()
        try:
            fresh.load()
            _, out, _ = fresh.k("vuln", "vex", "import", vexfile)
            check("1 finding triaged" in out, out)
            t = fresh.findings()["curl"]["triage"]
            eq((t["status"], t["justification"], t["note"], t["author"]),
               ("not_affected", "component_not_present", "curl binary removed",
                "secteam@example.com"))
            eq(fresh.issue("curl")["state"], "closed")
            eq(fresh.findings()["xz-utils"]["triage"], None)
            # a malformed document names the statement and field
            bad = dict(vex, statements=[st, dict(st, status="sort_of")])
            badfile = write(fresh.dir, "bad.json", bad)
            _, _, err = fresh.k("vuln", "vex", "import", badfile, rc=1)
            check("statement 1: status: 'sort_of'" in err, err)
        finally:
            fresh.cleanup()
    finally:
        s.cleanup()



def test_severity_policies():
    """The stock policies on vulnerability findings: at most medium on an
    internal host; CVSS 9+ on an internet-facing asset high; a known
    exploited vulnerability (CISA KEV, synced from a file) critical
    everywhere."""
    s = Store()
    try:
        s.load()
        eq(s.issue("xz-utils")["severity"], "medium")
        # host-a turns out to face the internet: its open findings are rated anew
        _, out, _ = s.k("vuln", "inventory", "host-a", s.old, "--label", "internet_facing=true")
        check("exposure changed: internet-facing" in out or "0 new" in out, out)
        eq(s.issue("xz-utils")["severity"], "high")
        eq(s.issue("curl")["severity"], "medium")
        _, out, _ = s.k("vuln", "inventory", "host-a", s.old, "--label", "internet_facing=false")
        eq(s.issue("xz-utils")["severity"], "medium")
        # a label given keeps the asset's others
        s.k("vuln", "inventory", "host-a", s.old, "--label", "team=infra")
        import sqlite3
        db = sqlite3.connect(os.path.join(s.data, "koban.db"))
        (labels,) = db.execute("SELECT labels FROM vuln_asset WHERE name = 'host-a'").fetchone()
        db.close()
        eq(json.loads(labels), {"internet_facing": "false", "team": "infra"})
        _, out, _ = s.k("vuln", "inventory", "edge-1", s.old, "--label", "internet_facing=true")
        eq(s.issue_on("xz-utils", "edge-1")["severity"], "high")
        eq(s.issue_on("curl", "edge-1")["severity"], "medium")
        kev = write(s.dir, "kev/known_exploited_vulnerabilities.json", {
            "title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2024.04.01",
            "count": 1, "vulnerabilities": [{"cveID": "CVE-2024-3094", "vendorProject": "Tukaani",
                                              "product": "xz", "dateAdded": "2024-04-01",
                                              "dueDate": "2024-04-22",
                                              "knownRansomwareCampaignUse": "Unknown"}]})
        _, out, _ = s.k("vuln", "sync", "--offline", os.path.dirname(kev))
        check("kev: ok" in out, out)
        eq(s.issue_on("xz-utils", "edge-1")["severity"], "critical")
        eq(s.issue("xz-utils")["severity"], "critical")
    finally:
        s.cleanup()

def test_serve_running():
    s = Store()
    s.load()
    d = Daemon(data=s.data, syslog=False, spool=False)
    try:
        d.start()
        # the CLI sends the inventory to the daemon, labels and all
        _, out, err = s.k("vuln", "inventory", "host-a", s.new, "--label", "internet_facing=true",
                          "--label", "team=infra", rc=0)
        check("host-a: 3 packages; findings: 0 new, 0 updated, 1 resolved (by koban serve at"
              in out, out + err)
        check("upgraded: xz-utils 5.6.0-0.2 -> 5.6.1+really5.4.5-1" in out, out)
        wait_for(lambda: s.issue("xz-utils")["state"] == "closed", msg="xz closed by the daemon")
        import sqlite3
        db = sqlite3.connect(os.path.join(s.data, "koban.db"))
        (labels,) = db.execute("SELECT labels FROM vuln_asset WHERE name = 'host-a'").fetchone()
        db.close()
        eq(json.loads(labels), {"internet_facing": "true", "team": "infra"})
        # triage writes the store directly: fine while serve runs
        curl = s.issue("curl")
        s.k("vuln", "triage", str(curl["id"]), "--status", "under_investigation")
        status, _, body = d.request("POST", "/v1/inventory/host-b?format=dpkg", STATUS_OLD)
        if status == 404:
            raise Skip("POST /v1/inventory answers 404: api_vuln is not wired into "
                       "koban serve yet")
        eq(status, 200, body)
        ans = json.loads(body)
        eq((ans["packages"], ans["new"], ans["resolved"]), (3, 2, 0))
        eq(len(ans["changes"]), 2)
        idents = sorted(i for i in s.issues() if "asset=host-b" in i)
        eq(len(idents), 2)
        status, _, body = d.request("POST", "/v1/inventory/host-b?format=dpkg", STATUS_NEW)
        eq(status, 200, body)
        eq(json.loads(body)["resolved"], 1)
        status, _, body = d.request("POST", "/v1/inventory/host-b?format=dpkg&filename=st",
                                    "Package: x\nVersion\n")
        eq(status, 400, body)
        bad = json.loads(body)
        check("no package read" in bad["error"] and bad["warnings"][0].startswith("st:"), body)
        status, _, body = d.request("POST", "/v1/inventory/web?format=cyclonedx", "{not json")
        eq(status, 400, body)
        check(json.loads(body)["error"], body)
        status, _, body = d.request("POST", "/v1/inventory/host-b?format=nope", STATUS_OLD)
        eq(status, 400, body)
        status, _, _ = d.request("GET", "/v1/inventory/host-b")
        eq(status, 405)
        eq(d.stop(), 0)
        check("Sanitizer" not in d.tail(), d.tail())
    finally:
        d.kill()
        s.cleanup()


if __name__ == "__main__":
    r = Results()
    for t in (test_lifecycle, test_severity_policies, test_serve_running):
        r.run(t)
    r.done()
