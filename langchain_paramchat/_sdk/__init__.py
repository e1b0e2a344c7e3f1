"""Facts about the installed ``openai`` SDK that the rest of the package builds on.

Owns: ``http`` (the SDK's HTTP library: httpx2 on openai 3.x, httpx on 2.x). Imports nothing
of the package, so everything else (errors included) may import it.
May import: nothing of the package.
"""
