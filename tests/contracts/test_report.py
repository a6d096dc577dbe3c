"""report: the console a person reads, the JSON document and the JUnit file CI reads; secrets never shown."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from lxml import etree

from gateway.contracts import report
from gateway.contracts.model import Answer, CaseOutcome, Difference, Expectation, Request, StepOutcome

BASIC = "Basic " + base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode()
SECRETS = ("5c4fc5805eb643716bbc17dad456a0c6cf2e23fa", "k3y-s3cret", "demo-client-secret", "tok-abc123")


def failed(case_id: str = "seed-get-customer-1534") -> CaseOutcome:
    request = Request("GET", "/api/customers/1534.xml?token=tok-abc123", {"Authorization": BASIC, "Accept": "application/xml"})
    expected = Expectation(200, b"<customer>\n  <available_points>30511.0</available_points>\n</customer>", "xml")
    actual = Answer(200, {"Content-Type": "application/xml"}, b"<customer><available_points>30511</available_points></customer>")
    diff = Difference("/customer/available_points", 'expected "30511.0", got "30511"')
    return CaseOutcome(case_id, "dialect-x", "exact", "failed", [StepOutcome(request, expected, actual, [diff])], 0.25)


def token_case() -> CaseOutcome:
    body = b'{"client_id": "demo-client-id", "client_secret": "demo-client-secret"}'
    request = Request("POST", "/oauth/token", {"Content-Type": "application/json", "apiKey": "k3y-s3cret"}, body)
    actual = Answer(500, {"Content-Type": "application/json"}, b'{"access_token": "tok-abc123", "note": "<&>\x01"}')
    step = StepOutcome(request, Expectation(200, None, "json"), actual, [Difference("status", "expected 200, got 500")])
    return CaseOutcome("token-json", "dialect-y", "exact", "failed", [step], 0.01)


def outcomes() -> list[CaseOutcome]:
    ok = CaseOutcome("customers-list-xml", "dialect-x", "exact", "passed", [], 0.1)
    skipped = CaseOutcome("post-example", "dialect-x", "shape", "skipped", [], 0.0, "writes; shape mode is read-only")
    down = CaseOutcome("balance", "dialect-x", "exact", "error",
                       [StepOutcome(Request("GET", "/b"), Expectation(200), None, [], "cannot reach http://h:1: connection refused")],
                       0.0, "cannot reach http://h:1: connection refused")
    return [ok, failed(), skipped, down, token_case()]


def test_console_plain_lines_off_a_terminal() -> None:
    out = io.StringIO()
    console = report.Console(out, total=2)
    console.progress("customers-list-xml")
    console.outcome(outcomes()[0])
    console.progress("seed-get-customer-1534")
    console.outcome(failed())
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert lines[:3] == ["[1/2] customers-list-xml", "PASS customers-list-xml (0.10 s)", "[2/2] seed-get-customer-1534"]
    assert lines[3] == "FAIL seed-get-customer-1534 (0.25 s)"
    assert "    step 1/1: GET /api/customers/1534.xml?token=[FILTERED]" in lines
    assert "      status: expected 200, got 200" in lines
    assert '        /customer/available_points: expected "30511.0", got "30511"' in lines
    assert "      expected body: <customer><available_points>30511.0</available_points></customer>" in lines


def test_console_rewrites_its_progress_line_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    console = report.Console(out, total=1)
    console.progress("customers-list-xml")
    console.outcome(outcomes()[0])
    assert out.getvalue() == "\r\x1b[K[1/1] customers-list-xml\r\x1b[KPASS customers-list-xml (0.10 s)\n"


def test_skips_and_errors_say_why_in_one_line() -> None:
    out = io.StringIO()
    console = report.Console(out, total=5)
    for o in outcomes()[2:4]:
        console.outcome(o)
    text = out.getvalue()
    assert "SKIP post-example (0.00 s): writes; shape mode is read-only\n" in text
    assert "ERROR balance (0.00 s)\n" in text and "no answer: cannot reach http://h:1: connection refused" in text


def test_the_summary_counts_and_says_what_the_exit_will_be() -> None:
    out = io.StringIO()
    console = report.Console(out, total=5)
    summary = console.summary(outcomes())
    assert out.getvalue() == summary + "\n"
    first, second = summary.splitlines()
    assert first.startswith("5 cases in ") and first.endswith(": 1 passed, 2 failed, 1 errors, 1 skipped")
    assert second == "exit 1: seed-get-customer-1534, balance, token-json did not pass (drift reports above)"
    assert console.summary(outcomes()[:1]).endswith("exit 0: every case that ran passed")


def test_no_secret_reaches_the_console() -> None:
    out = io.StringIO()
    console = report.Console(out, total=5)
    for o in outcomes():
        console.outcome(o)
    text = out.getvalue()
    assert "Authorization: [FILTERED]" in text and "apiKey: [FILTERED]" in text
    assert not [s for s in SECRETS if s in text], text
    assert base64.b64encode(b"5c4fc5805eb643716bbc17dad456a0c6cf2e23fa:X").decode() not in text


def test_bodies_are_shortened_with_their_length() -> None:
    long = "<list>" + "<item>1</item>" * 100 + "</list>"
    shown = report.short(long)
    assert len(shown) < 340 and shown.endswith(f"… ({len(long)} characters)")
    assert report.short(None) == "(none)" and report.short("") == "(empty)"


def test_the_json_report(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    meta = {"targets": ["http://user:pw@127.0.0.1:8080"], "dialect": "dialect-x", "mode": "exact",
            "started": "2026-11-29T21:00:00Z", "version": "0.1.0", "api_key": "k3y-s3cret"}
    report.write_json(outcomes(), path, meta)
    text = path.read_text(encoding="utf-8")
    assert not [s for s in (*SECRETS, "pw@") if s in text]
    doc = json.loads(text)
    assert doc["meta"] == {**meta, "targets": ["http://[FILTERED]@127.0.0.1:8080"], "api_key": "[FILTERED]"}
    assert doc["summary"] == {"total": 5, "passed": 1, "failed": 2, "error": 1, "skipped": 1, "seconds": 0.36}
    case = doc["cases"][1]
    assert (case["id"], case["status"], case["seconds"], case["reason"]) == ("seed-get-customer-1534", "failed", 0.25, "")
    [step] = case["steps"]
    assert step["request"] == {"method": "GET", "path": "/api/customers/1534.xml?token=[FILTERED]",
                               "headers": {"Authorization": "[FILTERED]", "Accept": "application/xml"}, "body": None}
    assert step["expected"]["status"] == 200 and step["expected"]["body"].startswith("<customer>")
    assert step["actual"] == {"status": 200, "headers": {"Content-Type": "application/xml"},
                              "body": "<customer><available_points>30511</available_points></customer>"}
    assert step["differences"] == [{"path": "/customer/available_points", "message": 'expected "30511.0", got "30511"'}]
    token = doc["cases"][4]["steps"][0]
    assert '"client_secret": "[FILTERED]"' in token["request"]["body"]
    assert '"access_token": "[FILTERED]"' in token["actual"]["body"]
    assert doc["cases"][3]["steps"][0]["actual"] is None


# The common JUnit shape (Jenkins' junit-10.xsd, which GitLab and GitHub's test reporters read too), the
# element and attribute names that matter.
JUNIT_XSD = b"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:element name="failure"><xs:complexType mixed="true">
    <xs:attribute name="type" type="xs:string"/><xs:attribute name="message" type="xs:string"/>
  </xs:complexType></xs:element>
  <xs:element name="error"><xs:complexType mixed="true">
    <xs:attribute name="type" type="xs:string"/><xs:attribute name="message" type="xs:string"/>
  </xs:complexType></xs:element>
  <xs:element name="skipped"><xs:complexType mixed="true">
    <xs:attribute name="message" type="xs:string"/>
  </xs:complexType></xs:element>
  <xs:element name="system-out" type="xs:string"/>
  <xs:element name="system-err" type="xs:string"/>
  <xs:element name="testcase"><xs:complexType>
    <xs:sequence><xs:choice minOccurs="0" maxOccurs="unbounded">
      <xs:element ref="skipped"/><xs:element ref="error"/><xs:element ref="failure"/>
      <xs:element ref="system-out"/><xs:element ref="system-err"/>
    </xs:choice></xs:sequence>
    <xs:attribute name="name" type="xs:string" use="required"/>
    <xs:attribute name="classname" type="xs:string"/>
    <xs:attribute name="time" type="xs:decimal"/>
    <xs:attribute name="assertions" type="xs:string"/><xs:attribute name="status" type="xs:string"/>
  </xs:complexType></xs:element>
  <xs:element name="testsuite"><xs:complexType>
    <xs:sequence>
      <xs:element ref="testcase" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element ref="system-out" minOccurs="0"/><xs:element ref="system-err" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="name" type="xs:string" use="required"/>
    <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="failures" type="xs:nonNegativeInteger"/>
    <xs:attribute name="errors" type="xs:nonNegativeInteger"/>
    <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
    <xs:attribute name="time" type="xs:decimal"/>
    <xs:attribute name="timestamp" type="xs:string"/><xs:attribute name="hostname" type="xs:string"/>
  </xs:complexType></xs:element>
  <xs:element name="testsuites"><xs:complexType>
    <xs:sequence><xs:element ref="testsuite" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
    <xs:attribute name="name" type="xs:string"/><xs:attribute name="time" type="xs:decimal"/>
    <xs:attribute name="tests" type="xs:nonNegativeInteger"/>
    <xs:attribute name="failures" type="xs:nonNegativeInteger"/>
    <xs:attribute name="errors" type="xs:nonNegativeInteger"/>
    <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
  </xs:complexType></xs:element>
</xs:schema>"""


