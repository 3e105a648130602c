#!/usr/bin/env python3
"""Prints what failed in a `swift test` log: every issue recorded (known issues
aside) with its detail lines, each failed test, and, for a run that was stopped,
the tests that started and never ended. CI prints it last, so that the end of
its output, which is what gets kept, names the failure."""
import re
import sys

lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
issues, failed = [], []
started, ended = {}, set()
for index, line in enumerate(lines):
    if " recorded an issue" in line:
        issues.append(line)
        for detail in lines[index + 1:index + 6]:
            if not detail.startswith("↳"):
                break
            issues.append("  " + detail)
    elif re.match(r"^✘ Test .* failed after", line):
        failed.append(line)
    match = re.match(r"^◇ Test (.*) started\.$", line)
    if match:
        started.setdefault(match.group(1), index)
    match = re.match(r"^[✔✘━] Test (.*?)(?: with \d+ test cases?)? (?:passed|failed) after ", line)
    match = match or re.match(r"^↷ Test (.*?) skipped", line)
    if match:
        ended.add(match.group(1))

print(f"issues recorded: {sum(1 for line in issues if not line.startswith('  '))}")
for line in issues:
    print(line[:2000])
print(f"tests failed: {len(failed)}")
for line in failed:
    print(line[:2000])
unfinished = [name for name in started if name not in ended and name != "run" and not name.startswith("case ")]
if unfinished:
    print(f"tests started and not ended: {len(unfinished)}")
    for name in unfinished:
        print("  " + name[:300])
