"""The build's hooks (``mkdocs.yml`` lists them), imported as a package by the tests.

MkDocs imports each hook by its path with this folder first on ``sys.path``, so a hook imports
a module beside it by that module's own name (``from page_cache import memo``). Imported as
``hooks.<name>``, a hook finds those modules the same way through the line below (appended:
no name here hides a module of the standard library or of the environment).
"""

import sys
from pathlib import Path

if str(Path(__file__).parent) not in sys.path:
    sys.path.append(str(Path(__file__).parent))
