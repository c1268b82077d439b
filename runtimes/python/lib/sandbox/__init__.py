"""inline-sandbox's guest library.

`sandbox.http` makes HTTP requests through the host (there are no sockets here); importing this
package also routes `urllib.request.urlopen` for http and https URLs to it. The package is imported
into the interpreter's snapshot, so `import sandbox` costs nothing at run time.
"""

from . import http
from . import _urllib

__all__ = ["http"]

_urllib.route_urllib()
