"""The report as JUnit XML: one test case per check, for CI systems.

fail -> <failure type="MUST"|"SHOULD">; error -> <error>; unsupported and skipped -> <skipped>;
deviation -> a passing case whose system-out names the documented deviation.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from conformance.render.common import evidence_line

# statuses a CI tool shows as skipped: nothing was judged against the target (inconclusive: too few trials)
NOT_JUDGED = ("skipped", "unsupported", "blocked", "inconclusive")

# characters XML 1.0 cannot hold at all, not even escaped
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """Text from a target, fit for an XML document (what XML cannot hold is shown escaped)."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _typescript(report: dict[str, Any]) -> list[tuple[str, str]]:
    if "typescript_sdk" not in report["suite"]:
        return []  # a report from before the TypeScript client judged
    return [("typescript_sdk", report["suite"]["typescript_sdk"] or f"not run ({report['run']['typescript_client']})")]


def render_junit(report: dict[str, Any]) -> str:
    checks = report["checks"]
    suite = ET.Element(
        "testsuite",
        name=f"conformance.{report['target']['name']}",
        tests=str(len(checks)),
        failures=str(sum(1 for c in checks if c["status"] == "fail")),
        errors=str(sum(1 for c in checks if c["status"] == "error")),
        skipped=str(sum(1 for c in checks if c["status"] in NOT_JUDGED)),
        time=f"{sum(c['duration'] for c in checks):.3f}",
        timestamp=report["run"]["started_at"],
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("suite_version", report["suite"]["version"]),
        ("openai_sdk", report["suite"]["openai_sdk"]),
        *_typescript(report),
        ("dialect", report["target"]["dialect"]),
        ("mode", report["run"]["mode"]),
    ):
        ET.SubElement(properties, "property", name=name, value=str(value))
    for check in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"conformance.{check['row']}",
            name=check["id"],
            time=f"{check['duration']:.4f}",
        )
        detail = "\n".join([check["claim"], *(evidence_line(report, e) for e in check["evidence"])])
        status = check["status"]
        if status == "fail":
            element = ET.SubElement(case, "failure", message=_xml(check["message"]), type=check["level"])
            element.text = _xml(detail)
        elif status == "error":
            element = ET.SubElement(case, "error", message=_xml(check["message"]), type=check["error_cause"] or "error")
            element.text = _xml(detail)
        elif status in NOT_JUDGED:
            ET.SubElement(case, "skipped", message=_xml(f"{status}: {check['message']}"))
        elif status == "deviation":
            ET.SubElement(case, "system-out").text = _xml(check["message"])
    root = ET.Element("testsuites", name="openai-conformance")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
