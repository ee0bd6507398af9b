"""Great Expectations as the control test: one validation per (control, period) batch.

The suites are committed JSON files in `expectations/suites/` (the pass criterion lives
there, so the test an auditor reads in Data Docs is the test that ran), or in a company
folder's `suites/` for the company's own controls. They are read by `ccm.controls.suites`
(which fills in ids a file leaves out) into an in-memory store: GX never writes a suite file. Validation
results and Data Docs are written by GX's own filesystem stores into the evidence area.
GX is imported here and only here, inside functions the DAG calls at run time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ccm.errors import ConfigError
from ccm.webpolicy import gx_page_policy, with_policy

log = logging.getLogger(__name__)

ENTITY_COLUMN = "entity_id"
CONTROL_LEVEL_ENTITY = "(control)"  # a table-level expectation failed; no single entity to except
DOCS_INDEX_RESULTS = 200  # results on the Data Docs index page: about a week of daily runs


@dataclass(frozen=True)
class ValidationOutcome:
    success: bool
    failing_entity_ids: tuple[str, ...]
    failed_expectations: tuple[str, ...]
    result_path: Path  # the GX validation result JSON
    docs_relative_path: str  # the Data Docs page, relative to the docs site root
    statistics: dict[str, Any] = field(default_factory=dict)
    result_id: str = ""  # GX's ValidationResultIdentifier: suite/run_name/run_time/batch
    validation_id: str | None = None  # the id GX stamps in the result's meta
    docs_page: Path | None = None  # the rendered Data Docs page (absolute)


class SuiteRunner:
    """Holds one in-process GX context for a whole evaluate step (context creation is the slow part)."""

    def __init__(self, suites_dir: Path, results_dir: Path, docs_dir: Path) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self.suites_dir, self.results_dir, self.docs_dir = Path(suites_dir), Path(results_dir), Path(docs_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.docs_dir.mkdir(parents=True, exist_ok=True)

        def filesystem(directory: Path) -> dict[str, str]:
            return {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)}

        memory = {"class_name": "InMemoryStoreBackend"}
        config = DataContextConfig(
            stores={
                "expectations_store": {"class_name": "ExpectationsStore", "store_backend": memory},
                "validation_results_store": {"class_name": "ValidationResultsStore",
                                             "store_backend": filesystem(self.results_dir)},
                "checkpoint_store": {"class_name": "CheckpointStore", "store_backend": memory},
                "validation_definition_store": {"class_name": "ValidationDefinitionStore", "store_backend": memory},
            },
            expectations_store_name="expectations_store",
            validation_results_store_name="validation_results_store",
            checkpoint_store_name="checkpoint_store",
            data_docs_sites={"evidence": {
                "class_name": "SiteBuilder", "store_backend": filesystem(self.docs_dir),
                # GX's index loads every listed result to show its status: over the whole
                # history that grew every run's cost with the window. It lists the latest
                # results; every result keeps its page, linked from the status index and pack
                # (GX's own index builder would delete the pages of earlier months' results)
                "site_index_builder": {"class_name": "EvidenceKeepingSiteIndexBuilder",
                                       "module_name": "ccm.controls.gx_site",
                                       "validation_results_limit": DOCS_INDEX_RESULTS},
            }},
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self._gx = gx
        self.context = gx.get_context(project_config=config, mode="ephemeral")
        self._datasource = self.context.data_sources.add_pandas("populations")
        self._definitions: dict[str, Any] = {}
        self._page_view: Any = None
        self._page_renderer: Any = None
        self._page_policy = ""
        self._result_ids: list[Any] = []
        # the store holds every suite of the folder, as GX's filesystem store over it did, so the
        # Data Docs index lists them all; a company suite joins it when its control is validated
        for path in sorted(self.suites_dir.glob("*.json")):
            try:
                self.load_suite(path.stem)
            except Exception as exc:  # its control's validation reports it; the others run
                log.warning("GX suite %s could not be loaded: %s", path, exc)

    def load_suite(self, suite_ref: str) -> Any:
        """The suite a catalog names (see `ccm.controls.suites.suite_path`), read from its file
        and put in the context's in-memory store as it is: `context.suites.add` would replace
        the file's ids with random ones."""
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        from ccm.controls.suites import read_suite, suite_path

        path = suite_path(self.suites_dir, suite_ref)
        if not path.exists():
            raise ConfigError(f"GX suite {suite_ref!r} not found: {path}")
        document = read_suite(path)
        self.context.expectations_store.set(ExpectationSuiteIdentifier(document["name"]), ExpectationSuite(**document))
        return self.context.suites.get(document["name"])

    def _definition(self, suite_ref: str) -> Any:
        if suite_ref not in self._definitions:
            suite = self.load_suite(suite_ref)
            asset = self._datasource.add_dataframe_asset(suite.name)
            batch = asset.add_batch_definition_whole_dataframe("period")
            definition = self._gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
            self._definitions[suite_ref] = self.context.validation_definitions.add(definition)
        return self._definitions[suite_ref]

    def validate(self, suite_ref: str, population: Any, run_name: str, run_time: datetime) -> ValidationOutcome:
        """Validate one population (a pandas DataFrame with `entity_id`) against a suite."""
        from great_expectations.core.run_identifier import RunIdentifier

        definition = self._definition(suite_ref)
        suite_name = definition.suite.name
        result = definition.run(
            batch_parameters={"dataframe": population},
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ENTITY_COLUMN]},
            run_id=RunIdentifier(run_name=run_name, run_time=run_time),
        )
        failing: set[str] = set()
        failed: list[str] = []
        for expectation_result in result.results:
            if expectation_result.success:
                continue
            config = expectation_result.expectation_config
            failed.append(f"{config.type}({', '.join(f'{k}={v}' for k, v in sorted(config.kwargs.items()) if k != 'batch_id')})")
            if expectation_result.exception_info and expectation_result.exception_info.get("raised_exception"):
                raise RuntimeError(f"GX expectation {config.type} raised: "
                                   f"{expectation_result.exception_info.get('exception_message')}")
            index_list = (expectation_result.result or {}).get("unexpected_index_list")
            if index_list:
                failing.update(str(row[ENTITY_COLUMN]) for row in index_list)
            else:
                failing.add(CONTROL_LEVEL_ENTITY)
        identifier = self._result_identifier(suite_name, run_name, run_time)
        result_path = self.results_dir.joinpath(*identifier.to_tuple()).with_suffix(".json")
        if not result_path.is_file():
            raise RuntimeError(f"GX did not store the validation result where expected: {result_path}")
        self._result_ids.append(identifier)
        docs_path = "validations/" + "/".join(identifier.to_tuple()) + ".html"
        page = self._render_page(result, self.docs_dir / docs_path)
        return ValidationOutcome(
            success=bool(result.success), failing_entity_ids=tuple(sorted(failing)),
            failed_expectations=tuple(failed), result_path=result_path, docs_relative_path=docs_path,
            statistics=dict(result.statistics), result_id="/".join(identifier.to_tuple()),
            validation_id=(result.meta or {}).get("validation_id"), docs_page=page,
        )

    def _render_page(self, result: Any, page: Path) -> Path:
        """Render this result's Data Docs page now, with the renderer and view GX's site builder uses.

        The page is evidence (its hash goes into the evaluation record), so it must exist
        before the record is written and must never be re-rendered afterwards; rendering it
        directly also avoids the site builder listing every stored result once per page.

        Values from data never reach the page as markup: see `_escaping_page_view`. The page
        carries a Content-Security-Policy that allows only GX's own scripts (`ccm.webpolicy`).
        Both are deterministic, so the page's hash is too.
        """
        if self._page_view is None:  # one view for the whole step: its jinja environment caches the
            from great_expectations.render.renderer import ValidationResultsPageRenderer  # compiled templates

            self._page_view, self._page_renderer = _escaping_page_view(), ValidationResultsPageRenderer()
            self._page_policy = gx_page_policy(self._render_html(_empty_result()))
        html = with_policy(self._render_html(result), self._page_policy)
        page.parent.mkdir(parents=True, exist_ok=True)
        if page.exists():
            raise RuntimeError(f"Data Docs page {page} already exists; evidence is never re-rendered")
        page.write_text(html, encoding="utf-8")
        return page

    def _render_html(self, result: Any) -> str:
        return self._page_view.render(self._page_renderer.render(result), show_how_to_buttons=False)

    def _result_identifier(self, suite_name: str, run_name: str, run_time: datetime) -> Any:
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        # the batch identifier GX uses for a fluent dataframe asset: "<datasource>-<asset>"
        return ValidationResultIdentifier(
            ExpectationSuiteIdentifier(suite_name), RunIdentifier(run_name=run_name, run_time=run_time),
            f"{self._datasource.name}-{suite_name}",
        )

    def build_docs(self) -> Path:
        """Render the suites' pages and the site index. Result pages were rendered by
        `validate` and are not rebuilt: they are hashed evidence."""
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        suites = [ExpectationSuiteIdentifier(d.suite.name) for d in self._definitions.values()]
        if suites:
            self.context.build_data_docs(resource_identifiers=suites)
        return self.docs_dir / "index.html"


