"""The Data Docs site index builder the evidence site uses.

GX's `DefaultSiteIndexBuilder` removes every page whose validation result is not in the
context's result store while it builds the index (`skip_and_clean_missing`, not
configurable through `build_data_docs`). Results are stored by month, so that the store a
run lists stays small; with GX's builder, each month's first run would delete the
previous month's result pages, which the evaluation records name and hash as evidence.
This builder never deletes: the index lists the latest results of the current store, and
every page stays where its record says it is.

GX instantiates it by module and class name (see `gx_runner`), so it is imported only when
the docs are built, never at DAG parse time.
"""

from __future__ import annotations

from typing import Any

from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder


class EvidenceKeepingSiteIndexBuilder(DefaultSiteIndexBuilder):
    def build(self, skip_and_clean_missing: bool = True, build_index: bool = True) -> tuple[Any, Any]:
        return super().build(skip_and_clean_missing=False, build_index=build_index)
