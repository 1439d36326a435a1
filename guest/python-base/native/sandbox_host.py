"""Host functions: what the host offers this sandbox's code (world sandbox-extended).

Each function the host offers is an attribute of this module (`import host; host.lookup(...)`)
and, in a guest whose guest.py binds its session (`host._bind_session(globals_dict)`), a global
of the session as well. Calling one blocks until the host answers, whether its function is
synchronous or returns a promise; a function that fails raises `host.HostError` with the host's
message. Values cross as JSON: None, bool, int, float, str, list and tuple (as arrays), dicts
(keys become strings), and bytes, bytearray and memoryview as {"$bytes": "<base64>"}, which
come back as bytes. Keyword arguments travel as one last argument, an object of them.

The shim runs this module as `host` before the guest loads (the C side is _sandbox_host).
"""

import _sandbox_host


class HostError(Exception):
    """A host function failed, or could not be called; the message is the host's."""


def _make_machinery():
    # Everything the stubs need is bound here, in a closure: a host function may be named like
    # any module attribute (but HostError), and installing it must not break the others.
    import base64
    import json
    import json.encoder
    import json.scanner

    call_host = _sandbox_host.call
    b64encode = base64.b64encode
    b64decode = base64.b64decode

    def default(value):
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {"$bytes": b64encode(value).decode("ascii")}
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    # The C encoder and scanner themselves, made once: json.dumps and json.loads build them (and
    # match whitespace with a regular expression) on every call, which costs more than the host
    # call itself. The encoder's circular-reference markers are emptied after a failure.
    markers = {}
    c_encode = json.encoder.c_make_encoder(
        markers, default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False
    )
    join = "".join

    def encode(value):
        try:
            return join(c_encode(value, 0))
        except BaseException:
            markers.clear()
            raise

    def revive(obj):
        if len(obj) == 1 and isinstance(obj.get("$bytes"), str):
            return b64decode(obj["$bytes"])
        return obj

    decoder = json.JSONDecoder(object_hook=revive)
    scan = json.scanner.make_scanner(decoder)

    def decode(text):
        try:
            value, end = scan(text, 0)
        except StopIteration:
            end = -1
        return value if end == len(text) else decoder.decode(text)

    def call(name, args):
        try:
            text = encode(args)
        except (TypeError, ValueError, RecursionError) as error:
            raise TypeError(f"the arguments of host function {name} cannot be sent to the host: {error}") from None
        ok, result = call_host(name, text)
        if not ok:
            raise HostError(result)
        return decode(result)

    def stub(name):
        def function(*args, **kwargs):
            return call(name, (*args, kwargs) if kwargs else args)

        function.__name__ = function.__qualname__ = name
        function.__module__ = "host"
        function.__doc__ = f"The host function {name}: arguments and result cross as JSON."
        return function

    module = globals()
    session = []
    installed = {}

    def install(names):
        # Stubs of the previous set go where they are still what was installed.
        for name, function in installed.items():
            for namespace in (module, *session):
                if namespace.get(name) is function:
                    del namespace[name]
        installed.clear()
        for name in names:
            function = installed[name] = stub(name)
            module[name] = function
            for namespace in session:
                namespace[name] = function

    def bind_session(namespace):
        session[:] = [namespace]
        for name, function in installed.items():
            namespace[name] = function

    _sandbox_host.set_installer(install)
    return bind_session


_bind_session = _make_machinery()
del _make_machinery
