"""The rules command line: koban test (rule files with tests), koban rules
lint / explain / match, and match against the reference results of
../shared/data/expected."""
import glob
import json
import os
import re
import shutil
import tempfile

from kobantest import TOP, Results, check, eq, koban, need_data

EXAMPLES = os.path.join(TOP, "examples", "rules")
STOPPED = os.path.join(EXAMPLES, "aws_cloudtrail_logging_stopped.yml")


def counts(out):
    """(passed, failed) from the last line of koban test."""
    last = out.strip().splitlines()[-1]
    m = re.fullmatch(r"(\d+) passed, (\d+) failed", last)
    check(m, f"last line is 'N passed, N failed': {last!r}")
    return int(m.group(1)), int(m.group(2))


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="koban-rules-")
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)

    def write(self, name, text):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(text)
        return p


def test_help():
    rc, out, _ = koban("--help")
    eq(rc, 0)
    check("  test " in out and "  rules " in out, out)
    rc, out, _ = koban("help", "rules")
    eq(rc, 0)
    for word in ("lint", "explain", "match", "--source", "EVERY rule runs on EVERY event"):
        check(word in out, f"help rules mentions {word}")
    eq(koban("rules")[0], 2, "no subcommand")
    eq(koban("rules", "frob")[0], 2, "unknown subcommand")
    eq(koban("rules", "match", EXAMPLES)[0], 2, "match without --")
    rc, _, err = koban("rules", "match", "--source", "nosuch", EXAMPLES, "--", STOPPED)
    eq(rc, 2, "unknown source")
    check("unknown source" in err, err)
    eq(koban("test")[0], 2, "test without a path")
    rc, out, _ = koban("help", "test")
    eq(rc, 0)
    for word in ("--no-stock-policies", "--policies DIR", "rule_severity", "FINAL severity"):
        check(word in out, f"help test mentions {word}")


def test_examples_pass():
    files = glob.glob(os.path.join(EXAMPLES, "*.yml"))
    check(len(files) >= 3, f"example rule files: {files}")
    rc, out, err = koban("test", EXAMPLES)
    eq(rc, 0, f"koban test examples/rules: {out}{err}")
    passed, failed = counts(out)
    eq(failed, 0)
    check(passed >= 10, f"{passed} example tests")
    rc, out, _ = koban("test", "-v", STOPPED)
    eq(rc, 0)
    check(out.count("\nok   ") + out.startswith("ok   ") == counts(out)[0], out)
    rc, out, _ = koban("rules", "lint", EXAMPLES)
    eq(rc, 0, out)
    check(out.strip().splitlines()[-1].endswith("0 errors, 0 warnings"), out)


def test_failing_test_prints_the_diff():
    with TempDir() as d:
        with open(STOPPED) as f:
            text = f.read()
        # the test of GetTrailStatus now claims a match, the first one a wrong severity
        text = text.replace("match: false\n", "match: true\n", 2)
        text = text.replace("severity: high", "severity: critical")
        p = d.write("flipped.yml", text)
        rc, out, err = koban("test", p)
        eq(rc, 1, out + err)
        passed, failed = counts(out)
        eq((passed, failed), (1, 3))
        check(f"FAIL {p}:" in out, out)
        check('test "reading the trail status" of rule "CloudTrail logging stopped or changed"'
              in out, out)
        check("expected: match; got: no match" in out, out)
        check('no   eventName: found "GetTrailStatus"; wanted "StopLogging", "DeleteTrail"' in out,
              out)
        check('yes  errorCode|exists: found "AccessDenied"; wanted true' in out, out)
        check("condition: selection and not failed -> no match" in out, out)
        check("  severity: want critical, got high (rule level high; no policy changed it)"
              in out, out)
        check("  alert (cloudtrail): rule level high\n" in out, out)


# A GuardDuty rule at level medium. The stock policies give a sample
# finding severity none (guardduty-sample-findings, after the severity
# bands); a real finding of severity 5.0 stays medium.
GD_RULE = """title: Credentials used from outside AWS
id: gd-exfil-1
logsource: {product: aws, service: guardduty}
detection:
    sel:
        type|startswith: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration'
    condition: sel
level: medium
tests:
"""
GD_SAMPLE = {"schemaVersion": "2.0", "accountId": "123456789012", "region": "eu-west-1",
             "id": "f-sample", "severity": 5,
             "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
             "title": "[SAMPLE] Credentials used from outside AWS",
             "service": {"serviceName": "guardduty", "additionalInfo": {"sample": True}}}
