"""Village plans in: tambon set-up, villages, a plan's profile and settings, agencies and
strategies, each village's projects, merging duplicates (the Excel import is in importing.py)."""

from __future__ import annotations

import hashlib
import json

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select

from planapp import areas
from planapp.accounts import (
    admin_required,
    current_user,
    login_required,
    plan_for_editing,
    tambon_for_editing,
)
from planapp.cards import on_board
from planapp.changes import project_snapshot, record_change
from planapp.district import summaries
from planapp.domain import PLAN_PREAMBLE
from planapp.extensions import db
from planapp.intake import projects as village_plans
from planapp.intake import similar
from planapp.intake.forms import (
    AgencyForm,
    ConfirmForm,
    MergeForm,
    PlanForm,
    ProjectForm,
    StrategyForm,
    TambonForm,
    VillageForm,
)
from planapp.intake.values import title_key, whole_number_or_none
from planapp.models import Agency, Plan, Project, Strategy, Tambon, Village, project_villages
from planapp.strategies import strategies_in_order

bp = Blueprint("intake", __name__)

PLAN_TEXTS = [
    "identity", "development_position", "direction", "potential", "key_problems", *PLAN_PREAMBLE,
]  # fmt: skip
PLAN_FIELDS = [*PLAN_TEXTS, "plan_start_year", "grouping", "show_kpi"]


def fingerprint(state) -> str:
    """A short digest of what the user saw, so a save made on a stale form is refused instead of
    silently overwriting someone else's change."""
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()[:20]


def is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def village_of_plan(plan: Plan, village_id: int) -> Village:
    village = db.get_or_404(Village, village_id)
    if village.tambon_id != plan.tambon_id:
        abort(404)
    return village


def project_of_plan(plan: Plan, project_id: int) -> Project:
    project = db.get_or_404(Project, project_id)
    if project.plan_id != plan.id:
        abort(404)
    return project


def agency_choices() -> list[tuple[int, str]]:
    agencies = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    return [(0, _("None yet"))] + [(a.id, a.name) for a in agencies]


# --- tambons and villages -------------------------------------------------------------------


def _tambon_taken(form: TambonForm, tambon: Tambon | None) -> bool:
    clash = db.session.scalar(
        select(Tambon.id).where(
            Tambon.name == form.name.data.strip(),
            Tambon.district == form.district.data.strip(),
            Tambon.province == form.province.data.strip(),
        )
    )
    if clash is not None and (tambon is None or clash != tambon.id):
        form.name.errors.append(_("This tambon already exists in this district and province."))
        return True
    return False


def _fill_tambon(tambon: Tambon, form: TambonForm) -> None:
    tambon.name = form.name.data.strip()
    tambon.district = form.district.data.strip()
    tambon.province = form.province.data.strip()
    tambon.local_admin_agency_id = form.local_admin_agency_id.data or None


@bp.route("/tambons/new", methods=["GET", "POST"])
@admin_required
def new_tambon():
    form = TambonForm()
    form.local_admin_agency_id.choices = agency_choices()
    if form.validate_on_submit() and not _tambon_taken(form, None):
        tambon = Tambon()
        _fill_tambon(tambon, form)
        db.session.add(tambon)
        db.session.commit()
        flash(_("Tambon %(name)s created. Now add its villages.", name=tambon.name), "success")
        return redirect(url_for("intake.tambon", tambon_id=tambon.id))
    status = 400 if form.errors else 200
    return render_template("intake/tambon_form.html", form=form, tambon=None), status


@bp.route("/tambons/<int:tambon_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_tambon(tambon_id: int):
    tambon = db.get_or_404(Tambon, tambon_id)
    form = TambonForm(obj=tambon)
    form.local_admin_agency_id.choices = agency_choices()
    if request.method == "GET":
        form.local_admin_agency_id.data = tambon.local_admin_agency_id or 0
    if form.validate_on_submit() and not _tambon_taken(form, tambon):
        _fill_tambon(tambon, form)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("intake.tambon", tambon_id=tambon.id))
    status = 400 if form.errors else 200
    return render_template("intake/tambon_form.html", form=form, tambon=tambon), status


