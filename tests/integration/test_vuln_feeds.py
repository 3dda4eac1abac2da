"""`koban vuln sync`: the advisory feeds against a fake feed server on
127.0.0.1 (fakefeed.py) — OSV archive then incremental, NVD windows and
pages, retries (429, 500, a truncated body), a feed that hangs while another
completes, KEV's and EPSS's ETag, EPSS scores in the alerts, and the
offline import giving the same mirror."""
import datetime
import glob
import gzip
import io
import json
import os
import shutil
import tempfile
import time
import zipfile

from fakefeed import FakeFeed
from kobantest import TOP, Results, Skip, check, eq, koban, need_data

FIXTURES = os.path.join(TOP, "tests", "data", "feeds")

ECO = "PyPI"


def osv_records(data):
    recs = {}
    for f in sorted(glob.glob(os.path.join(data, "osv", "records", "*.json"))):
        with open(f, "rb") as fh:
            text = fh.read()
        recs[json.loads(text)["id"]] = text
    return recs


def make_zip(recs):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for rid, text in recs.items():
            z.writestr(rid + ".json", text)
    return b.getvalue()


def nvd_cves(data):
    out = []
    for f in sorted(glob.glob(os.path.join(data, "osv", "nvd", "*.json"))):
        with open(f) as fh:
            out += json.load(fh)["vulnerabilities"]
    return out


def nvd_page(vulns, start, total, per_page):
    return json.dumps({"resultsPerPage": len(vulns), "startIndex": start,
                       "totalResults": total, "format": "NVD_CVE", "version": "2.0",
                       "timestamp": "2026-01-01T00:00:00.000", "vulnerabilities": vulns})


def sync(mirror, fake, *args, check_rc=None, timeout=120):
    base = []
    for f in ("osv", "nvd", "ghsa", "jvn", "kev", "epss"):
        base += ["--base-url", f"{f}={fake.url}"]
    return koban("vuln", "sync", "--mirror", mirror, *base, *args, check_rc=check_rc,
                 timeout=timeout)


def state(mirror):
    with open(os.path.join(mirror, ".koban", "state.json")) as f:
        return json.load(f)


def ids_in(mirror, feed):
    return sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(mirror, feed, "*.json")))


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="koban-feeds-")
        self.mirror = os.path.join(self.dir, "mirror")
        self.fake = FakeFeed()

    def close(self):
        self.fake.stop()
        shutil.rmtree(self.dir)


def serve_osv(fake, recs, csv_lines):
    fake.put(f"/{ECO}/all.zip", make_zip(recs))
    fake.put(f"/{ECO}/modified_id.csv", "".join(f"{t},{i}\n" for t, i in csv_lines))
    for rid, text in recs.items():
        fake.put(f"/{ECO}/{rid}.json", text)


def test_osv_archive_then_incremental():
    data = need_data()
    recs = osv_records(data)
    env = Env()
    try:
        ids = sorted(recs)
        old = [("2024-01-0%dT00:00:00Z" % (1 + i % 3), rid) for i, rid in enumerate(ids)]
        old.sort(reverse=True)
        serve_osv(env.fake, recs, old)
        rc, out, err = sync(env.mirror, env.fake, "--feed", "osv", "--osv-ecosystem", ECO)
        eq(rc, 0, out + err)
        eq(ids_in(env.mirror, "osv"), sorted(ids))
        eq(state(env.mirror)["osv"][f"cursor:{ECO}"], "2024-01-03T00:00:00Z")
        paths = [r.path for r in env.fake.seen()]
        eq(paths, [f"/{ECO}/modified_id.csv", f"/{ECO}/all.zip"])
        # The mirror is what `koban vuln check --osv` reads: nothing in it
        # fails to load (kev.json and state.json are under .koban/).
        req = os.path.join(env.dir, "requirements.txt")
        with open(req, "w") as f:
            f.write("flask==2.0.0\n")
        rc, out, err = koban("vuln", "check", "--osv", env.mirror, req)
        eq(rc, 0, out + err)
        check("not loaded" not in out, out)

        # Two records change (one twice the same second), one is gone (404).
        a, b = ids[0], ids[1]
        changed = dict(recs)
        changed[a] = recs[a].replace(b'"id"', b'"summary": "changed", "id"', 1)
        new = [("2024-02-01T00:00:00Z", a), ("2024-02-01T00:00:00Z", "GONE-1"),
               ("2024-01-15T00:00:00Z", b)] + old
        serve_osv(env.fake, changed, new)
        env.fake.clear()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "osv", "--osv-ecosystem", ECO)
        eq(rc, 0, out + err)
        got = [r.path for r in env.fake.seen()]
        eq(got[0], f"/{ECO}/modified_id.csv")
        eq(sorted(got[1:]), sorted([f"/{ECO}/{a}.json", f"/{ECO}/{b}.json",
                                    f"/{ECO}/GONE-1.json"]))
        eq(got[1], f"/{ECO}/{b}.json", "oldest change first")
        check("GONE-1" in err and "404" in err, err)
        with open(os.path.join(env.mirror, "osv", a + ".json"), "rb") as f:
            check(b'"changed"' in f.read(), "record updated")
        eq(state(env.mirror)["osv"][f"cursor:{ECO}"], "2024-02-01T00:00:00Z")

        # Nothing new: only the list is asked for.
        env.fake.clear()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "osv", "--osv-ecosystem", ECO)
        eq(rc, 0, out + err)
        eq([r.path for r in env.fake.seen()], [f"/{ECO}/modified_id.csv"])
    finally:
        env.close()


