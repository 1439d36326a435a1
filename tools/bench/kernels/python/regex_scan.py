# Regular expressions: scan a generated log for words, numbers, e-mail addresses and dates.
import re

lines = []
for i in range(4000):
    lines.append(
        "2024-%02d-%02d user%d@example.org requested /api/v%d/items/%d in %d ms status=%d"
        % (i % 12 + 1, i % 28 + 1, i, i % 3 + 1, i * 7, i % 500, 200 + (i % 5) * 100)
    )
text = "\n".join(lines)

email = re.compile(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}")
date = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
number = re.compile(r"\b\d+\b")
slow = re.compile(r"in (\d{3}) ms status=5\d\d")

counts = [0, 0, 0, 0]
for _ in range(3):
    counts[0] += len(email.findall(text))
    counts[1] += sum(1 for m in date.finditer(text) if m.group(2) == "06")
    counts[2] += len(number.findall(text))
    counts[3] += len(slow.findall(text))
result = counts