def _village_counts(tambon: Tambon) -> dict[int, int]:
    rows = db.session.execute(
        select(project_villages.c.village_id, func.count())
        .join(Village, Village.id == project_villages.c.village_id)
        .where(Village.tambon_id == tambon.id)
        .group_by(project_villages.c.village_id)
    ).all()
    return dict(rows)


def _render_villages(tambon: Tambon, form: VillageForm, status: int = 200):
    template = "intake/_villages.html" if is_htmx() else "intake/tambon.html"
    return (
        render_template(template, tambon=tambon, form=form, project_counts=_village_counts(tambon)),
        status,
    )


@bp.route("/tambons/<int:tambon_id>")
@login_required
def tambon(tambon_id: int):
    return _render_villages(tambon_for_editing(tambon_id), VillageForm(formdata=None))


def _village_number_taken(tambon: Tambon, form: VillageForm, village: Village | None) -> bool:
    clash = db.session.scalar(
        select(Village.id).where(Village.tambon_id == tambon.id, Village.number == form.number.data)
    )
    if clash is not None and (village is None or clash != village.id):
        form.number.errors.append(
            _("Village %(number)s already exists in this tambon.", number=form.number.data)
        )
        return True
    return False


@bp.route("/tambons/<int:tambon_id>/villages", methods=["POST"])
@login_required
def add_village(tambon_id: int):
    tambon = tambon_for_editing(tambon_id)
    form = VillageForm()
    if form.validate_on_submit() and not _village_number_taken(tambon, form, None):
        village = Village(tambon=tambon, number=form.number.data, name=form.name.data.strip())
        db.session.add(village)
        db.session.commit()
        flash(_("Village %(label)s added.", label=village.label), "success")
        if not is_htmx():
            return redirect(url_for("intake.tambon", tambon_id=tambon.id))
        db.session.refresh(tambon)
        return _render_villages(tambon, VillageForm(formdata=None))
    # htmx swaps only 2xx answers: the fragment with the errors next to the fields comes as 200.
    return _render_villages(tambon, form, 200 if is_htmx() else 400)


@bp.route("/villages/<int:village_id>/edit", methods=["GET", "POST"])
@login_required
def edit_village(village_id: int):
    village = db.get_or_404(Village, village_id)
    tambon = tambon_for_editing(village.tambon_id)
    form = VillageForm(obj=village)
    if form.validate_on_submit() and not _village_number_taken(tambon, form, village):
        village.number = form.number.data
        village.name = form.name.data.strip()
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("intake.tambon", tambon_id=tambon.id))
    status = 400 if form.errors else 200
    return render_template("intake/village_form.html", form=form, village=village), status


@bp.route("/villages/<int:village_id>/delete", methods=["POST"])
@login_required
def delete_village(village_id: int):
    village = db.get_or_404(Village, village_id)
    tambon = tambon_for_editing(village.tambon_id)
    ConfirmForm().validate_on_submit() or abort(400)
    if _village_counts(tambon).get(village.id):
        flash(
            _("Village %(label)s has projects; it cannot be removed.", label=village.label), "error"
        )
    else:
        label = village.label
        db.session.delete(village)
        db.session.commit()
        flash(_("Village %(label)s removed.", label=label), "success")
    return redirect(url_for("intake.tambon", tambon_id=tambon.id))


# --- plans ----------------------------------------------------------------------------------


@bp.route("/tambons/<int:tambon_id>/plans/new", methods=["GET", "POST"])
@login_required
def new_plan(tambon_id: int):
    tambon = tambon_for_editing(tambon_id)
    form = PlanForm()
    if request.method == "GET":
        latest = tambon.plans[0] if tambon.plans else None
        form.show_kpi.data = latest.show_kpi if latest else True
        form.grouping.data = latest.grouping if latest else "strategy"
        form.plan_start_year.data = latest.plan_start_year if latest else None
        # The strategies the plan answers to belong to the five-year plan: carried forward.
        for name in PLAN_PREAMBLE:
            getattr(form, name).data = getattr(latest, name) if latest else ""
    if form.validate_on_submit():
        taken = db.session.scalar(
            select(Plan.id).where(
                Plan.tambon_id == tambon.id, Plan.fiscal_year == form.fiscal_year.data
            )
        )
        if taken is None:
            plan = Plan(tambon=tambon, fiscal_year=form.fiscal_year.data)
            _fill_plan(plan, form)
            db.session.add(plan)
            db.session.commit()
            flash(_("Plan for fiscal year %(year)s created.", year=plan.fiscal_year), "success")
            return redirect(url_for("main.plan", plan_id=plan.id))
        form.fiscal_year.errors.append(_("This tambon already has a plan for that year."))
    status = 400 if form.errors else 200
    return render_template("intake/plan_form.html", form=form, tambon=tambon, plan=None), status