def test_osv_failure_keeps_cursor():
    """A record that keeps failing mid-list: the cursor stops before it."""
    data = need_data()
    recs = osv_records(data)
    env = Env()
    try:
        ids = sorted(recs)
        serve_osv(env.fake, recs, [("2024-01-01T00:00:00Z", ids[0])])
        sync(env.mirror, env.fake, "--feed", "osv", "--osv-ecosystem", ECO, check_rc=0)
        new = [("2024-03-01T00:00:00Z", ids[3]), ("2024-02-01T00:00:00Z", ids[2]),
               ("2024-01-10T00:00:00Z", ids[1]), ("2024-01-01T00:00:00Z", ids[0])]
        serve_osv(env.fake, recs, new)
        env.fake.script(f"/{ECO}/{ids[2]}.json", ("status", 500), ("status", 500))
        rc, out, err = sync(env.mirror, env.fake, "--feed", "osv", "--osv-ecosystem", ECO,
                            "--retries", "1")
        eq(rc, 1, out + err)
        check("osv: FAILED" in out, out)
        eq(state(env.mirror)["osv"][f"cursor:{ECO}"], "2024-01-10T00:00:00Z")
        env.fake.clear()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "osv", "--osv-ecosystem", ECO)
        eq(rc, 0, out + err)
        eq([r.path for r in env.fake.seen()],
           [f"/{ECO}/modified_id.csv", f"/{ECO}/{ids[2]}.json", f"/{ECO}/{ids[3]}.json"])
        eq(state(env.mirror)["osv"][f"cursor:{ECO}"], "2024-03-01T00:00:00Z")
    finally:
        env.close()


def parse_nvd_time(s):
    return datetime.datetime.fromisoformat(s)


def test_nvd_windows_and_pages():
    data = need_data()
    cves = nvd_cves(data)[:7]
    env = Env()
    try:
        windows = []

        def answer(req):
            start = req.q("lastModStartDate")
            if start not in windows:
                windows.append(start)
            idx = int(req.q("startIndex"))
            chunk = cves[:5] if len(windows) == 1 else cves[5:]
            return 200, {"Content-Type": "application/json"}, nvd_page(
                chunk[idx:idx + 2], idx, len(chunk), 2)

        env.fake.route("/rest/json/cves/2.0", answer)
        since = (datetime.datetime.now(datetime.timezone.utc) -
                 datetime.timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rc, out, err = sync(env.mirror, env.fake, "--feed", "nvd", "--since", since,
                            "--nvd-api-key", "k-123", "--rate", "nvd=100/1")
        eq(rc, 0, out + err)
        reqs = env.fake.seen("/rest/json/cves/2.0")
        # Window 1: 5 CVEs in pages of 2; window 2: 2 CVEs in one page.
        eq([(r.q("startIndex")) for r in reqs], ["0", "2", "4", "0"])
        check(all(r.headers.get("apikey") == "k-123" for r in reqs), "apiKey header")
        check(all(r.q("resultsPerPage") == "2000" for r in reqs), "resultsPerPage")
        w1s, w1e = parse_nvd_time(reqs[0].q("lastModStartDate")), parse_nvd_time(
            reqs[0].q("lastModEndDate"))
        w2s, w2e = parse_nvd_time(reqs[3].q("lastModStartDate")), parse_nvd_time(
            reqs[3].q("lastModEndDate"))
        check(w1e - w1s <= datetime.timedelta(days=120), "window 1 <= 120 days")
        check(w2e - w2s <= datetime.timedelta(days=120), "window 2 <= 120 days")
        eq(w2s, w1e, "windows are contiguous")
        eq(w1s, parse_nvd_time(since.replace("Z", "+00:00")))
        now = datetime.datetime.now(datetime.timezone.utc)
        check(abs((now - w2e).total_seconds()) < 120, "last window ends now")
        want = sorted(v["cve"]["id"] for v in cves)
        eq(ids_in(env.mirror, "nvd"), want)
        cur = state(env.mirror)["nvd"]["last_modified"]
        eq(parse_nvd_time(cur.replace("Z", "+00:00")), w2e)
        # Without a key, no apiKey header (and the default rate is kept).
        env.fake.clear()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "nvd", "--rate", "nvd=100/1")
        eq(rc, 0, out + err)
        check(all("apikey" not in r.headers for r in env.fake.seen()), "no key")
        eq(parse_nvd_time(env.fake.seen()[0].q("lastModStartDate")), w2e, "resumes at cursor")
    finally:
        env.close()


