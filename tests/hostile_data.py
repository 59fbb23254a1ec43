"""The hostile-data corpus applied to a copy of ``data/`` (the session's report build,
``tests/report_build.py``, is built from it).

``tests/data_corpus/hostile/values.csv`` lists cells to overwrite (file, the rows it matches,
column, value, whether the validator refuses it, what the value tries): markup, script end
tags, Markdown links and images, quotes and ampersands, a very long string, right-to-left and
zero-width characters (written ``\\uXXXX`` in the file, so that no invisible character hides
in it). Every element its markup would create carries ``class=hostile``, so a page that lets
one through shows it to :data:`FIND_INJECTED_JS`.

The report is built with the validator's markup rule switched off
(``report_build.markup_rule_off``), so that the escaping alone must keep the pages safe.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

from report_build import copy_data

ROOT = Path(__file__).resolve().parent.parent
VALUES = ROOT / "tests" / "data_corpus" / "hostile" / "values.csv"

#: The marker every element of the corpus's markup carries.
MARKER = "hostile"

#: Finds, in an open page, every element, attribute or script that came from the data
#: (returns plain JSON: one short description per finding).
FIND_INJECTED_JS = r"""
() => {
  const found = [];
  const show = (el) => el.outerHTML.slice(0, 160);
  for (const el of document.querySelectorAll("*")) {
    if (el.classList.contains("hostile") || (el.id || "").startsWith("hostile")) found.push("element: " + show(el));
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) found.push("handler: " + show(el));
      if (/^(href|src|action|formaction|data)$/i.test(a.name) && /^\s*(javascript|vbscript):/i.test(a.value))
        found.push("address: " + show(el));
    }
  }
  for (const s of document.querySelectorAll("script:not([type='application/json'])")) {
    if (/hostile|alert\(/.test(s.textContent)) found.push("script: " + show(s));
  }
  for (const s of document.querySelectorAll("style")) {
    if (/hostile/.test(s.textContent)) found.push("style: " + s.textContent.slice(0, 80));
  }
  return found;
}
"""


_ESCAPED = re.compile(r"\\u([0-9a-f]{4})")


def hostile_values() -> list[dict[str, str]]:
    """The corpus's rows (``file, match_column, match_value, column, value, refused, attack``),
    ``\\uXXXX`` in values decoded."""
    with VALUES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["value"] = _ESCAPED.sub(lambda m: chr(int(m[1], 16)), row["value"])
    return rows


def hostile_label(study_id: str = "noppers2011") -> str:
    """The hostile label the corpus gives a study (Noppers 2011's: the issue's example)."""
    return next(row["value"] for row in hostile_values()
                if row["column"] == "study_label" and row["match_value"] == study_id)


def hostile_copy(target: Path) -> Path:
    """Copy ``data/*.csv`` into the new folder ``target`` with every corpus value written in."""
    copy_data(target)
    by_file: dict[str, list[dict[str, str]]] = {}
    for row in hostile_values():
        by_file.setdefault(row["file"], []).append(row)
    for name, changes in by_file.items():
        path = target / name
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header, rows = reader.fieldnames, list(reader)
        for change in changes:
            hits = [row for row in rows if row[change["match_column"]] == change["match_value"]]
            assert hits, f"no row of {name} has {change['match_column']} = {change['match_value']}"
            for row in hits:
                row[change["column"]] = change["value"]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return target


def explorer_folder(root: Path, data: Path) -> Path:
    """A folder laid out as the repository's for the explorer: ``notebooks/explore.ipynb``
    beside ``data/`` (the notebook reads ``../data``); returns the notebook."""
    (root / "notebooks").mkdir(parents=True)
    notebook = root / "notebooks" / "explore.ipynb"
    shutil.copy(ROOT / "notebooks" / "explore.ipynb", notebook)
    shutil.copytree(data, root / "data")
    return notebook