def _fill_plan(plan: Plan, form: PlanForm) -> None:
    for name in PLAN_TEXTS:
        setattr(plan, name, (getattr(form, name).data or "").strip())
    plan.plan_start_year = form.plan_start_year.data
    plan.grouping = form.grouping.data
    plan.show_kpi = bool(form.show_kpi.data)


def _plan_state(plan: Plan) -> dict:
    return {name: getattr(plan, name) for name in PLAN_FIELDS}


@bp.route("/plans/<int:plan_id>/settings", methods=["GET", "POST"])
@login_required
def plan_settings(plan_id: int):
    plan = plan_for_editing(plan_id)
    form = PlanForm(obj=plan)
    form.fiscal_year.data = plan.fiscal_year  # the year names the plan; it is not edited here
    if request.method == "GET":
        form.version.data = fingerprint(_plan_state(plan))
    if form.validate_on_submit():
        before = _plan_state(plan)
        if form.version.data != fingerprint(before):
            flash(
                _("Someone changed these settings meanwhile. Check them and save again."),
                "error",
            )
            return redirect(url_for("intake.plan_settings", plan_id=plan.id))
        _fill_plan(plan, form)
        after = _plan_state(plan)
        if after != before:
            record_change(
                plan,
                "plan_settings",
                actor=current_user(),
                before={"projects": {}, "plan": before},
                after={"projects": {}, "plan": after},
            )
            db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("main.plan", plan_id=plan.id))
    status = 400 if form.errors else 200
    return render_template(
        "intake/plan_form.html", form=form, tambon=plan.tambon, plan=plan
    ), status


# --- agencies and strategies ----------------------------------------------------------------


def agency_name_taken(name: str, agency: Agency | None = None) -> bool:
    """Another agency already has this name (agency names are unique)."""
    clash = db.session.scalar(select(Agency.id).where(Agency.name == name))
    return clash is not None and (agency is None or clash != agency.id)


def strategy_code_taken(
    level: str, code: str, strategy: Strategy | None = None, area=("", "", None)
) -> bool:
    """Another strategy of this level already has this code in the same area (codes are unique
    per level within an area: two provinces may both have their strategy 1)."""
    province, district, agency_id = area
    same_area = (
        Strategy.area_agency_id == agency_id
        if agency_id is not None
        else (Strategy.area_agency_id.is_(None))
        & (Strategy.area_province == province)
        & (Strategy.area_district == district)
    )
    clash = db.session.scalar(
        select(Strategy.id).where(Strategy.level == level, Strategy.code == code, same_area)
    )
    return clash is not None and (strategy is None or clash != strategy.id)


def _local_agencies() -> list[Agency]:
    return list(
        db.session.scalars(select(Agency).where(Agency.kind == "local").order_by(Agency.name))
    )


def _strategy_area(form: StrategyForm, parent: Strategy | None):
    """The area from the form, or the strategy's it is a tactic of; None (with the message
    next to its field) if it cannot be read."""
    if parent is not None:
        return parent.area_province, parent.area_district, parent.area_agency_id
    try:
        return areas.strategy_area(
            form.area_kind.data,
            form.area_province.data,
            form.area_district.data,
            form.area_agency_id.data,
        )
    except areas.AreaRefused as refused:
        getattr(form, refused.field).errors.append(refused.message)
        return None


