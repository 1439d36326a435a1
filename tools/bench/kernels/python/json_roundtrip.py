# JSON: encode a nested document of records and decode it back, many times.
import json

records = []
for i in range(500):
    records.append({
        "id": i,
        "name": "user-" + str(i),
        "active": i % 3 == 0,
        "score": i * 1.25,
        "tags": ["t" + str(i % 7), "t" + str(i % 11), "t" + str(i % 13)],
        "address": {"street": str(i) + " Main St", "zip": str(10000 + i), "geo": [i / 7, -i / 9]},
    })
document = {"version": 3, "records": records, "note": "caf\u00e9 \u2603 \"quoted\""}

total = 0
for _ in range(30):
    text = json.dumps(document)
    back = json.loads(text)
    total += len(text) + len(back["records"])
result = total
