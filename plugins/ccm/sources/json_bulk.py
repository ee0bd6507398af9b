"""Mapping JSON records onto a dataset's typed columns in bulk, with DuckDB.

`Dataset.to_row` maps one record at a time in Python; that is right for API pages of a
few hundred records and far too slow for log archives with millions (a Python json +
pyarrow loop runs at a sixth of DuckDB's speed). `typed_select` builds the SQL that does
the same mapping inside DuckDB: every column's value from its dotted path, converted to
its type, and a `_problem` column that is NULL for a record that fits and otherwise says
why not, in the words `to_row` uses ("required field 'eventTime' is missing", "field
'readOnly' should be bool, got ..."), so callers quarantine what the per-record path
would have.

Two tiers keep it fast and exact. Each record is parsed once by `json_transform` into a
struct whose leaves are the columns' values as text; types are decided on that text
(`try_cast`). The one case text cannot decide, an object or array where a string is
expected, only makes a record *suspect* (its text starts with `{` or `[`); suspect
records alone are re-read with `json_extract` / `json_type` to decide exactly.

The original record, as DuckDB's JSON text (key order kept, whitespace removed), becomes
`raw`. Not a source module; duckdb is imported by callers at run time.
"""

from __future__ import annotations

import json
from typing import Any

from ccm.datasets import RAW, Column, ColumnType, Dataset

PROBLEM = "_problem"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_path(dotted: str) -> str:
    """`userIdentity.type` -> `$."userIdentity"."type"` (quoted, so any key is safe)."""
    return "$." + ".".join('"' + part.replace('"', '\\"') + '"' for part in dotted.split("."))


def _from_text(column_type: ColumnType, text: str) -> str:
    """The typed value from the leaf's text (NULL when the text does not convert)."""
    number = f"try_cast({text} as double)"
    match column_type:
        case ColumnType.STRING:
            return text
        case ColumnType.INT:
            return f"try_cast({text} as bigint)"
        case ColumnType.FLOAT:
            return number
        case ColumnType.BOOL:
            return f"case lower({text}) when 'true' then true when 'false' then false end"
        case ColumnType.TIMESTAMP:
            return (f"coalesce(try_cast({text} as timestamptz), to_timestamp(case when {number} > 100000000000 "
                    f"then {number} / 1000 else {number} end))")
        case ColumnType.DATE:
            return f"try_cast(left(trim({text}), 10) as date)"
    raise ValueError(f"no text conversion for {column_type!r}")


def _exact(column: Column, record: str) -> tuple[str, str, str]:
    """(value, present, wrong-type) SQL read straight from the record, for suspect records."""
    value = f"json_extract({record}, {_sql_string(json_path(column.path))})"
    kind = f"json_type({value})"
    text = f"({value} ->> '$')"
    present = f"({value} is not null and {kind} <> 'NULL')"
    match column.type:
        case ColumnType.STRING:
            # (two-value IN lists only: DuckDB turns longer ones into a join evaluated for every row)
            return text, present, f"{kind} in ('OBJECT', 'ARRAY')"
        case ColumnType.JSON:
            return f"{value}::varchar", present, "false"
        case ColumnType.STRING_LIST:
            return f"from_json({value}, '[\"VARCHAR\"]')", present, f"{kind} <> 'ARRAY'"
        case ColumnType.BOOL:
            typed = _from_text(ColumnType.BOOL, text)
            return typed, present, f"{kind} not in ('BOOLEAN', 'VARCHAR') or {typed} is null"
    typed = _from_text(column.type, text)
    return typed, present, f"{typed} is null"


def _structure(columns: tuple[Column, ...]) -> dict[str, Any]:
    """The json_transform structure: each column's path as nested keys, text leaves."""
    tree: dict[str, Any] = {}
    for column in columns:
        node = tree
        parts = column.path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"path {column.path!r} runs through a leaf")
        if parts[-1] in node:
            raise ValueError(f"path {column.path!r} is declared twice or is a prefix of another path")
        leaf = {ColumnType.JSON: "JSON", ColumnType.STRING_LIST: "JSON"}.get(column.type, "VARCHAR")
        node[parts[-1]] = leaf
    return tree


def leaves_structure(dataset: Dataset) -> str:
    """The JSON structure (for json_transform / from_json) of the dataset's text leaves.

    A caller parsing whole documents can get each record's leaves in the same pass as its
    JSON text, e.g. `from_json(doc, '{"Records": [<this>]}')` beside
    `from_json(doc, '{"Records": "JSON[]"}')`, and pass them to `typed_select(parsed=...)`.
    """
    return json.dumps(_structure(dataset.columns))


def typed_select(dataset: Dataset, records_sql: str, record_column: str = "record",
                 keep: tuple[str, ...] = (), parsed: str | None = None) -> str:
    """SQL selecting the dataset's typed columns, `raw`, `_problem` and the `keep` columns
    from `records_sql`, a query with one JSON record per row in `record_column` (and, if
    `parsed` names one, the record's leaves already parsed with `leaves_structure`).

    Event datasets only (snapshot rows also need observed_at, which the runner stamps).
    Layers: parse each record once into a struct of text leaves (unless given); flatten
    the leaves; type them and flag records that are suspect or fail a conversion; decide
    values and problems (exactly, from the record itself, for flagged records only).
    """
    record = record_column
    structure = _sql_string(leaves_structure(dataset))
    leaves, typed, suspects, bad = [], [], [], []
    values, exact_problems = [], []
    for index, column in enumerate(dataset.columns):
        leaf, text = f"_c{index}", f"_t{index}"
        path = "_s." + ".".join(f'"{part}"' for part in column.path.split("."))
        leaves.append(f"{path} as {leaf}")
        if column.type in (ColumnType.JSON, ColumnType.STRING_LIST):  # rare: always decided exactly
            typed.append(f"cast(null as varchar) as {text}")
            suspects.append(f"{leaf} is not null")
        else:
            typed.append(f"{_from_text(column.type, leaf)} as {text}")
            if column.type is ColumnType.STRING:
                suspects.append(f"(starts_with({leaf}, '{{') or starts_with({leaf}, '['))")
            else:
                bad.append(f"({leaf} is not null and {text} is null)")
        if column.required:
            bad.append(f"{leaf} is null")
        exact_value, exact_present, exact_wrong = _exact(column, record)
        fast_value = text if column.type not in (ColumnType.JSON, ColumnType.STRING_LIST) else exact_value
        values.append(f'case when _suspect then {exact_value} else {fast_value} end as "{column.name}"')
        message = _sql_string(f"field {column.path!r} should be {column.type.value}, got ")
        if column.required:
            exact_problems.append(
                f"when not {exact_present} then {_sql_string(f'required field {column.path!r} is missing')}")
        exact_problems.append(f"when {exact_present} and ({exact_wrong}) then {message} || "
                              f"left(json_extract({record}, {_sql_string(json_path(column.path))})::varchar, 80)")
    kept = "".join(f", {name}" for name in keep)
    suspect = " or ".join(suspects) or "false"
    flagged = " or ".join(bad) or "false"
    return (
        f"select {', '.join(values)}, {record}::varchar as {RAW}, "
        f"case when _suspect or _flagged then (case {' '.join(exact_problems)} end) end as {PROBLEM}{kept} from ("
        f" select *, coalesce({suspect}, false) as _suspect, coalesce({flagged}, false) as _flagged from ("
        f"  select *, {', '.join(typed)} from ("
        f"   select {record}{kept}, {', '.join(leaves)} from ("
        f"    select {record}{kept}, {parsed or f'json_transform({record}, {structure})'} as _s "
        f"    from ({records_sql})))))"
    )