def test_429_then_success():
    data = need_data()
    recs = osv_records(data)
    env = Env()
    try:
        serve_osv(env.fake, recs, [("2024-01-01T00:00:00Z", sorted(recs)[0])])
        env.fake.script(f"/{ECO}/modified_id.csv", ("status", 429, {"Retry-After": "1"}))
        env.fake.script(f"/{ECO}/all.zip", ("status", 500))
        start = time.time()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "osv", "--osv-ecosystem", ECO)
        eq(rc, 0, out + err)
        lst = env.fake.seen(f"/{ECO}/modified_id.csv")
        eq(len(lst), 2)
        check(lst[1].time - lst[0].time >= 0.9, "Retry-After honoured")
        eq(len(env.fake.seen(f"/{ECO}/all.zip")), 2)
        check(time.time() - start < 30, "bounded")
        eq(len(ids_in(env.mirror, "osv")), len(recs))
    finally:
        env.close()


def test_truncated_body_retried():
    data = need_data()
    recs = osv_records(data)
    env = Env()
    try:
        serve_osv(env.fake, recs, [("2024-01-01T00:00:00Z", sorted(recs)[0])])
        env.fake.script(f"/{ECO}/all.zip", ("truncate",))
        rc, out, err = sync(env.mirror, env.fake, "--feed", "osv", "--osv-ecosystem", ECO)
        eq(rc, 0, out + err)
        eq(len(env.fake.seen(f"/{ECO}/all.zip")), 2)
        eq(len(ids_in(env.mirror, "osv")), len(recs))
    finally:
        env.close()


def test_hang_times_out_other_feed_completes():
    data = need_data()
    recs = osv_records(data)
    cves = nvd_cves(data)[:3]
    env = Env()
    try:
        serve_osv(env.fake, recs, [("2024-01-01T00:00:00Z", sorted(recs)[0])])
        env.fake.script(f"/{ECO}/modified_id.csv", ("hang", 8), ("hang", 8))
        env.fake.route("/rest/json/cves/2.0", lambda req: (
            200, {}, nvd_page(cves, 0, len(cves), 2000)))
        since = (datetime.datetime.now(datetime.timezone.utc) -
                 datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        start = time.time()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "osv", "--feed", "nvd",
                            "--osv-ecosystem", ECO, "--since", since, "--timeout", "1",
                            "--retries", "1", "--rate", "nvd=100/1")
        eq(rc, 1, out + err)
        check(time.time() - start < 20, "bounded by the timeout")
        check("osv: FAILED" in out and "nvd: ok" in out, out)
        eq(ids_in(env.mirror, "osv"), [])
        eq(ids_in(env.mirror, "nvd"), sorted(v["cve"]["id"] for v in cves))
        check("osv" not in state(env.mirror), "no osv cursor")
    finally:
        env.close()


KEV = {"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.01.01",
       "dateReleased": "2026-01-01T00:00:00.000Z", "count": 2, "vulnerabilities": [
           {"cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2",
            "vulnerabilityName": "Apache Log4j2 RCE", "dateAdded": "2021-12-10",
            "shortDescription": "x", "requiredAction": "patch", "dueDate": "2021-12-24",
            "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": ["CWE-20"]},
           {"cveID": "CVE-2024-3094", "vendorProject": "XZ", "product": "XZ Utils",
            "vulnerabilityName": "XZ backdoor", "dateAdded": "2024-04-01",
            "shortDescription": "x", "requiredAction": "patch", "dueDate": "2024-04-22",
            "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": []}]}


def test_kev_etag():
    env = Env()
    try:
        path = "/feeds/known_exploited_vulnerabilities.json"
        env.fake.put(path, json.dumps(KEV), etag='"v1"')
        rc, out, err = sync(env.mirror, env.fake, "--feed", "kev")
        eq(rc, 0, out + err)
        with open(os.path.join(env.mirror, ".koban", "kev.json")) as f:
            kev = json.load(f)
        eq([k["cveID"] for k in kev["vulnerabilities"]], ["CVE-2021-44228", "CVE-2024-3094"])
        eq(kev["vulnerabilities"][0]["knownRansomwareCampaignUse"], "Known")
        eq(state(env.mirror)["kev"]["etag"], '"v1"')
        before = open(os.path.join(env.mirror, ".koban", "state.json")).read()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "kev")
        eq(rc, 0, out + err)
        check("not modified" in out, out)
        eq(env.fake.seen(path)[-1].headers.get("if-none-match"), '"v1"')
        eq(open(os.path.join(env.mirror, ".koban", "state.json")).read(), before)
    finally:
        env.close()