@bp.route("/setup/agencies", methods=["GET", "POST"])
@admin_required
def agencies():
    form = AgencyForm()
    if form.validate_on_submit():
        name = form.name.data.strip()
        if not agency_name_taken(name):
            db.session.add(Agency(name=name, kind=form.kind.data))
            db.session.commit()
            flash(_("Agency %(name)s added.", name=name), "success")
            return redirect(url_for("intake.agencies"))
        form.name.errors.append(_("This agency already exists."))
    rows = db.session.scalars(select(Agency).order_by(Agency.kind, Agency.name)).all()
    status = 400 if form.errors else 200
    return render_template("intake/agencies.html", form=form, agencies=rows), status


@bp.route("/setup/agencies/<int:agency_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_agency(agency_id: int):
    agency = db.get_or_404(Agency, agency_id)
    form = AgencyForm(obj=agency)
    if form.validate_on_submit():
        name = form.name.data.strip()
        if not agency_name_taken(name, agency):
            agency.name, agency.kind = name, form.kind.data
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("intake.agencies"))
        form.name.errors.append(_("This agency already exists."))
    status = 400 if form.errors else 200
    return render_template("intake/agency_form.html", form=form, agency=agency), status


def _strategy_parent(form: StrategyForm, strategy: Strategy | None) -> tuple[bool, Strategy | None]:
    """(ok, the strategy a tactic belongs to). Tactics are one level deep: the choices offer
    no tactic (nor the strategy itself), and a strategy with tactics cannot become one."""
    if not form.parent_id.data:
        return True, None
    if strategy is not None:
        has_tactics = db.session.scalar(
            select(Strategy.id).where(Strategy.parent_id == strategy.id).limit(1)
        )
        if has_tactics is not None:
            form.parent_id.errors.append(
                _("This strategy has tactics of its own: it cannot be a tactic.")
            )
            return False, None
    return True, db.session.get(Strategy, form.parent_id.data)


def _save_strategy(form: StrategyForm, strategy: Strategy | None) -> Strategy | None:
    """Add or edit a strategy from the form; None (with the errors on the form) if refused. A
    tactic takes the level of its strategy."""
    ok, parent = _strategy_parent(form, strategy)
    if not ok:
        return None
    level = parent.level if parent is not None else form.level.data
    code = form.code.data.strip()
    area = _strategy_area(form, parent)
    if area is None:
        return None
    if strategy_code_taken(level, code, strategy, area):
        form.code.errors.append(_("This level already has a strategy with this code."))
        return None
    # A strategy moving to another level or area takes its tactics along.
    tactics = []
    old_place = None if strategy is None else (strategy.level, strategy_area_of(strategy))
    if strategy is not None and (level, area) != old_place:
        tactics = db.session.scalars(select(Strategy).where(Strategy.parent_id == strategy.id))
        tactics = list(tactics)
        if any(strategy_code_taken(level, t.code, t, area) for t in tactics):
            form.level.errors.append(
                _("A tactic of this strategy has a code this level already uses.")
            )
            return None
    if strategy is None:
        strategy = Strategy()
        db.session.add(strategy)
    strategy.level, strategy.code, strategy.name = level, code, form.name.data.strip()
    strategy.parent = parent
    if old_place is not None and old_place[0] != level:
        summaries.forget_strategies([strategy.id] + [t.id for t in tactics])
    for row in [strategy, *tactics]:
        row.level = level
        row.area_province, row.area_district, row.area_agency_id = area
    db.session.commit()
    return strategy


@bp.route("/setup/strategies", methods=["GET", "POST"])
@admin_required
def strategies():
    rows = strategies_in_order()
    form = StrategyForm()
    form.set_parents(rows)
    form.set_agencies(_local_agencies())
    if form.validate_on_submit():
        strategy = _save_strategy(form, None)
        if strategy is not None:
            flash(_("Strategy %(code)s added.", code=strategy.code), "success")
            return redirect(url_for("intake.strategies"))
    status = 400 if form.errors else 200
    return render_template(
        "intake/strategies.html", form=form, strategies=rows, **_area_choices()
    ), status


