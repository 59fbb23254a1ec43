"""A made-up randomised trial added to a copy of ``data/`` the way the README tells a curator to.

``add_synthetic_trial(folder)`` runs ``new-study`` (the skeleton, cells marked TO_FILL), then
fills every marked cell as a curator would from a paper: the shape and wording of Noppers 2011's
rows, the trial's own counts (20 + 20 patients), a provenance record per sourced cell, its
reference, its screening decision and the line of ``search.md`` that records it, and the PRISMA
counts the validator names. Not a real study: every text says so.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from analysis.data import DATA_DIR, FILL_MARKER
from analysis.data.new_study import new_study

ROOT = Path(__file__).resolve().parent.parent

STUDY_ID = "synthetic2030"
LIKE = "noppers2011"
SOURCE = "https://example.org/synthetic2030"

#: The trial's own values, per row of the template (others: the template's, as a curator copies
#: a design's wording); responders 15/20 vs 4/20 right after the infusion.
OWN_VALUES = {
    "study_label": "Synthetic 2030", "year": "2030",
    "citation": "Synthetic trial for the test suite (not a real study)", "source_id": SOURCE,
    "n_enrolled": "40", "n_randomised": "40", "n_analysed": "40", "ketamine_n": "20", "control_n": "20",
}
EVENTS = {"15min": ("15", "4"), "180min": ("12", "3"), "week1": ("5", "1"), "week8": ("2", "1")}


def copy_data(target: Path) -> Path:
    """Copy the data folder (tables, dictionaries, search.md) into the new folder ``target``."""
    shutil.copytree(DATA_DIR, target)
    return target


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def add_synthetic_trial(folder: Path, study_id: str = STUDY_ID, label: str = "Synthetic 2030",
                        events: dict[str, tuple[str, str]] | None = None) -> None:
    """Add the synthetic trial to the data copy ``folder`` (valid afterwards); ``events`` gives other
    responders than :data:`EVENTS` (ketamine, control; of 20 each) per time of the template."""
    events_at = EVENTS if events is None else events
    own = dict(OWN_VALUES, study_label=label, source_id=f"https://example.org/{study_id}")
    source = own["source_id"]
    new_study(study_id, like=LIKE, data_dir=folder)
    columns, rows = _read(folder / "studies.csv")
    templates = {r["row_id"].removeprefix(LIKE): r for r in rows if r["study_id"] == LIKE}
    filled = {}
    for row in rows:
        if row["study_id"] != study_id:
            continue
        suffix = row["row_id"].removeprefix(study_id)
        template = templates[suffix]
        events = events_at[suffix.rsplit("_", 1)[-1]]
        for column, value in row.items():
            if value == FILL_MARKER:
                row[column] = own.get(column, template[column])
        row["ketamine_events"], row["control_events"] = events
        row["female_n"] = ""  # the made-up paper does not say
        filled[row["row_id"]] = row
    _write(folder / "studies.csv", columns, rows)

    columns, records = _read(folder / "provenance.csv")
    for record in records:
        if record["row_id"] in filled and record["status"] == FILL_MARKER:
            value = filled[record["row_id"]][record["column"]]
            record.update(status="reported" if value else "not_reported",
                          certainty="stated" if value else "not_applicable", source=source,
                          location="abstract" if value else "",
                          quote=f"synthetic value {value}" if value else "",
                          note="" if value else "the synthetic paper does not give it")
    _write(folder / "provenance.csv", columns, records)

    columns, references = _read(folder / "references.csv")
    for reference in references:
        if reference["ref_id"] == study_id:
            reference.update(citation=own["citation"], url=source, identifier_source=source)
    _write(folder / "references.csv", columns, references)

    line = f"{study_id} | sought_for_full_text"
    with (folder / "search.md").open("a", encoding="utf-8") as handle:
        handle.write(f"\n## Synthetic search (test suite)\n\n| {line} | {source} |\n")
    columns, screening = _read(folder / "screening.csv")
    for record in screening:
        if record["report_id"] == study_id:
            record.update(search="extension", url=source, location="Synthetic search (test suite)",
                          quote=line)
    _write(folder / "screening.csv", columns, screening)

    # PRISMA: one more record identified, sought and assessed; one more included, pooled and
    # controlled study (as the validator's messages name them)
    columns, prisma = _read(folder / "prisma.csv")
    more = {("identified_databases", "databases_registers"), ("reports_assessed_for_eligibility", "databases_registers"),
            ("included_qualitative_synthesis", ""), ("included_quantitative_synthesis", ""),
            ("included_quantitative_controlled", "")}
    for row in prisma:
        if (row["stage"], row["route"]) in more:
            row["count"] = str(int(row["count"]) + 1)
    _write(folder / "prisma.csv", columns, prisma)