EPSS_PATH = "/epss_scores-current.csv.gz"
EPSS_CSV = ("#model_version:v2023.03.01,score_date:2026-01-01T00:00:00+0000\n"
            "cve,epss,percentile\n"
            "CVE-2021-44228,0.97565,0.99995\n"
            "CVE-2099-0001,0.97234,0.99871\n"
            "CVE-bad,0.5,0.5\n"
            "CVE-2024-3094,0.00043,0.08000\n")


def test_epss_etag():
    """The EPSS file (gzip) into DIR/.koban/epss.csv, a bad row skipped with
    its line; the second sync asks with the ETag and gets 304."""
    env = Env()
    try:
        env.fake.put(EPSS_PATH, gzip.compress(EPSS_CSV.encode()), etag='"e1"')
        rc, out, err = sync(env.mirror, env.fake, "--feed", "epss")
        eq(rc, 0, out + err)
        check("epss: ok, 0 advisories, 0 kev entries, 3 epss scores" in out, out)
        check("line 5: skipped: not a CVE id" in err, err)
        with open(os.path.join(env.mirror, ".koban", "epss.csv")) as f:
            eq(f.read(), "#score_date:2026-01-01T00:00:00+0000\ncve,epss,percentile\n"
                         "CVE-2021-44228,0.97565,0.99995\nCVE-2099-0001,0.97234,0.99871\n"
                         "CVE-2024-3094,0.00043,0.08000\n")
        eq(state(env.mirror)["epss"]["etag"], '"e1"')
        before = open(os.path.join(env.mirror, ".koban", "state.json")).read()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "epss")
        eq(rc, 0, out + err)
        check("not modified" in out, out)
        eq(env.fake.seen(EPSS_PATH)[-1].headers.get("if-none-match"), '"e1"')
        eq(open(os.path.join(env.mirror, ".koban", "state.json")).read(), before)
        # A body that is not EPSS fails the feed and keeps the old file.
        env.fake.put(EPSS_PATH, b"not,a,csv\n", etag='"e2"')
        rc, out, err = sync(env.mirror, env.fake, "--feed", "epss", check_rc=1)
        check("epss: FAILED" in out and "cve,epss,percentile" in out, out)
        eq(state(env.mirror)["epss"]["etag"], '"e1"')
        check(os.path.getsize(os.path.join(env.mirror, ".koban", "epss.csv")) > 100, "kept")
    finally:
        env.close()