@bp.route("/setup/strategies/<int:strategy_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_strategy(strategy_id: int):
    strategy = db.get_or_404(Strategy, strategy_id)
    form = StrategyForm(obj=strategy)
    form.set_parents(strategies_in_order(), editing=strategy)
    form.set_agencies(_local_agencies())
    form.parent_id.data = form.parent_id.data or 0  # a strategy of its own: no parent
    if request.method == "GET":
        form.area_kind.data = areas.strategy_area_kind(strategy)
        form.area_agency_id.data = strategy.area_agency_id or 0
    if form.validate_on_submit() and _save_strategy(form, strategy) is not None:
        flash(_("Saved."), "success")
        return redirect(url_for("intake.strategies"))
    status = 400 if form.errors else 200
    return render_template(
        "intake/strategy_form.html", form=form, strategy=strategy, **_area_choices()
    ), status


def _area_choices() -> dict:
    provinces, districts = areas.known_areas()
    return {"provinces": provinces, "districts": districts}


bp.add_app_template_global(areas.strategy_area_label, "strategy_area_label")


def strategy_area_of(strategy: Strategy) -> tuple[str, str, int | None]:
    return strategy.area_province, strategy.area_district, strategy.area_agency_id


# --- a village's projects -------------------------------------------------------------------


def _village_order(items: list[Project]) -> str:
    return ",".join(str(p.id) for p in items)


def _render_village(plan: Plan, village: Village, status: int = 200, message: str = ""):
    items = village_plans.village_projects(plan, village)
    context = {
        "plan": plan,
        "village": village,
        "projects": items,
        "order": _village_order(items),
        "merged": village_plans.village_projects(plan, village, merged=True),
        "joined": village_plans.joined_projects(plan, village),
        "message": message,
        "form": ConfirmForm(formdata=None),
    }
    template = "intake/_village_projects.html" if is_htmx() else "intake/village.html"
    return render_template(template, **context), status


@bp.route("/plans/<int:plan_id>/villages/<int:village_id>")
@login_required
def village(plan_id: int, village_id: int):
    plan = plan_for_editing(plan_id)
    return _render_village(plan, village_of_plan(plan, village_id))


@bp.route("/plans/<int:plan_id>/villages/<int:village_id>/order", methods=["POST"])
@login_required
def move_in_village(plan_id: int, village_id: int):
    plan = plan_for_editing(plan_id)
    village = village_of_plan(plan, village_id)
    ConfirmForm().validate_on_submit() or abort(400)
    project = project_of_plan(plan, whole_number_or_none(request.form.get("project_id")) or 0)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    seen = request.form.get("order", "")
    if seen != _village_order(village_plans.village_projects(plan, village)):
        message = _("The list had changed meanwhile; here it is now. Try again.")
        if is_htmx():
            return _render_village(plan, village, 200, message)
        flash(message, "error")
    else:
        village_plans.move_within_village(plan, village, project, offset, actor=current_user())
        db.session.commit()
    if is_htmx():
        return _render_village(plan, village)
    return redirect(url_for("intake.village", plan_id=plan.id, village_id=village.id))


def _project_form(plan: Plan, project: Project | None = None) -> ProjectForm:
    form = ProjectForm(obj=project)
    form.village_ids.choices = [(v.id, v.label) for v in plan.tambon.villages]
    return form


def _project_state(project: Project) -> dict:
    return project_snapshot(project, village_plans.EDITABLE_FIELDS + ["village_ids"])


@bp.route("/plans/<int:plan_id>/villages/<int:village_id>/projects/new", methods=["GET", "POST"])
@login_required
def new_project(plan_id: int, village_id: int):
    plan = plan_for_editing(plan_id)
    village = village_of_plan(plan, village_id)
    form = _project_form(plan)
    if request.method == "GET":
        form.village_ids.data = [village.id]
        form.wanted_year.data = plan.fiscal_year
    if form.validate_on_submit() and not _title_taken(plan, form, None):
        chosen = _chosen_villages(plan, form.village_ids.data)
        # The village whose page this is comes first: the project joins its list.
        chosen.sort(key=lambda v: (v.id != village.id, v.number))
        project = village_plans.create_project(plan, chosen, form.values(), actor=current_user())
        db.session.commit()
        flash(
            _(
                "Project %(title)s added to village %(number)s.",
                title=project.title,
                number=village.number,
            ),
            "success",
        )
        if request.form.get("then") == "another":
            return redirect(url_for("intake.new_project", plan_id=plan.id, village_id=village.id))
        return redirect(url_for("intake.village", plan_id=plan.id, village_id=village.id))
    status = 400 if form.errors else 200
    return render_template(
        "intake/project_form.html", form=form, plan=plan, village=village, project=None
    ), status


def _chosen_villages(plan: Plan, ids: list[int]) -> list[Village]:
    return [v for v in plan.tambon.villages if v.id in set(ids or [])]


def _title_taken(plan: Plan, form: ProjectForm, project: Project | None) -> bool:
    """A village of the form already has another project with this title (back and save again,
    a second tablet): refused with a message by the title, unless the user ticks that it is
    another project. An edit that keeps its title and villages is not asked again."""
    chosen = _chosen_villages(plan, form.village_ids.data)
    if project is not None:
        same = title_key(project.title) == title_key(form.title.data)
        kept = {v.id for v in project.villages}
        chosen = [v for v in chosen if not same or v.id not in kept]
    clash = village_plans.same_title(plan, chosen, form.title.data, project)
    if clash is None or form.same_title_ok.data:
        return False
    form.title.errors.append(
        _(
            "Village %(number)s already has a project with this title. Change the title, or "
            "tick the box below if it is another project.",
            number=clash.number,
        )
    )
    form.same_title_asked = True
    return True


@bp.route("/plans/<int:plan_id>/projects/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit_project(plan_id: int, project_id: int):
    plan = plan_for_editing(plan_id)
    project = project_of_plan(plan, project_id)
    back_village = _back_village(plan, project)
    form = _project_form(plan, project)
    if request.method == "GET":
        form.village_ids.data = [v.id for v in project.villages]
        form.version.data = fingerprint(_project_state(project))
    if form.validate_on_submit() and not _title_taken(plan, form, project):
        if form.version.data != fingerprint(_project_state(project)):
            flash(
                _("Someone changed this project meanwhile. Here it is now; check and save again."),
                "error",
            )
            return redirect(url_for("intake.edit_project", plan_id=plan.id, project_id=project.id))
        chosen = _chosen_villages(plan, form.village_ids.data)
        if village_plans.update_project(plan, project, form.values(), chosen, actor=current_user()):
            db.session.commit()
            flash(_("Saved."), "success")
        return redirect(url_for("intake.village", plan_id=plan.id, village_id=back_village.id))
    status = 400 if form.errors else 200
    return render_template(
        "intake/project_form.html",
        form=form,
        plan=plan,
        village=back_village,
        project=project,
        sources=village_plans.merged_sources(project),
        confirm=ConfirmForm(formdata=None),
    ), status


def _back_village(plan: Plan, project: Project) -> Village:
    """The village page to return to: the one named in the address, else the project's first."""
    wanted = whole_number_or_none(request.args.get("village"))
    for village in project.villages:
        if village.id == wanted:
            return village
    if project.villages:
        return project.villages[0]
    return plan.tambon.villages[0] if plan.tambon.villages else abort(404)


@bp.route("/plans/<int:plan_id>/projects/<int:project_id>/delete", methods=["GET", "POST"])
@login_required
def delete_project(plan_id: int, project_id: int):
    plan = plan_for_editing(plan_id)
    project = project_of_plan(plan, project_id)
    back_village = _back_village(plan, project)
    form = ConfirmForm()
    if form.validate_on_submit():
        title = project.title
        try:
            village_plans.delete_project(plan, project, actor=current_user())
        except village_plans.ProjectRefused as refused:
            db.session.rollback()
            flash(str(refused), "error")
        else:
            db.session.commit()
            flash(_("Project %(title)s deleted. Undo brings it back.", title=title), "success")
        return redirect(url_for("intake.village", plan_id=plan.id, village_id=back_village.id))
    return render_template(
        "intake/project_delete.html", form=form, plan=plan, project=project, village=back_village
    )


# --- merging duplicates ---------------------------------------------------------------------


def _merge_candidates(plan: Plan) -> list[Project]:
    return list(
        db.session.scalars(
            select(Project).where(*on_board(plan.id)).order_by(Project.title, Project.id)
        )
    )


def _matches(project: Project, words: list[str]) -> bool:
    """A project found by the merge page's search: every typed word is in its title or names
    one of its villages (หมู่ 3, 3, the village's name)."""
    text = title_key(
        " ".join([project.title] + [f"หมู่ {v.number} {v.number} {v.name}" for v in project.villages])
    )
    return all(word in text for word in words)


@bp.route("/plans/<int:plan_id>/merge", methods=["GET", "POST"])
@login_required
def merge(plan_id: int):
    """Step 1 chooses the projects (searched by title or village, or from the suggested likely
    duplicates); step 2 (the same form with `step=confirm`) names the tambon project, its title
    and budget."""
    plan = plan_for_editing(plan_id)
    candidates = _merge_candidates(plan)
    form = MergeForm()
    form.project_ids.choices = [(p.id, p.title) for p in candidates]
    by_id = {p.id: p for p in candidates}
    if request.method == "GET":
        # A search keeps what was ticked (the form is sent as GET by the search button).
        form.project_ids.data = request.args.getlist("project_ids", type=int)
    chosen = [by_id[i] for i in (form.project_ids.data or []) if i in by_id]
    query = " ".join(request.values.get("q", "").split())[:200]
    words = title_key(query).split()
    shown = [p for p in candidates if p in chosen or _matches(p, words)]
    form.keeper_id.choices = [(p.id, p.title) for p in chosen]
    step = request.form.get("step", "choose")
    # CSRFProtect has already checked the token of every POST.
    if request.method == "POST":
        if len(chosen) < 2:
            form.project_ids.errors = [_("Choose at least two projects to merge.")]
            step = "choose"
        elif step == "choose":
            largest = max(chosen, key=lambda p: p.budget_satang)
            form.keeper_id.data = largest.id
            form.title.data = largest.title
            form.budget_satang.data = village_plans.default_merged_budget(chosen)
            form.budget_satang.raw_data = None
            form.title.raw_data = None
            form.title.errors = form.budget_satang.errors = []
            step = "confirm"
        elif form.validate():
            keeper = by_id.get(form.keeper_id.data)
            try:
                village_plans.merge_projects(
                    plan,
                    keeper,
                    [p for p in chosen if p is not keeper],
                    title=form.title.data.strip(),
                    budget_satang=form.budget_satang.data,
                    actor=current_user(),
                )
            except village_plans.ProjectRefused as refused:
                db.session.rollback()
                flash(str(refused), "error")
                return redirect(url_for("intake.merge", plan_id=plan.id))
            db.session.commit()
            flash(_("Merged into one tambon project: %(title)s.", title=keeper.title), "success")
            return redirect(url_for("intake.edit_project", plan_id=plan.id, project_id=keeper.id))
    status = (
        400
        if any(getattr(form, name).errors for name in ["project_ids", "title", "budget_satang"])
        else 200
    )
    context = {
        "form": form,
        "plan": plan,
        "candidates": shown,
        "total": len(candidates),
        "query": query,
        "chosen": chosen,
        "step": step,
        "sum_satang": sum(p.budget_satang for p in chosen),
    }
    if request.method == "GET" and is_htmx():
        return render_template("intake/_merge_candidates.html", **context)
    if step == "choose":
        context["suggestions"] = similar.likely_duplicates(candidates)
    return render_template("intake/merge.html", **context), status


@bp.route("/plans/<int:plan_id>/projects/<int:project_id>/unmerge", methods=["POST"])
@login_required
def unmerge(plan_id: int, project_id: int):
    plan = plan_for_editing(plan_id)
    project = project_of_plan(plan, project_id)
    ConfirmForm().validate_on_submit() or abort(400)
    try:
        returned = village_plans.unmerge_project(plan, project, actor=current_user())
    except village_plans.ProjectRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(
            _("Un-merged: %(count)s projects are back on the board.", count=len(returned)),
            "success",
        )
    return redirect(url_for("intake.edit_project", plan_id=plan.id, project_id=project.id))


@bp.app_template_global("intake_village_counts")
def intake_village_counts(plan: Plan) -> dict[int, dict]:
    """For the plan page's villages section."""
    return village_plans.village_counts(plan)


# The Excel import pages and the sector strategies page register on this blueprint.
from planapp.intake import import_routes, sector_strategy_routes  # noqa: E402, F401
