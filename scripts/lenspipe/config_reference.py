"""The configuration reference (``config/README.md``), generated from the config schema.

The schema (``scripts/lenspipe/config.schema.yaml``) holds every field's type, default, limits
and description; this module writes them out as one Markdown table per section, so the
reference cannot drift from what validation accepts. ``scripts/make_config_reference.py``
writes the file; a test fails when it is out of date.
"""

import json
from typing import Any

from lenspipe.config import load_schema
from lenspipe.simulation.priors import PHYSICAL_RANGES

HEADER = """# Configuration reference

Generated from `scripts/lenspipe/config.schema.yaml` by
`python scripts/make_config_reference.py`; do not edit by hand. Every field is optional: the
default is used when a field is left out. `config/config.yaml` is the production run (100,000
lenses); `config/local.yaml` is merged over it for the local run. A `--configfile` is merged
into `config/config.yaml` key by key.

A config file can run code, like any script: Snakemake reads it through YTE, whose `?` keys
and values are Python expressions. Run only config files you trust. A value echoed in an
error is cut to 1,000 characters.

Priors take `dist` and that distribution's keys: `fixed` (value), `uniform` (min, max),
`normal` (mean, sigma), `truncated_normal` (mean, sigma, min, max), `log_uniform` (min, max),
`scipy` (name: any continuous distribution of `scipy.stats`, kwargs: its shape parameters, loc
and scale).
"""


def config_reference() -> str:
    """The Markdown text of the configuration reference."""
    schema = load_schema()
    lines = [HEADER]
    top_level = []
    for name, field in schema["properties"].items():
        if _is_section(field):
            lines += _section(name, field, schema)
        else:
            top_level.append(_row(name, field, schema))
    lines[1:1] = ["## Top level", "", *_table(top_level), ""]
    return "\n".join(lines)


def _is_section(field: dict[str, Any]) -> bool:
    return field.get("type") == "object" and "properties" in field


def _section(name: str, field: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    lines = [f"## `{name}`", "", _one_line(field.get("description", "")), ""]
    return lines + _table(_rows(name, field, schema)) + [""]


def _rows(prefix: str, field: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    rows = []
    for name, child in field["properties"].items():
        dotted = f"{prefix}.{name}"
        if _is_section(child):
            rows += _rows(dotted, child, schema)
        else:
            rows.append(_row(dotted, child, schema))
    return rows


def _table(rows: list[str]) -> list[str]:
    return ["| field | type | default | description |", "|---|---|---|---|", *rows]


def _row(name: str, field: dict[str, Any], schema: dict[str, Any]) -> str:
    resolved = _resolve(field, schema)
    description = field.get("description") or resolved.get("description", "")
    parameter = name.split(".")[-1]
    if name.startswith("priors.") and parameter in PHYSICAL_RANGES:
        lowest, highest, what = PHYSICAL_RANGES[parameter]
        description = f"{description}; " if description else ""
        description += f"{what}, strictly between {lowest:g} and {highest:g}"
    default = f"`{json.dumps(field['default'])}`" if "default" in field else ""
    return (
        f"| `{name}` | {_type(resolved)} | {default} | "
        f"{_one_line(description).replace('|', '/')} |"
    )


def _resolve(field: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The field with a local ``$ref`` replaced by the definition it points to."""
    if "$ref" not in field:
        return field
    definition = schema["$defs"][field["$ref"].split("/")[-1]]
    return {**definition, **{key: value for key, value in field.items() if key != "$ref"}}


def _type(field: dict[str, Any]) -> str:
    if "enum" in field:
        return "one of " + ", ".join(f"`{value}`" for value in field["enum"])
    if "const" in field:
        return f"`{field['const']}`"
    if "anyOf" in field:
        return " or ".join(_type(choice) for choice in field["anyOf"])
    kinds = field.get("type", "object")
    text = " or ".join(kinds) if isinstance(kinds, list) else kinds
    if field.get("required") == ["dist"]:
        text = "prior"
    limits = [
        f"{symbol} {field[key]}"
        for key, symbol in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
        )
        if key in field
    ]
    return text + (f" ({', '.join(limits)})" if limits else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())
