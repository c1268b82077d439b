"""`urllib.request.urlopen` over sandbox.http, for http and https URLs.

urllib.request is heavy to import (about 150 ms: http.client, email, ...), so it is not imported
here: a finder on sys.meta_path waits for the guest to import it, then replaces its HTTPHandler
with SandboxHTTPHandler. build_opener() and the default opener behind urlopen() then send every
http(s) request to the host. As usual with urllib, a 4xx/5xx status raises urllib.error.HTTPError
(with the response readable from it); a refusal raises urllib.error.URLError whose `reason` is the
sandbox.http.EgressError (so `e.reason.code` is the code). The host follows redirects itself.
"""

import sys as _sys

from . import http as _http

_TARGET = "urllib.request"


def _install(module):
    import http.client
    import io
    import urllib.error
    import urllib.response

    class SandboxResponse(urllib.response.addinfourl):
        """What urlopen returns: the usual addinfourl plus http.client.HTTPResponse's accessors."""

        def __init__(self, response):
            message = http.client.HTTPMessage()
            for name, value in response.headers:
                message[name] = value
            super().__init__(io.BytesIO(response.body), message, response.url, response.status)
            self.reason = response.reason
            self.msg = response.reason

        def getheader(self, name, default=None):
            return self.headers.get(name, default)

        def getheaders(self):
            return list(self.headers.items())

    class SandboxHTTPHandler(module.HTTPHandler):
        """Opens http and https URLs through the host instead of a socket."""

        handler_order = 499  # ahead of any other http(s) opener

        def http_open(self, req):
            return self._sandbox_open(req)

        def https_open(self, req):
            return self._sandbox_open(req)

        https_request = module.AbstractHTTPHandler.do_request_

        def _sandbox_open(self, req):
            body = req.data
            if body is not None and not isinstance(body, (bytes, bytearray, memoryview)):
                if hasattr(body, "read"):
                    body = body.read()
                else:
                    body = b"".join(body)
            headers = [(name, value) for name, value in req.header_items() if name.lower() != "host"]
            try:
                response = _http.request(req.get_method(), req.full_url, headers=headers, body=body)
            except _http.EgressError as error:
                raise urllib.error.URLError(error) from None
            return SandboxResponse(response)

    SandboxResponse.__qualname__ = "SandboxResponse"
    SandboxHTTPHandler.__qualname__ = "SandboxHTTPHandler"
    module.HTTPHandler = SandboxHTTPHandler
    module.SandboxHTTPHandler = SandboxHTTPHandler
    if module._opener is not None:
        module.install_opener(None)


class _Loader:
    """Runs the real loader, then installs the handler."""

    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        _install(module)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _Finder:
    """Finds nothing itself: wraps the loader of urllib.request when it is first imported."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname != _TARGET:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None and not isinstance(spec.loader, _Loader):
            spec.loader = _Loader(spec.loader)
        return spec


def route_urllib():
    """Make urllib.request use the host (now if it is already imported, else when it is)."""
    module = _sys.modules.get(_TARGET)
    if module is not None:
        _install(module)
    elif not any(isinstance(finder, _Finder) for finder in _sys.meta_path):
        _sys.meta_path.insert(0, _Finder())
