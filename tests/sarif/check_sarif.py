#!/usr/bin/env python3
"""check_sarif.py — `make sarif-check`: forksan's SARIF output, for real.

Runs a real hazard scenario (BUILD/scenarios/mutex_vanished_holder) under
`forksan run --format sarif`, renders the same traces again with `forksan
report --format sarif`, validates both documents against the SARIF 2.1.0
JSON schemas vendored beside this file (see README: the SARIF SDK's in the
2020-12 dialect and the rtm.5 one in draft-04), each with the validator
class the schema itself declares, and then checks what a schema cannot:
that the child-deadlock result is there at level error and points at the
scenario's `@mark:attempt` line, that the other sites are related
locations, that every result carries its fingerprint, and that every rule
of the catalogue (common/rules.def) is described in tool.driver.rules.

Lines are never hard-coded: the scenario marks them with `@mark:NAME`
comments, as in tests/scenarios/run.py.  Before trusting a validation the
script also shows the validator a broken log and requires it to refuse
it, so a validator that accepts anything cannot make the check pass.

Output: one "PASS:"/"FAIL:" line per check, then "N passed, N failed";
the exit status is 1 when any check failed.
"""
import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCHEMAS = [os.path.join(HERE, name) for name in ("sarif-schema-2.1.0.json", "sarif-schema-2.1.0-rtm.5.json")]
SCENARIO = "mutex_vanished_holder"
SCENARIO_SOURCE = "tests/scenarios/%s.c" % SCENARIO
LEVELS = {"FSAN_SEV_ERROR": "error", "FSAN_SEV_WARNING": "warning", "FSAN_SEV_NOTE": "note"}
# RFC 3986 characters a URI reference may carry, plus percent escapes.
URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*$")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            print("PASS: %s" % name)
        else:
            self.failed += 1
            print("FAIL: %s%s" % (name, ": " + why if why else ""))
        return ok


def marker_line(path, name):
    """The line number of the `@mark:NAME` comment in path."""
    with open(path) as f:
        for number, text in enumerate(f, 1):
            if re.search(r"@mark:%s\b" % re.escape(name), text):
                return number
    raise AssertionError("marker @mark:%s not found in %s" % (name, path))


def catalogue():
    """(rule id, SARIF level) for every entry of common/rules.def."""
    with open(os.path.join(ROOT, "common", "rules.def")) as f:
        text = f.read()
    return [(rule_id, LEVELS[sev])
            for rule_id, sev in re.findall(r'^FSAN_RULE\("([^"]+)",\s*\w+,\s*(\w+)', text, re.M)]


def load_validator(path):
    """The validator a vendored schema asks for (its $schema), and a label
    naming the schema file and the validator class."""
    import jsonschema
    from jsonschema import validators

    with open(path) as f:
        schema = json.load(f)
    cls = validators.validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    label = "%s, %s" % (os.path.basename(path), cls.__name__)
    return cls(schema, format_checker=cls.FORMAT_CHECKER), label


def schema_errors(validator, doc, limit=5):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)", e.message[:200])
            for e in errors[:limit]], len(errors)


def resolve_uri(run, location):
    """The file a physicalLocation names, as an absolute path, or None."""
    artifact = (location.get("physicalLocation") or {}).get("artifactLocation") or {}
    uri = artifact.get("uri")
    if uri is None:
        return None
    base_id = artifact.get("uriBaseId")
    if base_id:
        base = ((run.get("originalUriBaseIds") or {}).get(base_id) or {}).get("uri", "")
        uri = base + uri
    if uri.startswith("file://"):
        uri = uri[len("file://"):]
    path = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), uri)
    return os.path.normpath(os.path.join(ROOT, path))


def start_line(location):
    return ((location.get("physicalLocation") or {}).get("region") or {}).get("startLine")


def all_uris(doc):
    """Every artifactLocation.uri and originalUriBaseIds uri in doc."""
    found = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "uri" and isinstance(v, str):
                    found.append(v)
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    return found


