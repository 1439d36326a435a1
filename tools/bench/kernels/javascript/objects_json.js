// Objects and JSON: build records, stringify and parse them, sum a field.
var records = [];
for (var i = 0; i < 2000; i++) {
  records.push({
    id: i,
    name: 'user-' + i,
    active: i % 3 === 0,
    score: i * 1.25,
    tags: ['t' + (i % 7), 't' + (i % 11)],
  });
}
var total = 0;
for (var round = 0; round < 10; round++) {
  var text = JSON.stringify(records);
  var back = JSON.parse(text);
  for (var j = 0; j < back.length; j++) total += back[j].score;
  total += text.length;
}
var result = total;
