// An integer loop: multiply, add and modulo in a tight `for` loop.
var total = 0;
for (var i = 0; i < 1000000; i++) {
  total = (total + i * i) % 1000003;
}
var result = total;