def check_validator_is_live(c, validator, label):
    """A log the schema must refuse: a result whose level is not a SARIF
    level and a run without its tool.  Accepting it would mean the
    validator checks nothing."""
    bad = {"version": "2.1.0", "runs": [{"results": [{"message": {"text": "x"}, "level": "fatal"}]}]}
    errors, count = schema_errors(validator, bad)
    c.check("the validator refuses a broken SARIF log (%s)" % label, count >= 2,
            "only %d error(s) found in a log with two" % count)


def check_document(c, label, doc, validators):
    for validator, validator_label in validators:
        errors, count = schema_errors(validator, doc)
        c.check("%s: valid against the SARIF 2.1.0 schema (%s)" % (label, validator_label), count == 0,
                "%d schema error(s), first: %s" % (count, "; ".join(errors)))

    runs = doc.get("runs") or []
    if not c.check("%s: exactly one run" % label, len(runs) == 1, "%d runs" % len(runs)):
        return None
    run = runs[0]
    driver = (run.get("tool") or {}).get("driver") or {}
    c.check("%s: tool.driver is forksan with a version" % label,
            driver.get("name") == "forksan" and bool(driver.get("version")),
            "driver name %r version %r" % (driver.get("name"), driver.get("version")))

    rules = driver.get("rules") or []
    by_id = {r.get("id"): r for r in rules}
    expected = catalogue()
    missing = [rule_id for rule_id, _ in expected if rule_id not in by_id]
    c.check("%s: every catalogue rule (%d) is in tool.driver.rules" % (label, len(expected)),
            expected and not missing, "missing: %s" % ", ".join(missing))
    wrong = [rule_id for rule_id, level in expected if rule_id in by_id and
             (by_id[rule_id].get("defaultConfiguration") or {}).get("level") != level]
    c.check("%s: each rule's defaultConfiguration.level is its catalogue severity" % label, not wrong,
            "wrong level for: %s" % ", ".join(wrong))
    no_help = [r.get("id") for r in rules
               if not ((r.get("help") or {}).get("text") and (r.get("help") or {}).get("markdown")
                       and (r.get("shortDescription") or {}).get("text")
                       and (r.get("fullDescription") or {}).get("text"))]
    c.check("%s: each rule has short and full descriptions and help text and markdown" % label,
            not no_help, "incomplete: %s" % ", ".join(str(x) for x in no_help))

    results = run.get("results") or []
    unprinted = [r.get("ruleId") for r in results
                 if not re.fullmatch(r"[0-9a-f]{16}", (r.get("partialFingerprints") or {}).get("forksan/v1", ""))]
    c.check("%s: every result has partialFingerprints forksan/v1 (16 hex digits)" % label,
            results and not unprinted, "%d result(s), without a fingerprint: %s" % (len(results), unprinted))
    bad_index = [r.get("ruleId") for r in results
                 if "ruleIndex" in r and (r["ruleIndex"] >= len(rules) or rules[r["ruleIndex"]].get("id") != r.get("ruleId"))]
    c.check("%s: every ruleIndex points at its rule's descriptor" % label, not bad_index,
            "wrong ruleIndex for: %s" % ", ".join(str(x) for x in bad_index))
    bad_uris = [u for u in all_uris(doc) if not URI_REFERENCE.match(u)]
    c.check("%s: every uri is a percent-encoded URI reference" % label, not bad_uris,
            "bad: %s" % ", ".join(bad_uris[:5]))

    deadlocks = [r for r in results if r.get("ruleId") == "child-deadlock"]
    if not c.check("%s: a child-deadlock result exists" % label, len(deadlocks) >= 1,
                   "rules found: %s" % [r.get("ruleId") for r in results]):
        return run
    result = deadlocks[0]
    c.check("%s: the child-deadlock result has level error" % label, result.get("level") == "error",
            "level %r" % result.get("level"))

    source = os.path.join(ROOT, SCENARIO_SOURCE)
    attempt = marker_line(source, "attempt")
    locations = result.get("locations") or []
    where = [(resolve_uri(run, l), start_line(l)) for l in locations]
    c.check("%s: its location is %s:%d (@mark:attempt)" % (label, SCENARIO_SOURCE, attempt),
            len(locations) == 1 and where[0] == (source, attempt), "locations: %s" % where)

    related = [(resolve_uri(run, l), start_line(l)) for l in result.get("relatedLocations") or []]
    for mark in ("acquire", "fork"):
        line = marker_line(source, mark)
        c.check("%s: a related location is %s:%d (@mark:%s)" % (label, SCENARIO_SOURCE, line, mark),
                (source, line) in related, "related: %s" % related)
    c.check("%s: related locations carry the location's description" % label,
            related and all(((l.get("message") or {}).get("text") or "").strip()
                            for l in result.get("relatedLocations") or []))
    props = result.get("properties") or {}
    c.check("%s: result properties give count and pids" % label,
            isinstance(props.get("count"), int) and props.get("count") >= 1
            and isinstance(props.get("pids"), list) and len(props.get("pids")) >= 1,
            "properties: %s" % props)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    args = parser.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build
    forksan = os.path.join(build, "bin", "forksan")
    program = os.path.join(build, "scenarios", SCENARIO)
    c = Checks()

    try:
        validators = [load_validator(path) for path in SCHEMAS]
    except ImportError:
        c.check("the jsonschema validator is installed", False,
                "python3 cannot import jsonschema: run `make deps` (Debian package python3-jsonschema)")
        print("%d passed, %d failed" % (c.passed, c.failed))
        return 1
    for validator, label in validators:
        check_validator_is_live(c, validator, label)

    with tempfile.TemporaryDirectory(prefix="forksan-sarif.") as tmp:
        traces = os.path.join(tmp, "traces")
        run_out = os.path.join(tmp, "run.sarif")
        report_out = os.path.join(tmp, "report.sarif")
        # The scenario's paths are relative to the top of the tree (the
        # compiler saw tests/scenarios/…), so forksan runs there.
        proc = subprocess.run([forksan, "run", "--format", "sarif", "-o", run_out, "--trace-dir", traces,
                               "--", os.path.relpath(program, ROOT)],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
        c.check("forksan run --format sarif exits 66 (an error-level finding)", proc.returncode == 66,
                "exit %d, stderr: %s" % (proc.returncode, proc.stderr[-500:]))
        proc = subprocess.run([forksan, "report", "--format", "sarif", "-o", report_out, "--fail-on", "never",
                               traces], capture_output=True, text=True, timeout=60, cwd=ROOT)
        c.check("forksan report --format sarif exits 0 with --fail-on never", proc.returncode == 0,
                "exit %d, stderr: %s" % (proc.returncode, proc.stderr[-500:]))

        docs = {}
        for label, path in (("run", run_out), ("report", report_out)):
            try:
                with open(path, encoding="utf-8") as f:
                    docs[label] = json.load(f)
                c.check("%s: the output is a JSON document" % label, True)
            except (OSError, ValueError) as e:
                c.check("%s: the output is a JSON document" % label, False, str(e))
        runs = {label: check_document(c, label, doc, validators) for label, doc in docs.items()}

        if runs.get("run"):
            invocations = runs["run"].get("invocations") or []
            c.check("run: invocations[0].exitCode is the command's own status (0)",
                    len(invocations) == 1 and invocations[0].get("exitCode") == 0,
                    "invocations: %s" % invocations)
        if runs.get("run") and runs.get("report"):
            def prints(run):
                return sorted((r.get("ruleId"), (r.get("partialFingerprints") or {}).get("forksan/v1"))
                              for r in run.get("results") or [])
            c.check("report renders the same results as run", prints(runs["run"]) == prints(runs["report"]),
                    "run %s, report %s" % (prints(runs["run"]), prints(runs["report"])))

    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
