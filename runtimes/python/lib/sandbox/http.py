"""HTTP through the host: one request, one answer, no sockets.

    from sandbox import http
    r = http.get("https://api.example.com/items", headers={"Accept": "application/json"})
    r.status, r.reason, r.header("content-type"), r.json()
    http.post(url, body=b"...", headers=[("Content-Type", "application/octet-stream")])

The host applies the tool's egress policy (and may wait for a human to approve). A refusal raises
EgressError with a stable `.code` (EGRESS_DENIED, APPROVAL_DENIED, DRY_RUN, ...); an HTTP error
status is a Response like any other. Arguments are checked here first: a wrong type raises
TypeError, a bad value ValueError, and the host is not asked.

The call goes through /dev/sandbox/http, a device served by the host: write one request frame,
read the reply frame back (see wasm/host/http-frame.ts for the format).
"""

import json as _json
import os as _os

__all__ = [
    "EgressError",
    "HTTPStatusError",
    "Response",
    "request",
    "get",
    "post",
    "put",
    "delete",
    "MAX_BODY_BYTES",
    "MAX_URL_LENGTH",
]

DEVICE = "/dev/sandbox/http"
# The host's caps (src/sandbox/host-call.ts): checked before anything is sent.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_URL_LENGTH = 8192
_MAX_METHOD_LENGTH = 64
_MAX_HEADERS = 256
_READ_CHUNK = 1024 * 1024
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class EgressError(OSError):
    """The host refused or could not perform the request. `code` is stable, `message` readable.

    An OSError, like every other failure to reach a network peer in Python (socket errors,
    urllib.error.URLError), so `except OSError` around network code keeps working.
    """

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __reduce__(self):
        return (type(self), (self.code, self.message))


class Response:
    """An HTTP response; any status, 4xx and 5xx included."""

    __slots__ = ("status", "reason", "headers", "body", "url", "redirected")

    def __init__(self, status, reason, headers, body, url, redirected):
        self.status = status
        self.reason = reason
        #: list of (name, value) pairs, in the order the server sent them
        self.headers = headers
        self.body = body
        self.url = url
        self.redirected = redirected

    @property
    def ok(self):
        return 200 <= self.status < 300

    def header(self, name, default=None):
        """The first value of header `name` (case-insensitive), or `default`."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return default

    def header_all(self, name):
        """Every value of header `name` (case-insensitive), in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def text(self, encoding=None):
        """The body decoded with `encoding`, else the Content-Type charset, else UTF-8."""
        if encoding is None:
            encoding = "utf-8"
            for part in (self.header("content-type") or "").split(";")[1:]:
                key, _, value = part.strip().partition("=")
                if key.lower() == "charset" and value:
                    encoding = value.strip('"')
        try:
            return self.body.decode(encoding, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")

    def json(self):
        return _json.loads(self.body)

    def raise_for_status(self):
        """Raise HTTPStatusError for a 4xx or 5xx status; return self otherwise."""
        if self.status >= 400:
            raise HTTPStatusError(self)
        return self

    def __repr__(self):
        return f"<Response [{self.status} {self.reason}] {self.url}>"


class HTTPStatusError(Exception):
    """Raised by Response.raise_for_status for a 4xx or 5xx response."""

    def __init__(self, response):
        super().__init__(f"{response.status} {response.reason} for {response.url}")
        self.response = response


def _check_headers(headers):
    if headers is None:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    if isinstance(items, (str, bytes)):
        raise TypeError("headers must be a mapping or a list of (name, value) pairs")
    pairs = []
    try:
        iterator = iter(items)
    except TypeError:
        raise TypeError("headers must be a mapping or a list of (name, value) pairs") from None
    for pair in iterator:
        if isinstance(pair, (str, bytes)):
            raise TypeError("headers must be a mapping or a list of (name, value) pairs")
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError("each header must be a (name, value) pair") from None
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"header names and values must be str, got {type(name).__name__}: {type(value).__name__}")
        if not name or not _TOKEN.issuperset(name):
            raise ValueError(f"invalid header name {name!r}")
        if any(c in value for c in "\r\n\0"):
            raise ValueError(f"the value of header {name!r} contains CR, LF or NUL")
        pairs.append([name, value])
        if len(pairs) > _MAX_HEADERS:
            raise ValueError(f"more than {_MAX_HEADERS} headers")
    return pairs


def _check_body(body):
    if body is None:
        return None
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body)
    else:
        raise TypeError(f"body must be bytes, bytearray, memoryview, str or None, not {type(body).__name__}")
    if len(body) > MAX_BODY_BYTES:
        raise ValueError(f"the body is {len(body)} bytes; at most {MAX_BODY_BYTES} may be sent")
    return body


def _frame(method, url, headers, body, redirect):
    if not isinstance(method, str):
        raise TypeError(f"method must be str, not {type(method).__name__}")
    if not method or len(method) > _MAX_METHOD_LENGTH or not _TOKEN.issuperset(method):
        raise ValueError(f"invalid method {method!r}")
    if not isinstance(url, str):
        raise TypeError(f"url must be str, not {type(url).__name__}")
    if not url or len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the url must hold 1 to {MAX_URL_LENGTH} characters")
    if redirect not in ("follow", "manual"):
        raise ValueError("redirect must be 'follow' or 'manual'")
    pairs = _check_headers(headers)
    data = _check_body(body)
    head = {
        "method": method.upper(),
        "url": url,
        "headers": pairs,
        "redirect": redirect,
        "bodyLength": None if data is None else len(data),
    }
    line = _json.dumps(head, separators=(",", ":")).encode("ascii") + b"\n"
    return line if data is None else line + data


def _exchange(frame):
    fd = _os.open(DEVICE, _os.O_RDWR)
    try:
        view = memoryview(frame)
        while view:
            view = view[_os.write(fd, view):]
        chunks = []
        while True:
            chunk = _os.read(fd, _READ_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        _os.close(fd)
    return b"".join(chunks)


def _response(reply):
    end = reply.find(b"\n")
    if end < 0:
        raise EgressError("EGRESS_INTERNAL", "The host's reply was malformed.")
    head = _json.loads(reply[:end])
    if not head.get("ok"):
        raise EgressError(str(head.get("code")), str(head.get("message")))
    body = reply[end + 1:]
    if len(body) != head["bodyLength"]:
        raise EgressError("EGRESS_INTERNAL", "The host's reply was truncated.")
    headers = [(name, value) for name, value in head["headers"]]
    return Response(head["status"], head["statusText"], headers, body, head["url"], head["redirected"])


def request(method, url, headers=None, body=None, redirect="follow"):
    """Send one HTTP request through the host and return its Response.

    headers: a mapping or a list of (name, value) str pairs. body: bytes-like, str (sent as UTF-8)
    or None (no body). redirect: "follow" (the host follows redirects) or "manual" (3xx returned).
    Raises EgressError when the host refuses or fails; TypeError / ValueError for bad arguments.
    """
    return _response(_exchange(_frame(method, url, headers, body, redirect)))


def get(url, **kwargs):
    return request("GET", url, **kwargs)


def post(url, body=None, **kwargs):
    return request("POST", url, body=body, **kwargs)


def put(url, body=None, **kwargs):
    return request("PUT", url, body=body, **kwargs)


def delete(url, **kwargs):
    return request("DELETE", url, **kwargs)