def journal_alerts(data):
    rc, out, err = koban("journal", "cat", "--data-dir", data)
    eq(rc, 0, out + err)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_epss_into_store():
    """EPSS into koban's store with an advisory in the same sync: the
    finding's alert carries the score of its CVE alias (EPSS syncs first);
    a policy may use it (epss|gte); a second sync gets 304 and tells
    nothing again."""
    env = Env()
    try:
        rec = {"id": "GHSA-test-0001", "modified": "2024-01-02T00:00:00Z",
               "aliases": ["CVE-2099-0001"], "summary": "flask test advisory",
               "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"},
                             "ranges": [{"type": "ECOSYSTEM",
                                         "events": [{"introduced": "0"}, {"fixed": "2.2.5"}]}]}]}
        env.fake.put("/PyPI/all.zip", make_zip({rec["id"]: json.dumps(rec).encode()}))
        env.fake.put("/PyPI/modified_id.csv", "2024-01-02T00:00:00Z,GHSA-test-0001\n")
        env.fake.put(EPSS_PATH, gzip.compress(EPSS_CSV.encode()), etag='"e1"')
        data = os.path.join(env.dir, "var")
        pol = os.path.join(env.dir, "policies")
        os.makedirs(pol)
        with open(os.path.join(pol, "epss.yml"), "w") as f:
            f.write("id: epss-likely\ntitle: likely exploited\nsource: vuln\n"
                    "detection:\n  likely:\n    epss|gte: 0.5\n  condition: likely\n"
                    "labels:\n  epss: likely\n")
        cfg = os.path.join(env.dir, "koban.yaml")
        with open(cfg, "w") as f:
            f.write(f'vuln:\n  feeds: "osv,epss"\n  osv_ecosystems: "PyPI"\n'
                    f'  osv_url: "{env.fake.url}"\n  epss_url: "{env.fake.url}"\n'
                    f'policies:\n  dir: "{pol}"\n')
        req = os.path.join(env.dir, "requirements.txt")
        with open(req, "w") as f:
            f.write("flask==2.0.0\n")
        rc, out, err = koban("vuln", "inventory", "web-1", req, "--kind", "repository",
                             "--config", cfg, "--data-dir", data)
        eq(rc, 0, out + err)
        rc, out, err = koban("vuln", "sync", "--config", cfg, "--data-dir", data)
        eq(rc, 0, out + err)
        check("epss: ok" in out and "osv: ok, 1 advisories" in out, out)
        check("findings: 1 new" in out, out)
        eq([r.path for r in env.fake.seen()],
           [EPSS_PATH, "/PyPI/modified_id.csv", "/PyPI/all.zip"])
        alerts = [a for a in journal_alerts(data) if a.get("source") == "vuln"]
        eq(len(alerts), 1, alerts)
        fields = alerts[0]["fields"]
        if "epss" not in fields:
            raise Skip("the engine does not hand the store to the alert writer "
                       "(ve_alert_write_scored) yet: no epss field")
        eq((fields["epss"], fields["epss_percentile"]), ("0.97234", "0.99871"))
        rc, out, err = koban("issues", "--data-dir", data, "--json", "--config", cfg)
        issues = [json.loads(line) for line in out.splitlines() if line.strip()]
        eq([i["labels"].get("epss") for i in issues], ["likely"], out)
        env.fake.clear()
        rc, out, err = koban("vuln", "sync", "--config", cfg, "--data-dir", data)
        eq(rc, 0, out + err)
        check("findings: 0 new" in out, out)
        eq(env.fake.seen(EPSS_PATH)[-1].headers.get("if-none-match"), '"e1"')
        eq(len([a for a in journal_alerts(data) if a.get("source") == "vuln"]), 1)
    finally:
        env.close()


