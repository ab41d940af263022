"""MkDocs hooks: README.md is the home page; notebooks/*.py are pages.

Both live outside ``docs/``, so they are added to the site's files here instead of
being copied. mkdocs-jupyter (priority 0) then renders the jupytext notebooks; this
hook runs first (priority 100) so it sees them.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent


@event_priority(100)
def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add README.md as ``index.md`` and every ``notebooks/NN_*.py`` as a page."""
    if files.get_file_from_path("index.md") is None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        files.append(File.generated(config, "index.md", content=readme))
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        files.append(
            File(
                f"notebooks/{path.name}",
                src_dir=str(ROOT),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files
