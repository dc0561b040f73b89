"""Each village's closing screen on the server (issue 17): chosen with a village of the tambon
only, composed of its region, sent whole when a card moves, and worded in the history."""

from __future__ import annotations

import re

from planapp.changes import Regions
from planapp.extensions import db
from planapp.fragments import region
from planapp.projector import routes as projector_routes
from planapp.projector import screens
from tests.live_helpers import spread_demo


def choose(client, plan, **data):
    return client.post(f"/plans/{plan.id}/screen", data=data, headers={"HX-Request": "true"})


def test_a_villages_outcome_needs_a_village_of_this_tambon(facilitator_client, demo_plan):
    for bad in ({"mode": "outcome"}, {"mode": "outcome", "village_id": "99999"}):
        response = choose(facilitator_client, demo_plan, **bad)
        assert response.status_code == 400 and 'role="alert"' in response.get_data(as_text=True)
    db.session.refresh(demo_plan)
    assert demo_plan.version == 0 and demo_plan.projector_mode == "board"
    village = demo_plan.tambon.villages[1]
    response = choose(facilitator_client, demo_plan, mode="outcome", village_id=str(village.id))
    assert response.status_code == 200
    control = response.get_data(as_text=True)
    # The control now steps to the villages either side.
    villages = demo_plan.tambon.villages
    assert f'name="village_id" value="{villages[0].id}" data-village-step="previous"' in control
    assert f'name="village_id" value="{villages[2].id}" data-village-step="next"' in control
    db.session.refresh(demo_plan)
    assert (demo_plan.projector_mode, demo_plan.projector_village_number) == (
        "outcome",
        village.number,
    )
    facilitator_client.post("/language", data={"language": "en", "next": "/"})
    history = facilitator_client.get(f"/plans/{demo_plan.id}/history").get_data(as_text=True)
    assert f"Projector shows: A village&#39;s outcome (village {village.label})" in history


def test_the_outcome_lists_every_project_of_the_village_and_where_it_went(app, demo_plan):
    spread_demo(demo_plan)
    village = demo_plan.tambon.villages[0]
    demo_plan.projector_mode, demo_plan.projector_village_number = "outcome", village.number
    db.session.commit()
    own = [p for p in demo_plan.active_projects() if village in p.villages]
    with app.test_request_context("/"):
        shown = screens.screen(demo_plan, "projector")
        whole = str(region(projector_routes.REGIONS, "content", shown))
        alone = str(region(projector_routes.REGIONS, "outcome", shown))
    assert alone in whole
    listed = re.findall(r'data-project-id="(\d+)" data-outcome="([^"]+)"', alone)
    assert sorted(int(pid) for pid, _o in listed) == sorted(p.id for p in own)
    for project in own:
        outcome = dict(listed)[str(project.id)]
        if project.funding_group in ("1", "2", "3"):
            group, place = outcome.split(":")
            assert group == project.funding_group and int(place) >= 1
        else:
            assert outcome == project.funding_group
    # Grouped first (group 1 to 3, by place), then unsorted, then not feasible.
    order = [o.split(":")[0] for _pid, o in listed]
    keys = ["1", "2", "3", "unsorted", "not-feasible"]
    assert order == sorted(order, key=keys.index)


def test_a_move_sends_the_villages_outcome_whole(app, demo_plan):
    spread_demo(demo_plan)
    demo_plan.projector_mode = "outcome"
    db.session.commit()
    pid = demo_plan.active_projects()[0].id
    with app.test_request_context("/"):
        shown = screens.screen(demo_plan, "projector")
        delta = screens.screen_delta(shown, 1, 2, Regions(moved={pid}, groups={"1"}))
        assert delta.outcome and not delta.whole
        html = str(region(projector_routes.REGIONS, "delta", shown, delta))
        assert '<section class="live-column column-outcome" id="live-outcome"' in html
        assert 'hx-swap-oob="true"' in html
        quiet = screens.screen_delta(shown, 1, 2, Regions(parts={"timer"}))
        assert not quiet.outcome