def test_offline_same_mirror():
    data = need_data()
    recs = osv_records(data)
    cves = nvd_cves(data)
    env = Env()
    try:
        serve_osv(env.fake, recs, [("2024-01-01T00:00:00Z", sorted(recs)[0])])
        env.fake.route("/rest/json/cves/2.0", lambda req: (
            200, {}, nvd_page(cves, 0, len(cves), 2000)))
        env.fake.put("/feeds/known_exploited_vulnerabilities.json", json.dumps(KEV))
        env.fake.put(EPSS_PATH, gzip.compress(EPSS_CSV.encode()))
        env.fake.put("/advisories", fixture("ghsa_page.json"))
        over = fixture("jvn_overview.xml").replace(b'totalRes="153"', b'totalRes="3"')
        env.fake.route("/myjvn", lambda req: (200, {}, over if req.q(
            "method") == "getVulnOverviewList" else fixture("jvn_detail.xml")))
        since = day_ago(0)
        rc, out, err = sync(env.mirror, env.fake, "--osv-ecosystem", ECO, "--since", since,
                            "--rate", "nvd=100/1")
        eq(rc, 0, out + err)
        src = os.path.join(env.dir, "offline")
        os.makedirs(os.path.join(src, "sub"))
        with open(os.path.join(src, "osv-all.zip"), "wb") as f:
            f.write(make_zip(recs))
        with open(os.path.join(src, "sub", "page1"), "w") as f:
            f.write(nvd_page(cves, 0, len(cves), 2000))
        with open(os.path.join(src, "kev.json"), "w") as f:
            json.dump(KEV, f)
        with open(os.path.join(src, "sub", "scores.gz"), "wb") as f:
            f.write(gzip.compress(EPSS_CSV.encode()))
        with open(os.path.join(src, "sub", "github.json"), "wb") as f:
            f.write(fixture("ghsa_page.json"))
        with open(os.path.join(src, "jvn.xml"), "wb") as f:
            f.write(fixture("jvn_detail.xml"))
        with open(os.path.join(src, "README.txt"), "w") as f:
            f.write("not a feed\n")
        off = os.path.join(env.dir, "offline-mirror")
        rc, out, err = koban("vuln", "sync", "--mirror", off, "--offline", src)
        eq(rc, 0, out + err)
        check("README.txt" in err, err)
        for feed in ("osv", "nvd", "ghsa", "jvn"):
            check(ids_in(off, feed), feed)
            eq(ids_in(off, feed), ids_in(env.mirror, feed))
            for i in ids_in(off, feed):
                with open(os.path.join(off, feed, i + ".json"), "rb") as a, \
                        open(os.path.join(env.mirror, feed, i + ".json"), "rb") as b:
                    eq(a.read(), b.read(), f"{feed}/{i}")
        with open(os.path.join(off, ".koban", "kev.json")) as a, \
                open(os.path.join(env.mirror, ".koban", "kev.json")) as b:
            eq(json.load(a), json.load(b))
        with open(os.path.join(off, ".koban", "epss.csv")) as a, \
                open(os.path.join(env.mirror, ".koban", "epss.csv")) as b:
            eq(a.read(), b.read())
    finally:
        env.close()


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def day_ago(n):
    return (datetime.datetime.now(datetime.timezone.utc) -
            datetime.timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_ghsa_link_paging_and_cursor():
    page = json.loads(fixture("ghsa_page.json"))
    env = Env()
    try:
        pages = [page[0:2], page[2:4], page[4:]]

        def answer(req):
            n = int(req.q("page") or "0")
            h = {}
            if n + 1 < len(pages):
                h["Link"] = (f'<{env.fake.url}/advisories?per_page=100&page={n + 1}>; '
                             f'rel="next", <{env.fake.url}/advisories?page=0>; rel="first"')
            return 200, h, json.dumps(pages[n])

        env.fake.route("/advisories", answer)
        rc, out, err = sync(env.mirror, env.fake, "--feed", "ghsa", "--ghsa-token", "tok-1")
        eq(rc, 0, out + err)
        reqs = env.fake.seen("/advisories")
        eq([r.q("page") for r in reqs], [None, "1", "2"])
        eq(reqs[0].q("sort"), "updated")
        eq(reqs[0].q("direction"), "asc")
        eq(reqs[0].q("updated"), None)
        check(all(r.headers.get("authorization") == "Bearer tok-1" for r in reqs), "token")
        # The fixture's fourth advisory is malformed: skipped with a warning.
        eq(ids_in(env.mirror, "ghsa"), sorted(a["ghsa_id"] for a in page
                                              if a["ghsa_id"] != "GHSA-kb01-aaaa-0004"))
        check("GHSA-kb01-aaaa-0004" in err and "skipped" in err, err)
        newest = max(page, key=lambda a: a["updated_at"])["updated_at"]
        cur = state(env.mirror)["ghsa"]["updated"]
        eq(cur, max(a["updated_at"] for a in pages[-1]))
        check(cur <= newest, cur)
        env.fake.clear()
        rc, out, err = sync(env.mirror, env.fake, "--feed", "ghsa")
        eq(rc, 0, out + err)
        r0 = env.fake.seen("/advisories")[0]
        eq(r0.q("updated"), ">=" + cur)
        check("authorization" not in r0.headers, "no token")
        # A first sync with --since asks from then.
        env.fake.clear()
        rc, out, err = koban("vuln", "sync", "--mirror", os.path.join(env.dir, "m2"),
                             "--feed", "ghsa", "--base-url", f"ghsa={env.fake.url}",
                             "--since", "2031-01-02T03:04:05Z")
        eq(rc, 0, out + err)
        eq(env.fake.seen("/advisories")[0].q("updated"), ">=2031-01-02T03:04:05Z")
    finally:
        env.close()


def test_ghsa_next_outside_base_not_followed():
    page = json.loads(fixture("ghsa_page.json"))
    env = Env()
    try:
        env.fake.route("/advisories", lambda req: (
            200, {"Link": '<http://192.0.2.1/advisories?page=2>; rel="next"'},
            json.dumps(page)))
        rc, out, err = sync(env.mirror, env.fake, "--feed", "ghsa", "--ghsa-token", "t")
        eq(rc, 0, out + err)
        check("not followed" in err, err)
        eq(len(env.fake.seen()), 1)
    finally:
        env.close()


def test_jvn_windows_and_details():
    env = Env()
    try:
        over = fixture("jvn_overview.xml").replace(b'totalRes="153"', b'totalRes="3"').replace(
            b'firstRes="51"', b'firstRes="1"')

        def answer(req):
            if req.q("method") == "getVulnOverviewList":
                return 200, {}, over
            return 200, {}, fixture("jvn_detail.xml")

        env.fake.route("/myjvn", answer)
        rc, out, err = sync(env.mirror, env.fake, "--feed", "jvn", "--since", day_ago(1),
                            "--window-days", "1")
        eq(rc, 0, out + err)
        reqs = env.fake.seen("/myjvn")
        overview = [r for r in reqs if r.q("method") == "getVulnOverviewList"]
        detail = [r for r in reqs if r.q("method") == "getVulnDetailInfo"]
        eq(len(overview), 2, "one window a day: yesterday and today")
        eq(len(detail), 2)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        y = today - datetime.timedelta(days=1)
        eq((overview[0].q("datePublishedStartY"), overview[0].q("datePublishedStartM"),
            overview[0].q("datePublishedStartD")), (str(y.year), str(y.month), str(y.day)))
        eq(overview[1].q("datePublishedEndD"), str(today.day))
        eq(overview[0].q("startItem"), "1")
        eq(overview[0].q("feed"), "hnd")
        eq(detail[0].q("vulnId").split(),
           ["JVNDB-2031-000101", "JVNDB-2031-000102", "JVNDB-2031-000103"])
        check(len(ids_in(env.mirror, "jvn")) >= 1, str(ids_in(env.mirror, "jvn")))
        eq(state(env.mirror)["jvn"]["updated"][:10], today.isoformat())
    finally:
        env.close()


def test_usage():
    rc, _, err = koban("vuln", "sync", "extra-argument", "--data-dir", "/nonexistent-x")
    eq(rc, 2, err)
    rc, _, err = koban("vuln", "sync", "--data-dir", "/nonexistent-x", "--feed", "nope")
    eq(rc, 2, err)
    rc, _, err = koban("vuln", "sync", "--mirror", "/nonexistent-x", "--feed", "nope")
    eq(rc, 2, err)
    rc, _, err = koban("vuln", "sync", "--mirror", "/nonexistent-x", "--base-url", "osv=ftp://x")
    eq(rc, 2, err)
    d = tempfile.mkdtemp(prefix="koban-feeds-")
    try:
        rc, _, err = koban("vuln", "sync", "--mirror", os.path.join(d, "m"), "--offline", d)
        eq(rc, 2, err)
        check("inside" in err, err)
    finally:
        shutil.rmtree(d)


def test_sync_into_store():
    """Without --mirror: the feeds named in koban.yaml (vuln.*), from the
    fake server, into koban's store; an asset that runs an affected
    version gets its issue, and a second sync with nothing new changes
    nothing."""
    env = Env()
    try:
        rec = {"id": "GHSA-test-0001", "modified": "2024-01-02T00:00:00Z",
               "aliases": ["CVE-2099-0001"], "summary": "flask test advisory",
               "severity": [{"type": "CVSS_V3",
                             "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
               "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"},
                             "ranges": [{"type": "ECOSYSTEM",
                                         "events": [{"introduced": "0"}, {"fixed": "2.2.5"}]}]}]}
        recs = {rec["id"]: json.dumps(rec).encode()}
        env.fake.put("/PyPI/all.zip", make_zip(recs))
        env.fake.put("/PyPI/modified_id.csv", "2024-01-02T00:00:00Z,GHSA-test-0001\n")
        data = os.path.join(env.dir, "var")
        cfg = os.path.join(env.dir, "koban.yaml")
        with open(cfg, "w") as f:
            f.write(f'vuln:\n  feeds: "osv"\n  osv_ecosystems: "PyPI"\n'
                    f'  osv_url: "{env.fake.url}"\n')
        req = os.path.join(env.dir, "requirements.txt")
        with open(req, "w") as f:
            f.write("flask==2.0.0\nrequests==2.31.0\n")
        rc, out, err = koban("vuln", "inventory", "web-1", req, "--kind", "repository",
                             "--config", cfg, "--data-dir", data)
        eq(rc, 0, out + err)
        rc, out, err = koban("vuln", "sync", "--config", cfg, "--data-dir", data)
        eq(rc, 0, out + err)
        check("osv: ok, 1 advisories" in out, out)
        check("findings: 1 new" in out, out)
        rc, out, err = koban("issues", "--data-dir", data, "--json")
        issues = [json.loads(l) for l in out.splitlines() if l.strip()]
        eq([(i["source"], i["title"]) for i in issues],
           [("vuln", "CVE-2099-0001 in flask 2.0.0 on web-1 (fixed in 2.2.5)")])
        eq([r.path for r in env.fake.seen()], ["/PyPI/modified_id.csv", "/PyPI/all.zip"])
        env.fake.clear()
        rc, out, err = koban("vuln", "sync", "--config", cfg, "--data-dir", data)
        eq(rc, 0, out + err)
        check("findings: 0 new" in out, out)
        eq([r.path for r in env.fake.seen()], ["/PyPI/modified_id.csv"], "cursor kept in store")
    finally:
        env.close()


