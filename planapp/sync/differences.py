"""What differs between two copies of one plan (two plan files, planapp/transfer/plan_json.py):
the hall laptop's and the district server's. Projects are matched by their uid (the same
project on every server), else by title; the result is data, worded when shown in the reader's
language (`worded`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from planapp.domain import (
    FEASIBILITY_LABELS,
    FOLLOWUP_LABELS,
    GROUP_SHORT_LABELS,
    PROGRAMME_LABELS,
    SECTOR_LABELS,
    URGENCY_LABELS,
)
from planapp.formatting import baht

# What two copies may differ in without anyone having changed the plan: row times, the
# database's own keys, and the screen of the hall's projector.
PROJECT_SKIP = {"key", "uid", "created_at", "updated_at", "carried_over_from"}
PLAN_SKIP = {
    "created_at",
    "public_token",
    "is_public",
    "projector_mode",
    "projector_village_number",
    "projector_group",
    "screen_paused",
    "screen_message",
}

FIELD_LABELS = {
    "title": _l("title"),
    "rationale": _l("rationale"),
    "objective": _l("objective"),
    "target_output": _l("target"),
    "location": _l("location"),
    "sector": _l("sector"),
    "programme": _l("programme"),
    "budget_satang": _l("budget (baht)"),
    "wanted_year": _l("year wanted"),
    "kpi": _l("KPI"),
    "expected_result": _l("expected result"),
    "village_rank": _l("village's own rank"),
    "feasibility": _l("feasibility"),
    "feasibility_reason": _l("reason"),
    "urgency": _l("urgency"),
    "note": _l("note"),
    "votes": _l("votes"),
    "followup_status": _l("follow-up"),
    "followup_date": _l("follow-up date"),
    "followup_note": _l("follow-up note"),
    "budget_ordinance_satang": _l("budget ordinance (baht)"),
    "budget_ordinance_year": _l("budget ordinance year"),
    "funding_group": _l("group"),
    "rank": _l("rank"),
    "villages": _l("villages"),
    "proposed_by": _l("proposed by village"),
    "lead_agency": _l("lead agency"),
    "supporting_agencies": _l("supporting agencies"),
    "strategies": _l("strategies"),
    "merged_into": _l("merged into"),
    # the plan's own
    "identity": _l("identity"),
    "development_position": _l("development position"),
    "direction": _l("direction"),
    "potential": _l("potential"),
    "key_problems": _l("key problems"),
    "forum_date": _l("forum date"),
    "forum_place": _l("forum place"),
    "forum_chair": _l("forum chair"),
    "meeting_step": _l("forum step"),
}
VALUE_LABELS = {
    "feasibility": FEASIBILITY_LABELS,
    "urgency": URGENCY_LABELS,
    "funding_group": GROUP_SHORT_LABELS,
    "programme": PROGRAMME_LABELS,
    "sector": SECTOR_LABELS,
    "followup_status": FOLLOWUP_LABELS,
}
LONGEST_VALUE = 120  # characters of a text shown in the list


@dataclass
class FieldDifference:
    field: str
    ours: object
    theirs: object


@dataclass
class Difference:
    """`kind`: "only_ours" (a project only in our copy), "only_theirs", "changed" (a project
    in both, `fields` differing) or "plan" (the plan's own fields)."""

    kind: str
    title: str
    fields: list[FieldDifference] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "title": self.title,
            "fields": [{"field": f.field, "ours": f.ours, "theirs": f.theirs} for f in self.fields],
        }


def _comparable_projects(document: dict) -> list[dict]:
    rows = [row for row in document.get("projects", []) if isinstance(row, dict)]
    titles = {row.get("key"): row.get("title") for row in rows}
    result = []
    for row in rows:
        values = {k: v for k, v in row.items() if k not in PROJECT_SKIP}
        values["merged_into"] = titles.get(row.get("merged_into"))
        for name in ("villages", "supporting_agencies"):
            if isinstance(values.get(name), list):
                values[name] = sorted(values[name], key=str)
        if isinstance(values.get("strategies"), list):
            values["strategies"] = sorted(values["strategies"], key=str)
        result.append({"uid": row.get("uid"), "values": values})
    return result


def _field_differences(ours: dict, theirs: dict, skip=frozenset()) -> list[FieldDifference]:
    return [
        FieldDifference(name, ours.get(name), theirs.get(name))
        for name in sorted(set(ours) | set(theirs), key=_field_order)
        if name not in skip and ours.get(name) != theirs.get(name)
    ]


def _field_order(name: str):
    order = list(FIELD_LABELS)
    return (order.index(name) if name in order else len(order), name)


def _pairs(ours: list[dict], theirs: list[dict]):
    """(ours, theirs) pairs of one project, and the rows of either side without a partner."""
    by_uid = {}
    for row in theirs:
        if row["uid"] and row["uid"] not in by_uid:
            by_uid[row["uid"]] = row
    pairs, left = [], []
    unmatched_theirs = list(theirs)
    for row in ours:
        partner = by_uid.pop(row["uid"], None) if row["uid"] else None
        if partner is None:
            left.append(row)
            continue
        unmatched_theirs.remove(partner)
        pairs.append((row, partner))
    only_ours = []
    for row in left:  # no uid in common: the same title
        partner = next(
            (t for t in unmatched_theirs if t["values"].get("title") == row["values"].get("title")),
            None,
        )
        if partner is None:
            only_ours.append(row)
        else:
            unmatched_theirs.remove(partner)
            pairs.append((row, partner))
    return pairs, only_ours, unmatched_theirs


def differences(ours: dict, theirs: dict) -> list[Difference]:
    """What differs from our copy of the plan to theirs: the plan's fields, then projects only
    in ours, only in theirs, and changed field by field (in our copy's order)."""
    found = []
    plan_fields = _field_differences(ours.get("plan", {}), theirs.get("plan", {}), PLAN_SKIP)
    if plan_fields:
        found.append(Difference("plan", "", plan_fields))
    pairs, only_ours, only_theirs = _pairs(_comparable_projects(ours), _comparable_projects(theirs))
    found += [Difference("only_ours", str(row["values"].get("title"))) for row in only_ours]
    found += [Difference("only_theirs", str(row["values"].get("title"))) for row in only_theirs]
    for mine, other in pairs:
        changed = _field_differences(mine["values"], other["values"])
        if changed:
            found.append(Difference("changed", str(mine["values"].get("title")), changed))
    return found


# --- in words -----------------------------------------------------------------------------


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def value_text(name: str, value) -> str:
    """A value as the reader reads it: labels in their language, baht with separators."""
    if value in (None, "", []):
        return "—"
    if name.endswith("_satang") and isinstance(value, int):
        return baht(value)
    labels = VALUE_LABELS.get(name)
    if labels is not None:
        return str(labels.get(value, value))
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(
            "/".join(str(part) for part in item) if isinstance(item, list) else str(item)
            for item in value
        )
    text = str(value)
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"