GD_REAL = dict(GD_SAMPLE, id="f-real", title="Credentials used from outside AWS",
               service={"serviceName": "guardduty"})


def gd_test(name, event, **keys):
    """One entry of tests: (the event as JSON text, keys written as YAML)."""
    lines = [f"    - name: {name}", f"      event: '{json.dumps(event)}'", "      match: true"]
    lines += [f"      {k}: {v}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def test_final_severity_stock_policies():
    with TempDir() as d:
        p = d.write("gd.yml", GD_RULE +
                    gd_test("sample is none", GD_SAMPLE, severity="none", rule_severity="medium",
                            policies="[guardduty-sample-findings, guardduty-severity-bands]") +
                    gd_test("real stays medium", GD_REAL, severity="medium",
                            policies="[guardduty-severity-bands]") +
                    gd_test("rule level only", GD_SAMPLE, rule_severity="medium"))
        rc, out, err = koban("test", "-v", p)
        eq(rc, 0, out + err)
        eq(counts(out), (3, 0))

        # the old meaning (the rule's level) is now rule_severity: severity
        # is what the team sees, and the failure names the policy
        w = d.write("wrong.yml", GD_RULE +
                    gd_test("sample is medium?", GD_SAMPLE, severity="medium") +
                    gd_test("wrong set", GD_SAMPLE, policies="[guardduty-severity-bands, nosuch]") +
                    gd_test("wrong level", GD_SAMPLE, rule_severity="high"))
        rc, out, err = koban("test", w)
        eq(rc, 1, out + err)
        eq(counts(out), (0, 3))
        check(f"FAIL {w}:10: test \"sample is medium?\" of rule \"Credentials used from outside "
              "AWS\" (gd-exfil-1)" in out, out)
        check("  severity: want medium, got none (rule level medium; policies: "
              "guardduty-sample-findings)\n" in out, out)
        check("  alert (guardduty): rule level medium -> guardduty-severity-bands: medium -> "
              "guardduty-sample-findings: none\n" in out, out)
        check("  policies: want [guardduty-severity-bands, nosuch], got "
              "[guardduty-severity-bands, guardduty-sample-findings]\n" in out, out)
        check("  (no policy 'nosuch' is loaded)" in out, out)
        check("  rule_severity: want high, got medium (level: medium)\n" in out, out)

        # without the stock policies the sample finding keeps the rule's level
        rc, out, err = koban("test", "--no-stock-policies", p)
        eq(rc, 1, out + err)
        eq(counts(out), (1, 2))
        check("  severity: want none, got medium (rule level medium; no policies loaded)"
              in out, out)
        s = d.write("nostock.yml", GD_RULE + gd_test("medium", GD_SAMPLE, severity="medium",
                                                     policies="[]"))
        eq(koban("test", "--no-stock-policies", s)[0], 0)
        rc, out, _ = koban("test", s)
        eq(rc, 1, out)

        # an event the source's normalizer refuses cannot have a severity
        n = d.write("notgd.yml", GD_RULE + gd_test("no severity", {
            "type": GD_SAMPLE["type"], "id": "x"}, severity="medium"))
        rc, out, _ = koban("test", n)
        eq(rc, 1, out)
        check("  severity: cannot be computed: koban's guardduty normalizer refuses the event: "
              in out, out)


def test_final_severity_is_the_pipelines():
    """koban test's final severity and policies are those koban ingest gives."""
    with TempDir() as d:
        os.mkdir(os.path.join(d.path, "rules"))
        d.write("rules/gd.yml", GD_RULE + gd_test("s", GD_SAMPLE, severity="none"))
        ev = d.write("ev.json", json.dumps(GD_SAMPLE))
        rc, out, err = koban("test", os.path.join(d.path, "rules"))
        eq(rc, 0, out + err)
        data = os.path.join(d.path, "data")
        rc, out, err = koban("ingest", "--quiet", "--data-dir", data, "--rules",
                             os.path.join(d.path, "rules"), ev)
        eq(rc, 0, out + err)
        rc, out, err = koban("issues", "list", "--state", "all", "--json", "--data-dir", data)
        eq(rc, 0, err)
        issues = [json.loads(l) for l in out.splitlines() if l.strip()]
        eq(len(issues), 1, out)
        eq(issues[0]["kind"], "gd-exfil-1")
        eq(issues[0]["severity"], "none")
        eq(sorted(issues[0]["policies"]), ["guardduty-sample-findings", "guardduty-severity-bands"])


def test_user_policies_dir():
    with TempDir() as d:
        os.mkdir(os.path.join(d.path, "pol"))
        os.mkdir(os.path.join(d.path, "pol2"))
        d.write("pol/50-exfil.yml",
                "id: exfil-raise\n"
                "title: exfiltration matters more here\n"
                "source: guardduty\n"
                "detection:\n"
                "  sel:\n"
                "    rule.id: gd-exfil-1\n"
                "  condition: sel\n"
                "severity: {raise: 1}\n")
        d.write("pol2/60-label.yml", "id: team-label\nlabels: {team: cloud}\n")
        p = d.write("gd.yml", GD_RULE +
                    gd_test("raised", GD_REAL, severity="high", rule_severity="medium",
                            policies="[guardduty-severity-bands, exfil-raise]"))
        rc, out, err = koban("test", "--policies", os.path.join(d.path, "pol"), p)
        eq(rc, 0, out + err)
        eq(counts(out), (1, 0))
        # without the folder the raise is missing, and the failure says so
        rc, out, _ = koban("test", p)
        eq(rc, 1, out)
        check("  severity: want high, got medium (rule level medium; no policy changed it)"
              in out, out)
        # repeatable: a second folder adds its policies after the first's
        rc, out, _ = koban("test", "--policies", os.path.join(d.path, "pol"),
                           "--policies", os.path.join(d.path, "pol2"), p)
        eq(rc, 1, out)
        check("got [guardduty-severity-bands, exfil-raise, team-label]" in out, out)
        # only user policies
        q = d.write("only.yml", GD_RULE + gd_test("only", GD_SAMPLE, severity="high",
                                                  policies="[exfil-raise]"))
        rc, out, err = koban("test", "--no-stock-policies", "--policies",
                             os.path.join(d.path, "pol"), q)
        eq(rc, 0, out + err)


def test_broken_policy_file_exit_2():
    with TempDir() as d:
        os.mkdir(os.path.join(d.path, "pol"))
        bad = d.write("pol/10-broken.yml",
                      "id: fine\nsource: scc\nseverity: low\n"
                      "---\n"
                      "id: broken\n"
                      "source: guardduty\n"
                      "severity: urgent\n")
        p = d.write("gd.yml", GD_RULE + gd_test("s", GD_SAMPLE, severity="none"))
        rc, out, err = koban("test", "--policies", os.path.join(d.path, "pol"), p)
        eq(rc, 2, out + err)
        check(f"koban test: error: {bad}:7: policy 'broken': severity: expected a severity"
              in err, err)
        check("1 load error (see above)" in out, out)
        eq(counts(out), (1, 0))  # the tests still run
        # a YAML syntax error and a missing folder are errors too
        d.write("pol/20-syntax.yml", "id: x\nseverity: [low\n")
        missing = os.path.join(d.path, "missing")
        rc, out, err = koban("test", "--policies", os.path.join(d.path, "pol"),
                             "--policies", missing, p)
        eq(rc, 2, out + err)
        check(re.search(re.escape(os.path.join(d.path, "pol", "20-syntax.yml")) + r":\d+: YAML",
                        err), err)
        check(f"koban test: error: {missing}: No such file or directory" in err, err)
        check("3 load errors (see above)" in out, out)
        # a bad value in a test is a load error with FILE:LINE as well
        b = d.write("badtest.yml", GD_RULE + gd_test("s", GD_SAMPLE, policies="guardduty"))
        rc, _, err = koban("test", b)
        eq(rc, 2, err)
        check(f"{b}:13: tests[0]: policies: expected a list of policy ids" in err, err)


def test_load_errors_exit_2():
    with TempDir() as d:
        p = d.write("broken.yml",
                    "title: good\nid: g-1\ndetection: {s: {a: 1}, condition: s}\n"
                    "tests:\n  - {event: {a: 1}, match: true}\n"
                    "---\n"
                    "title: bad\nid: b-1\ndetection:\n  s:\n    a|sometimes: 1\n  condition: s\n"
                    "tests:\n  - {event: {a: 1}, match: true}\n")
        rc, out, err = koban("test", p)
        eq(rc, 2, out + err)
        check(f"{p}:11: detection.s.a|sometimes: unknown modifier 'sometimes'" in err, err)
        check("its rule did not load" in out, out)
        eq(counts(out), (1, 1))
        # an unreadable path is an error too, not an empty run
        rc, _, err = koban("test", os.path.join(d.path, "missing"))
        eq(rc, 2, err)


def test_lint_names_file_and_line():
    with TempDir() as d:
        p = d.write("lint.yml",
                    "title: one\n"                              # 1
                    "id: l-1\n"
                    "logsource: {product: aws, service: cloudtrail}\n"
                    "detection:\n"
                    "  sel:\n"                                  # 5
                    "    eventName|re: '(unclosed'\n"
                    "  condition: sel\n"
                    "---\n"
                    "title: two\n"                              # 9
                    "logsource: {product: nosuch}\n"
                    "detection: {sel: {a: 1}, condition: sel}\n"
                    "tests:\n"
                    "  - {event: {a: 1}, matches: true}\n"      # 13
                    "---\n"
                    "title: three\n"                            # 15
                    "detection: {sel: {a: 1}}\n")
        rc, out, err = koban("rules", "lint", p)
        eq(rc, 1, out + err)
        lines = out.strip().splitlines()
        check(any(l.startswith(f"{p}:6: detection.sel.eventName|re: bad regular expression")
                  for l in lines), out)
        check(any(l.startswith(f"{p}:16: detection.condition: missing") for l in lines), out)
        check(any(l.startswith(f"{p}:13: tests[0]: unknown key 'matches'") for l in lines), out)
        check(any(l.startswith(f"{p}:9: warning: logsource: product=nosuch") for l in lines), out)
        check(any(l.startswith(f"{p}:9: warning: id: missing") for l in lines), out)
        eq(lines[-1], "1 file, 1 rule, 0 correlations, 3 errors, 2 warnings")


def test_explain():
    with TempDir() as d:
        ev = d.write("ev.json", '{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}')
        rc, out, err = koban("rules", "explain", STOPPED, ev)
        eq(rc, 0, out + err)
        check(out.startswith("rule: CloudTrail logging stopped or changed "
                             "(6f1c1c2e-7a0b-4c55-9a8e-1b0d4e0a5a01)"), out)
        check("selection: match" in out and "failed: no match" in out, out)
        check('yes  eventName: found "StopLogging"' in out, out)
        check(out.rstrip().endswith("condition: selection and not failed -> match"), out)
        # FILE:id, events on stdin, several events (an array): 1 when one misses
        multi = b'[{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"},' \
                b'{"eventSource":"s3.amazonaws.com","eventName":"StopLogging"}]'
        rc, out, err = koban("rules", "explain",
                             os.path.join(EXAMPLES, "suspicious_shell_commands.yml") +
                             ":6f1c1c2e-7a0b-4c55-9a8e-1b0d4e0a5a04", "-", input=multi)
        eq(rc, 1, out + err)
        check("rule: Sudo to root by a user outside the admins" in out, out)
        rc, out, err = koban("rules", "explain", STOPPED, "-", input=multi)
        eq(rc, 1, out + err)
        check("event 0 of -:" in out and "event 1 of -:" in out, out)
        check('no   eventSource: found "s3.amazonaws.com"' in out, out)
        rc, _, err = koban("rules", "explain", STOPPED + ":no-such-id", ev)
        eq(rc, 2)
        check("no rule with id, name or title 'no-such-id'" in err, err)


def test_match_examples():
    with TempDir() as d:
        ct = d.write("ct.json",
                     '{"Records":[{"eventSource":"cloudtrail.amazonaws.com","eventName":"GetTrailStatus"},'
                     '{"eventSource":"cloudtrail.amazonaws.com","eventName":"DeleteTrail"}]}')
        log = d.write("auth.log",
                      "Mar  3 10:00:01 web-01 sshd[1]: Failed password for root from 203.0.113.77 port 1 ssh2\n"
                      "\n"
                      "Mar  3 10:00:02 web-01 sshd[2]: Failed password for root from 10.1.2.3 port 2 ssh2\n"
                      "Mar  3 10:00:03 web-01 sshd[3]: Accepted password for root from 203.0.113.77 port 3 ssh2\n")
        rc, out, err = koban("rules", "match", EXAMPLES, "--", ct, log)
        eq(rc, 0, err)
        eq(out.splitlines(), [
            "ct.json\t1\t6f1c1c2e-7a0b-4c55-9a8e-1b0d4e0a5a01\thigh\tCloudTrail logging stopped or changed",
            "auth.log\t0\t6f1c1c2e-7a0b-4c55-9a8e-1b0d4e0a5a02\tmedium\tSSH password guessing against root",
        ])
        check("3 rules" not in err and "4 rules, 5 events, 2 matches" in err, err)
        # --source keeps the rules of one koban source only
        rc, out, _ = koban("rules", "match", "--source", "syslog", EXAMPLES, "--", ct, log)
        eq(rc, 0)
        eq([l.split("\t")[1] for l in out.splitlines()], ["0"])
        # a bad event is reported, the others still run, exit 1
        bad = d.write("bad.jsonl", '{"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}\n'
                                   '{"oops": \n')
        rc, out, err = koban("rules", "match", EXAMPLES, "--", bad)
        eq(rc, 1, err)
        eq(len(out.splitlines()), 1)
        check("bad.jsonl: event 1:" in err, err)
        # a rule that does not load stops the run (2), unless -k
        broken = d.write("broken.yml", "title: x\ndetection: {s: {a|nope: 1}, condition: s}\n")
        rc, out, err = koban("rules", "match", EXAMPLES, broken, "--", ct)
        eq((rc, out), (2, ""))
        rc, out, err = koban("rules", "match", "-k", EXAMPLES, broken, "--", ct)
        eq(rc, 2)
        eq(len(out.splitlines()), 1)


def match_reference(rules, events, expected):
    data = need_data()
    ev = sorted(f for e in events for f in glob.glob(os.path.join(data, e)))
    check(ev, f"event files {events}")
    rc, out, err = koban("rules", "match", os.path.join(data, rules), "--", *ev, timeout=300)
    eq(rc, 0, err)
    with open(os.path.join(data, "expected", expected)) as f:
        want = sorted(l for l in f.read().splitlines() if l.strip())
    got = sorted(out.splitlines())
    missing = [l for l in want if l not in got]
    extra = [l for l in got if l not in want]
    check(not missing and not extra,
          f"{expected}: {len(missing)} reference rows koban lacks {missing[:5]}, "
          f"{len(extra)} rows the reference lacks {extra[:5]}")
    eq(len(got), len(want))
    return got


def test_match_reference_stratus():
    got = match_reference("sigma/rules/cloud/aws", ["cloudtrail/stratus/*.json"],
                          "aws_rules__stratus_detonation_logs.tsv")
    eq(len(got), 80)


def test_match_reference_otrf():
    got = match_reference("sigma/rules/cloud/aws", ["cloudtrail/otrf/*.json"],
                          "aws_rules__otrf_ec2_proxy_s3.tsv")
    eq(len(got), 11)


def test_match_reference_auditd():
    match_reference("sigma/rules/linux/auditd", ["auditd/otrf/*.jsonl"],
                    "auditd_rules__otrf_linux.tsv")


def test_match_reference_linux_builtin_loghub():
    # the OpenSSH and Linux logs (the reference's two), as the syslog
    # normalizer reads them
    got = match_reference("sigma/rules/linux/builtin",
                          ["syslog/loghub/OpenSSH_2k.log", "syslog/loghub/Linux_2k.log"],
                          "linux_builtin__loghub.tsv")
    eq(got, [])
    # Apache's error log starts lines with '[' ("[Sun Dec 04 ...]"): the
    # splitter sees that no JSON value can start so and reads text lines,
    # with or without --text
    data = need_data()
    apache = os.path.join(data, "syslog", "loghub", "Apache_2k.log")
    for extra in ([], ["--text"]):
        rc, out, err = koban("rules", "match", *extra,
                             os.path.join(data, "sigma/rules/linux/builtin"), "--", apache)
        eq(rc, 0, err)
        check("2000 events" in err, err)


def test_lint_sigma_corpus():
    data = need_data()
    rc, out, err = koban("rules", "lint", os.path.join(data, "sigma", "rules", "cloud"),
                         timeout=300)
    eq(rc, 0, out[-3000:] + err)
    check(re.search(r"\d+ files, \d+ rules, 0 correlations, 0 errors", out), out[-500:])


if __name__ == "__main__":
    r = Results()
    for t in (test_help, test_examples_pass, test_failing_test_prints_the_diff,
              test_final_severity_stock_policies, test_final_severity_is_the_pipelines,
              test_user_policies_dir, test_broken_policy_file_exit_2, test_load_errors_exit_2, test_lint_names_file_and_line, test_explain,
              test_match_examples, test_match_reference_stratus, test_match_reference_otrf,
              test_match_reference_auditd, test_match_reference_linux_builtin_loghub,
              test_lint_sigma_corpus):
        r.run(t)
    r.done()
