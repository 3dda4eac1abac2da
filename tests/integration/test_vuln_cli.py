"""`koban vuln check`: inventories matched against an OSV directory, findings
as text, NDJSON and SARIF, exit codes with --fail-on, load errors named."""
import glob
import json
import os
import shutil
import tempfile

from kobantest import Results, check, eq, koban, need_data

V31_CRIT = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V31_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # 7.5

RECORDS = {
    "npm/GHSA-lp.json": {
        "id": "GHSA-lp", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-100"],
        "summary": "left-pad pads wrongly",
        "severity": [{"type": "CVSS_V3", "score": V31_CRIT}],
        "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"},
                                                               {"fixed": "1.3.0"}]}]}]},
    "nvd/CVE-2024-100.json": {
        "id": "CVE-2024-100", "modified": "2024-01-02T00:00:00Z",
        "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"},
                                                               {"fixed": "1.3.0"}]}]}]},
    "pypi/PYSEC-1.json": {
        "id": "PYSEC-1", "modified": "2024-01-01T00:00:00Z",
        "database_specific": {"severity": "MODERATE"},
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Requests_Toolbelt"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
                                                                  {"fixed": "0.10.1"}]}]}]},
    "pypi/PYSEC-2.json": {
        "id": "PYSEC-2", "modified": "2024-01-01T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": V31_HIGH}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "django"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "4.0"},
                                                                  {"last_affected": "4.2.1"}]}]}]},
    "pypi/PYSEC-GONE.json": {
        "id": "PYSEC-GONE", "modified": "2024-01-01T00:00:00Z",
        "withdrawn": "2024-03-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "django"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]},
}

