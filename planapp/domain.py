"""The fixed vocabularies of the forum (design brief section 3), with their labels.

Codes are stored in the database; labels are translated at render time (lazy_gettext), so the
same code shows in Thai or English as the user chose.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# Board columns, in board order. "not-feasible" is the fifth column of the board.
GROUPS = ["unsorted", "1", "2", "3", "not-feasible"]
FUNDING_GROUPS = ["1", "2", "3"]
GROUP_LABELS = {
    "unsorted": _l("Unsorted"),
    "1": _l("Group 1: community does it itself"),
    "2": _l("Group 2: co-funded or joint work"),
    "3": _l("Group 3: budget requested"),
    "not-feasible": _l("Not feasible"),
}
GROUP_SHORT_LABELS = {
    "unsorted": _l("Unsorted"),
    "1": _l("Group 1"),
    "2": _l("Group 2"),
    "3": _l("Group 3"),
    "not-feasible": _l("Not feasible"),
}

FEASIBILITY = ["pending", "feasible", "needs_study", "not_feasible"]
FEASIBILITY_LABELS = {
    "pending": _l("Pending"),
    "feasible": _l("Feasible"),
    "needs_study": _l("Needs study"),
    "not_feasible": _l("Not feasible"),
}

URGENCY = ["urgent", "medium", "normal"]
URGENCY_LABELS = {"urgent": _l("Urgent"), "medium": _l("Medium"), "normal": _l("Normal")}

SECTORS = [
    "infrastructure",
    "economy",
    "society",
    "health",
    "education_culture",
    "environment",
    "governance",
]
SECTOR_LABELS = {
    "infrastructure": _l("Infrastructure"),
    "economy": _l("Economy and occupation"),
    "society": _l("Society and quality of life"),
    "health": _l("Public health"),
    "education_culture": _l("Education, religion and culture"),
    "environment": _l("Natural resources and environment"),
    "governance": _l("Governance and administration"),
}

AGENCY_KINDS = ["local", "government", "private", "community"]
AGENCY_KIND_LABELS = {
    "local": _l("Local administration"),
    "government": _l("Government agency"),
    "private": _l("Private sector"),
    "community": _l("Community group"),
}

# Who signs in: the national administrator, a facilitator of tambons, and the officers who read
# the roll-ups of their area (a district's พัฒนากรอำเภอ, a province's officer).
OFFICER_ROLES = ["district_officer", "provincial_officer"]
ROLES = ["admin", "facilitator", *OFFICER_ROLES]

STRATEGY_LEVELS = ["province", "district", "local"]
STRATEGY_LEVEL_LABELS = {
    "province": _l("Province"),
    "district": _l("District"),
    "local": _l("Local administration"),
}

# What the local development plan's ผ.02 forms say the plan answers to, before the blocks (design
# brief section 9): plan settings typed once, labelled with their letter as the forms print them.
PLAN_PREAMBLE = [
    "national_strategy",
    "national_plan",
    "sdgs",
    "province_strategy",
    "province_local_strategy",
]
PLAN_PREAMBLE_LABELS = {
    "national_strategy": _l("A. National 20-year strategy"),
    "national_plan": _l("B. National economic and social development plan"),
    "sdgs": _l("C. Sustainable Development Goals (SDGs)"),
    "province_strategy": _l("D. Provincial strategy"),
    "province_local_strategy": _l(
        "E. Development strategy of the local administrations in the province"
    ),
}

# The standard programme names (แผนงาน) of local budgets; a project gets one, proposed from its
# sector and changeable. Stored as the code; labels are the official Thai names.
PROGRAMMES = [
    "general_administration",
    "internal_security",
    "education",
    "public_health",
    "social_welfare",
    "housing_community",
    "community_strengthening",
    "religion_culture_recreation",
    "industry_public_works",
    "agriculture",
    "commerce",
    "central_fund",
]
PROGRAMME_LABELS = {
    "general_administration": _l("General administration"),
    "internal_security": _l("Internal security"),
    "education": _l("Education"),
    "public_health": _l("Public health programme"),
    "social_welfare": _l("Social welfare"),
    "housing_community": _l("Housing and community"),
    "community_strengthening": _l("Community strengthening"),
    "religion_culture_recreation": _l("Religion, culture and recreation"),
    "industry_public_works": _l("Industry and public works"),
    "agriculture": _l("Agriculture"),
    "commerce": _l("Commerce"),
    "central_fund": _l("Central fund"),
}
PROGRAMME_FOR_SECTOR = {
    "infrastructure": "industry_public_works",
    "economy": "agriculture",
    "society": "social_welfare",
    "health": "public_health",
    "education_culture": "education",
    "environment": "agriculture",
    "governance": "general_administration",
}

FOLLOWUP = ["none", "sent", "in_local_plan", "in_budget", "in_progress", "done", "dropped"]
FOLLOWUP_LABELS = {
    "none": _l("Not yet sent"),
    "sent": _l("Sent to the local administration"),
    "in_local_plan": _l("In the local development plan"),
    "in_budget": _l("In the annual budget ordinance"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "dropped": _l("Dropped"),
}

# What the projector shows, one per step of the forum (design brief section 1), and at the close
# each village's outcome (its projects' group and place, or why not feasible).
PROJECTOR_MODES = ["village", "overview", "board", "group", "urgency", "summary", "outcome"]
PROJECTOR_MODE_LABELS = {
    "village": _l("A village's plan"),
    "overview": _l("Tambon overview"),
    "board": _l("Board"),
    "group": _l("One funding group"),
    "urgency": _l("Urgency and agencies"),
    "summary": _l("Closing summary"),
    "outcome": _l("A village's outcome"),
}
# The modes that show one village (chosen with it).
VILLAGE_MODES = ("village", "outcome")

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "facilitator": _l("Facilitator"),
    "district_officer": _l("District officer"),
    "provincial_officer": _l("Provincial officer"),
}


def fiscal_year_be(day) -> int:
    """The Thai fiscal year (Buddhist Era) a date falls in: it starts on 1 October."""
    return day.year + 543 + (1 if day.month >= 10 else 0)


def code_key(code: str) -> tuple:
    """Strategy codes in the order people number them: 1.2 before 1.10, L2 before L10."""
    return tuple(
        (0, int(part), "") if part.isdecimal() else (1, 0, part)
        for part in re.findall(r"\d+|\D+", code or "")
    )