def test_the_junit_file_fits_the_common_schema_and_reads_as_test_cases(tmp_path: Path) -> None:
    path = tmp_path / "out.xml"
    report.write_junit(outcomes(), path, "verify dialect-x")
    raw = path.read_bytes()
    schema = etree.XMLSchema(etree.fromstring(JUNIT_XSD))
    tree = etree.fromstring(raw)
    assert schema.validate(tree), schema.error_log
    [suite] = tree
    assert {k: suite.get(k) for k in ("name", "tests", "failures", "errors", "skipped")} == {
        "name": "verify dialect-x", "tests": "5", "failures": "2", "errors": "1", "skipped": "1"}
    cases = {c.get("name"): c for c in suite}
    assert cases["customers-list-xml"].get("classname") == "verify.dialect-x" and len(cases["customers-list-xml"]) == 0
    failure = cases["seed-get-customer-1534"].find("failure")
    assert failure.get("message") == '/customer/available_points: expected "30511.0", got "30511"'
    assert "step 1/1: GET /api/customers/1534.xml" in failure.text and "expected body:" in failure.text
    assert cases["post-example"].find("skipped").get("message") == "writes; shape mode is read-only"
    assert cases["balance"].find("error").get("message") == "cannot reach http://h:1: connection refused"
    token = cases["token-json"].find("failure").text
    assert '<&>' in token and "\x01" not in token  # escaped, and a control character replaced
    assert not [s for s in SECRETS if s.encode() in raw]


def test_a_wrong_status_is_said_once_and_bodies_lose_their_xml_declaration() -> None:
    text = report.drift_report(token_case())
    assert text.count("expected 200, got 500") == 1
    assert report.short('<?xml version="1.0" encoding="UTF-8"?>\n<a>\n  <b>1</b>\n</a>') == "<a><b>1</b></a>"


def test_long_bodies_are_shown_where_they_part() -> None:
    items = "".join(f"<item><id>{i}</id></item>" for i in range(40))
    want, got = f"<list>{items}<at>2013</at></list>", f"<list>{items}<at>2026</at></list>"
    start = report.parting(want, got)
    assert start > 0
    shown_want, shown_got = report.short(want, start=start), report.short(got, start=start)
    assert shown_want.startswith("…") and "<at>2013</at>" in shown_want and "<at>2026</at>" in shown_got
    assert report.parting("<a>1</a>", "<a>2</a>") == 0
