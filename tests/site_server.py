"""The old name of the site server: it now lives in ``tests/site_support.py``.

Kept so that ``from tests.site_server import page_paths, serve`` (``benchmarks/audit.py``) keeps
working; new code imports ``tests.site_support``.
"""

from tests.site_support import COMPRESSIBLE, GZIP_LEVEL, TYPES, gzip_size, page_paths, serve, site_path, site_url

__all__ = ["COMPRESSIBLE", "GZIP_LEVEL", "TYPES", "gzip_size", "page_paths", "serve", "site_path", "site_url"]
