"""Build machinery of the dlguide book (not part of the reader-facing `dlguide` package).

- [`chapter`][bookbuild.chapter]: reading chapter sources and applying a profile.
- [`execute`][bookbuild.execute]: running a chapter in a fresh kernel with a per-cell timeout.
- [`cache`][bookbuild.cache]: the execution cache and its key.
- [`render`][bookbuild.render]: executed notebook → Markdown page + figures.
- [`plugin`][bookbuild.plugin]: the `dlguide-book` MkDocs plugin tying them together.
"""

__version__ = "0.1.0"