def test_serve_syncs_on_schedule():
    """koban serve with vuln.sync_interval_s: an inventory posted to the API,
    then the scheduled sync brings an advisory that affects it: the issue
    appears without a restart, and the sync is counted."""
    from kobantest import Daemon, wait_for
    env = Env()
    d = None
    try:
        rec = {"id": "GHSA-test-0002", "modified": "2024-01-02T00:00:00Z",
               "aliases": ["CVE-2099-0002"],
               "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                             "ranges": [{"type": "SEMVER",
                                         "events": [{"introduced": "0"}, {"fixed": "1.3.1"}]}]}]}
        env.fake.put("/npm/all.zip", make_zip({rec["id"]: json.dumps(rec).encode()}))
        env.fake.put("/npm/modified_id.csv", "2024-01-02T00:00:00Z,GHSA-test-0002\n")
        cfg = os.path.join(env.dir, "koban.yaml")
        with open(cfg, "w") as f:
            f.write(f'vuln:\n  feeds: "osv"\n  osv_ecosystems: "npm"\n'
                    f'  osv_url: "{env.fake.url}"\n  sync_interval_s: 3600\n')
        d = Daemon(data=os.path.join(env.dir, "var"), config=cfg, syslog=False,
                   spool=False).start()
        lock = json.dumps({"name": "app", "lockfileVersion": 3, "packages": {
            "": {"name": "app"}, "node_modules/left-pad": {"version": "1.3.0"}}})
        status, _, body = d.request("POST", "/v1/inventory/app-repo?kind=repository"
                                    "&format=package-lock", lock)
        eq(status, 200, body)
        wait_for(lambda: [i for i in d.issues("--state", "all") if i["source"] == "vuln"],
                 timeout=30, msg="the issue from the scheduled sync")
        eq(d.metrics().get('koban_vuln_sync_runs_total{result="ok"}'), 1.0)
        eq([r.path for r in env.fake.seen()], ["/npm/modified_id.csv", "/npm/all.zip"])
    finally:
        if d:
            d.stop()
            d.cleanup()
        env.close()


