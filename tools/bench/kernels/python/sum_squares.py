# The reference loop: a generator expression summed by a builtin.
result = sum(i * i for i in range(10**6))