LOCK = {
    "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
    "packages": {
        "": {"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "^1.2.0"}},
        "node_modules/left-pad": {"version": "1.2.0", "resolved":
                                  "https://registry.npmjs.org/left-pad/-/left-pad-1.2.0.tgz"},
        "node_modules/is-odd": {"version": "3.0.1"},
    },
}

REQS = "requests-toolbelt==0.9.1\ndjango==4.2.1\nflask==2.0.0\n"


def setup():
    d = tempfile.mkdtemp(prefix="koban-vuln-")
    osv = os.path.join(d, "osv")
    for rel, rec in RECORDS.items():
        p = os.path.join(osv, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            json.dump(rec, f)
    with open(os.path.join(d, "package-lock.json"), "w") as f:
        json.dump(LOCK, f)
    with open(os.path.join(d, "requirements.txt"), "w") as f:
        f.write(REQS)
    return d, osv


def test_text_and_exit_codes():
    d, osv = setup()
    try:
        lock = os.path.join(d, "package-lock.json")
        reqs = os.path.join(d, "requirements.txt")
        rc, out, err = koban("vuln", "check", "--osv", osv, lock, reqs)
        eq(rc, 0, f"no --fail-on: exit 0\n{err}")
        lines = out.strip().splitlines()
        eq(len(lines), 4, out)  # three findings and the summary
        # sorted by severity, then package
        check(lines[0].startswith("critical") and "left-pad 1.2.0" in lines[0], lines[0])
        check("CVE-2024-100 (GHSA-lp)" in lines[0] and "fixed in 1.3.0" in lines[0], lines[0])
        check(lock in lines[0] and " npm " in lines[0], lines[0])
        check(lines[1].startswith("high") and "django 4.2.1" in lines[1], lines[1])
        check("no fix" in lines[1] and "PyPI" in lines[1], lines[1])
        check(lines[2].startswith("medium") and "requests-toolbelt 0.9.1" in lines[2], lines[2])
        check("fixed in 0.10.1" in lines[2], lines[2])
        check(lines[3].startswith("3 findings (1 critical, 1 high, 1 medium, 0 low) in 2 files"),
              lines[3])
        check("PYSEC-GONE" not in out, "withdrawn record dropped")

        eq(koban("vuln", "check", "--osv", osv, "--fail-on", "high", lock, reqs)[0], 1)
        eq(koban("vuln", "check", "--osv", osv, "--fail-on", "critical", reqs)[0], 0)
        eq(koban("vuln", "check", "--osv", osv, "--fail-on", "medium", reqs)[0], 1)
        eq(koban("vuln", "check", "--osv", osv, "--fail-on", "none", lock)[0], 0)
        eq(koban("vuln", "check", "--osv", osv, "--fail-on", "bad", lock)[0], 2)
        eq(koban("vuln", "check", lock)[0], 2, "--osv is required")
        eq(koban("vuln", "check", "--osv", osv)[0], 2, "a FILE is required")
        eq(koban("vuln", "check", "--osv", os.path.join(d, "nope"), lock)[0], 2)
        # --format forces the parser: requirements.txt read as a lockfile fails
        rc, _, err = koban("vuln", "check", "--osv", osv, "--format", "package-lock", reqs)
        eq(rc, 2, err)
        rc, out, _ = koban("vuln", "check", "--osv", osv, "--format", "requirements.txt", reqs)
        eq(rc, 0)
        check("2 findings" in out, out)
    finally:
        shutil.rmtree(d)


def test_json_lines():
    d, osv = setup()
    try:
        rc, out, err = koban("vuln", "check", "--osv", osv, "--json", "--fail-on", "low",
                             os.path.join(d, "package-lock.json"),
                             os.path.join(d, "requirements.txt"))
        eq(rc, 1)
        rows = [json.loads(line) for line in out.splitlines()]
        eq(len(rows), 3)
        eq([r["package"] for r in rows], ["left-pad", "django", "requests-toolbelt"])
        eq(rows[0]["advisory"], "CVE-2024-100")
        eq(rows[0]["aliases"], ["GHSA-lp"])
        eq(rows[0]["severity"], "critical")
        eq(rows[0]["cvss_score"], 9.8)
        eq(rows[0]["fixed"], "1.3.0")
        eq(rows[0]["ecosystem"], "npm")
        eq(rows[1]["fixed"], None)
        eq(rows[2]["severity_from"], "database_specific")
        eq(rows[2]["cvss_score"], None)
        check("3 findings" in err, err)
    finally:
        shutil.rmtree(d)


def test_sarif():
    d, osv = setup()
    try:
        reqs = os.path.join(d, "requirements.txt")
        rc, out, err = koban("vuln", "check", "--osv", osv, "--sarif",
                             os.path.join(d, "package-lock.json"), reqs)
        eq(rc, 0, err)
        doc = json.loads(out)
        eq(doc["version"], "2.1.0")
        eq(len(doc["runs"]), 1)
        run = doc["runs"][0]
        eq(run["tool"]["driver"]["name"], "koban")
        rules = run["tool"]["driver"]["rules"]
        eq(sorted(r["id"] for r in rules), ["CVE-2024-100", "PYSEC-1", "PYSEC-2"])
        eq(len(run["results"]), 3)
        for res in run["results"]:
            eq(rules[res["ruleIndex"]]["id"], res["ruleId"])
        eq(run["results"][0]["ruleId"], "CVE-2024-100")
        eq(run["results"][0]["level"], "error")
        eq(run["results"][2]["level"], "warning")
        loc = run["results"][2]["locations"][0]["physicalLocation"]
        eq(loc["artifactLocation"]["uri"], reqs)
        eq(loc["region"]["startLine"], 1, "requirements.txt gives the line")
    finally:
        shutil.rmtree(d)


def test_broken_record_and_unreadable_inventory():
    d, osv = setup()
    try:
        bad = os.path.join(osv, "npm", "broken.json")
        with open(bad, "w") as f:
            f.write('{"id": "BROKEN", "affected": []}')
        lock = os.path.join(d, "package-lock.json")
        rc, out, err = koban("vuln", "check", "--osv", osv, lock)
        eq(rc, 2, "a record that does not parse is a load error")
        check(bad in err and "modified" in err, err)
        check("critical" in out and "left-pad" in out, "the good records still match")
        os.unlink(bad)
        missing = os.path.join(d, "no-such-lock.json")
        rc, out, err = koban("vuln", "check", "--osv", osv, missing, lock)
        eq(rc, 2)
        check(missing in err, err)
        unknown = os.path.join(d, "notes.bin")
        with open(unknown, "w") as f:
            f.write("hello\n")
        rc, _, err = koban("vuln", "check", "--osv", osv, unknown)
        eq(rc, 2)
        check("--format" in err, err)
    finally:
        shutil.rmtree(d)


def test_shared_data():
    data = need_data()
    osv = os.path.join(data, "osv", "records")
    files = sorted(glob.glob(os.path.join(data, "inventory", "*.json")))
    check(files, "inventory files")
    rc, out, err = koban("vuln", "check", "--osv", osv, *files)
    eq(rc, 0, err)
    check(f"in {len(files)} files" in out, out)
    rc, out, err = koban("vuln", "check", "--osv", osv, "--sarif", *files)
    eq(rc, 0, err)
    eq(json.loads(out)["version"], "2.1.0")


def test_help():
    rc, out, _ = koban("help", "vuln")
    eq(rc, 0)
    check("--fail-on" in out and "--sarif" in out, out)
    rc, out, _ = koban("--help")
    check("vuln" in out, out)


if __name__ == "__main__":
    r = Results()
    for t in (test_text_and_exit_codes, test_json_lines, test_sarif,
              test_broken_record_and_unreadable_inventory, test_shared_data, test_help):
        r.run(t)
    r.done()
