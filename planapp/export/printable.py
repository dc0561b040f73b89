"""The printable integrated plan: what the page shows, gathered in one place."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from planapp import domain
from planapp.export.rows import Labels, load_rows
from planapp.models import Plan
from planapp.taken_forward import NO_URGENCY, URGENCY_KEYS, taken_forward


def printable_plan(plan: Plan) -> dict:
    labels = Labels.current()
    rows = load_rows(plan, labels)
    groups = {group: [r for r in rows if r.group == group] for group in domain.FUNDING_GROUPS}
    urgency = defaultdict(list)
    for r in rows:
        if r.taken_forward:
            urgency[r.urgency or NO_URGENCY].append(r)
    not_placed = [r for r in rows if r.group not in domain.FUNDING_GROUPS]
    return {
        "plan": plan,
        "today": date.today(),
        "labels": labels,
        "rows": rows,
        "groups": groups,
        "group_budgets": {g: sum(r.budget_satang for r in groups[g]) for g in groups},
        "urgency": {tier: urgency[tier] for tier in URGENCY_KEYS},
        "taken_forward": taken_forward(plan),
        "not_placed": not_placed,
        "total_budget": sum(r.budget_satang for r in rows),
    }
