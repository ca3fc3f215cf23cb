"""``junit.xml``: one testcase per check (name: the check id; classname: the feature, plus the
SDK when the file holds several runs); fail and error carry the full message, unsupported and
skipped are skipped."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..registry import Verdict
from ..results import Results
from .text import first_line, scrub

# Characters XML 1.0 cannot carry (control characters an SDK message may hold).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: str) -> str:
    return _NOT_XML.sub("\ufffd", scrub(text))


def _name(results: Results) -> str:
    return f"{results.sdk_info.get('name', '?')} {results.sdk_info.get('version', '?')}"


def render(runs: Sequence[Results], lead: ET.Element | None = None) -> str:
    """``lead``: a first testsuite (a gate's decision), counted in the totals."""
    several = len(runs) > 1
    root = ET.Element("testsuites", name="azure-openai-conformance")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if lead is not None:
        root.append(lead)
        for key in totals:
            totals[key] += int(lead.get(key, "0"))
    for run in runs:
        run_sdk = _name(run)  # "openai-python 3.57.0"
        summary = run.summary
        counts = {
            "tests": len(run.checks),
            "failures": summary["fail"],
            "errors": summary["error"],
            "skipped": summary["unsupported"] + summary["skipped"],
        }
        suite = ET.SubElement(root, "testsuite", {k: str(v) for k, v in counts.items()},
                              name=f"conformance {run_sdk}", time=f"{run.duration_s:.3f}")
        if run.started_at:
            suite.set("timestamp", run.started_at)
        properties = ET.SubElement(suite, "properties")
        for name, text in (("sdk", run_sdk), *(("target." + k, str(v))
                                               for k, v in sorted(run.target.items()))):
            ET.SubElement(properties, "property", name=name, value=_x(text))
        for checks in run.by_feature().values():
            for check in checks:
                if check.sdk != "python":  # a driver SDK: the SDK is part of the class
                    classname = f"{check.feature} [{check.sdk} {check.sdk_version}]".rstrip()
                else:
                    classname = f"{check.feature} [{run_sdk}]" if several else check.feature
                case = ET.SubElement(suite, "testcase", name=check.id, classname=classname,
                                     time=f"{check.duration_s:.3f}")
                message = _x(check.message)
                head = first_line(message)
                if check.verdict is Verdict.FAIL:
                    ET.SubElement(case, "failure", message=head, type="fail").text = message
                elif check.verdict is Verdict.ERROR:
                    ET.SubElement(case, "error", message=head, type="error").text = message
                elif check.verdict in (Verdict.UNSUPPORTED, Verdict.SKIPPED):
                    ET.SubElement(case, "skipped",
                                  message=f"{check.verdict.value}: {head}").text = message
                out = [f"claim: {check.claim}", f"doc: {check.doc}"]
                if check.observations:
                    out.append("observations: " + json.dumps(scrub(check.observations),
                                                             indent=2, ensure_ascii=False))
                ET.SubElement(case, "system-out").text = _x("\n".join(out))
        if run.interrupted is not None:
            # A CI test view shows an interrupted run as an error, never as green.
            text = f"{run.interrupted}; the run did not finish and did not pass"
            case = ET.SubElement(suite, "testcase", name="interrupted", classname="conformance",
                                 time="0.000")
            ET.SubElement(case, "error", message=text, type="interrupted").text = text
            for key in ("tests", "errors"):
                counts[key] += 1
                suite.set(key, str(counts[key]))
        for key, count in counts.items():
            totals[key] += count
    for key, count in totals.items():
        root.set(key, str(count))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"