def test_sync_handed_to_serve():
    """koban vuln sync while koban serve runs on the data_dir (no schedule):
    the daemon syncs at once with its koban.yaml's feeds, the command waits
    for the run and prints what it did."""
    from kobantest import Daemon, wait_for
    env = Env()
    d = None
    try:
        rec = {"id": "GHSA-test-0003", "modified": "2024-01-02T00:00:00Z",
               "aliases": ["CVE-2099-0003"],
               "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                             "ranges": [{"type": "SEMVER",
                                         "events": [{"introduced": "0"}, {"fixed": "1.3.1"}]}]}]}
        env.fake.put("/npm/all.zip", make_zip({rec["id"]: json.dumps(rec).encode()}))
        env.fake.put("/npm/modified_id.csv", "2024-01-02T00:00:00Z,GHSA-test-0003\n")
        cfg = os.path.join(env.dir, "koban.yaml")
        with open(cfg, "w") as f:
            f.write(f'http:\n  token: "t0k"\nvuln:\n  feeds: "osv"\n  osv_ecosystems: "npm"\n'
                    f'  osv_url: "{env.fake.url}"\n')
        data = os.path.join(env.dir, "var")
        d = Daemon(data=data, config=cfg, syslog=False, spool=False).start()
        lock = json.dumps({"name": "app", "lockfileVersion": 3, "packages": {
            "": {"name": "app"}, "node_modules/left-pad": {"version": "1.3.0"}}})
        lf = os.path.join(env.dir, "package-lock.json")
        with open(lf, "w") as f:
            f.write(lock)
        rc, out, err = koban("vuln", "inventory", "app", lf, "--kind", "repository",
                             "--config", cfg, "--data-dir", data)
        eq(rc, 0, out + err)
        eq(env.fake.seen(), [], "no sync before it is asked for")
        rc, out, err = koban("vuln", "sync", "--config", cfg, "--data-dir", data, timeout=120)
        eq(rc, 0, out + err)
        check("1 advisories stored" in out and "findings: 1 new" in out and "by koban serve at"
              in out, out)
        wait_for(lambda: [i for i in d.issues("--state", "all") if i["source"] == "vuln"],
                 timeout=30, msg="the issue from the handed-over sync")
        eq(d.metrics().get('koban_vuln_sync_runs_total{result="ok"}'), 1.0)
        rc, out, err = koban("vuln", "sync", "--offline", env.dir, "--config", cfg,
                             "--data-dir", data)
        eq(rc, 1)
        check("stop it first" in err, err)
    finally:
        if d:
            d.stop()
            d.cleanup()
        env.close()


if __name__ == "__main__":
    r = Results()
    for t in (test_usage, test_sync_into_store, test_serve_syncs_on_schedule,
              test_sync_handed_to_serve, test_osv_archive_then_incremental, test_osv_failure_keeps_cursor,
              test_nvd_windows_and_pages, test_429_then_success, test_truncated_body_retried,
              test_hang_times_out_other_feed_completes, test_kev_etag, test_epss_etag,
              test_epss_into_store,
              test_ghsa_link_paging_and_cursor, test_ghsa_next_outside_base_not_followed,
              test_jvn_windows_and_details, test_offline_same_mirror):
        r.run(t)
    r.done()