def _escaping_page_view() -> Any:
    """GX's page view with every data value escaped.

    Why here: GX's jinja templates are `*.j2`, which its `select_autoescape(["html", "xml"])`
    does not autoescape, and its `render_content_block` returns a bare string as markup. The
    renderer puts data into the page as bare strings: every cell of the unexpected-values
    table (`partial_unexpected_list`, `partial_unexpected_counts`, the `unexpected_index_list`
    entity ids), list items and text blocks. So a value `"><script>...` became live markup.
    String templates are different: GX itself escapes their params (except two params it
    generates itself, the status icon and a JSON-schema block escaped at its source).

    The fix is at the one choke point every bare string passes: `render_content_block`
    escapes it (`<`, `>`, `&`, both quotes) and so does the `<span>` wrap of a plain list
    item. Everything GX composes as markup is a content-block dict or a string template
    rendered by its own templates, not a bare string, so no GX markup is lost; a data value
    can reach the HTML only through these two paths, both escaped. Escaping is a pure
    function of the value: rendering stays deterministic.
    """
    import html

    from great_expectations.render.components import RenderedComponentContent
    from great_expectations.render.view import DefaultJinjaPageView
    from jinja2 import pass_context

    def is_block(value: Any) -> bool:
        return isinstance(value, RenderedComponentContent) or (isinstance(value, dict) and "content_block_type" in value)

    class EscapingPageView(DefaultJinjaPageView):
        @pass_context  # a jinja filter given the template context, as GX's own
        def render_content_block(self, jinja_context: Any, content_block: Any, index: Any = None,
                                 content_block_id: Any = None, render_to_markdown: bool = False) -> Any:
            if isinstance(content_block, str):
                return html.escape(content_block, quote=True)
            if isinstance(content_block, list) and not render_to_markdown:
                content_block = [item if is_block(item) or item is None else html.escape(str(item), quote=True)
                                 for item in content_block]
            elif isinstance(content_block, (int, float)) and not isinstance(content_block, bool):
                return html.escape(str(content_block), quote=True)
            return super().render_content_block(jinja_context, content_block, index=index,
                                                content_block_id=content_block_id,
                                                render_to_markdown=render_to_markdown)

    return EscapingPageView()


def _empty_result() -> Any:
    """A validation result with no expectations: GX's page for it is the template the CSP's
    allowed inline scripts are taken from (it holds no data)."""
    from great_expectations.core import ExpectationSuiteValidationResult

    return ExpectationSuiteValidationResult(success=True, results=[], suite_name="(template)",
                                            meta={"run_id": {"run_name": "template", "run_time": "2000-01-01T00:00:00"}})
