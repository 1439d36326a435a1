"""Cells: a block of statements whose last expression's value is the result (IPython's rule).

`split_cell(code, filename, flags)` compiles a cell into the code before its last statement and,
when that statement is an expression not followed by `;`, the expression on its own; guest.py's
`run` executes the one and evaluates the other. A value of None is no value, as in IPython.
"""

import ast


def _ends_with_semicolon(code: str, node: ast.stmt) -> bool:
    """True when `;` follows the statement on its last line (IPython's "quiet" cell)."""
    lines = code.splitlines()
    if node.end_lineno is None or node.end_lineno > len(lines):
        return False
    # Column offsets count UTF-8 bytes.
    rest = lines[node.end_lineno - 1].encode("utf-8")[node.end_col_offset :].decode("utf-8", "replace")
    return rest.lstrip().startswith(";")


def split_cell(code: str, filename: str, flags: int = 0):
    """(statements, expression): code objects; `expression` is None when the cell has no value."""
    tree = compile(code, filename, "exec", flags=flags | ast.PyCF_ONLY_AST, dont_inherit=True)
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr) or _ends_with_semicolon(code, last):
        return compile(tree, filename, "exec", flags=flags, dont_inherit=True), None
    statements = ast.Module(body=tree.body[:-1], type_ignores=tree.type_ignores)
    expression = ast.Expression(body=last.value)
    return (
        compile(statements, filename, "exec", flags=flags, dont_inherit=True),
        compile(expression, filename, "eval", flags=flags, dont_inherit=True),
    )
