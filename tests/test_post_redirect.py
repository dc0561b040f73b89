"""Post, redirect, get (issue 16, item 8): every form of every page that saves something answers
a redirect when it is sent the ordinary way (no htmx), so the browser's back button never offers
to send it again. htmx answers (fragments swapped in place) are the exception: a request with
`HX-Request` is not in the browser's history.

The forms are found on the pages of the URL map (tests/route_walk.py), as in
tests/test_number_fields.py, and sent as the page filled them."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from tests.route_walk import database_state
from tests.test_number_fields import filler, form_data, read_forms, walk_as_admin

# Changes of the session only (signing out, the language): they redirect, and change no row.
SESSION_ONLY = ("/logout", "/language")
# Answers that show a secret once, which a redirect could only show if it were kept somewhere
# (a sync token: the server keeps its digest only, and the session cookie is signed, not
# encrypted). Sent again by the back button, the form issues another token, shown as new.
SHOWN_ONCE = {"sync.tambon_tokens"}


def test_every_form_that_saves_answers_a_redirect(app, demo_plan):
    fiscal_year = demo_plan.fiscal_year
    client, sources = walk_as_admin(app, demo_plan, "prg-admin")
    routes = app.url_map.bind("localhost")

    def endpoint(action: str) -> str:
        return routes.match(action, method="POST")[0]

    kinds = []  # (page, endpoint): each form of each page, once per route it posts to
    for url, read in sources.items():
        for form in read_forms(url, read()).forms:
            kind = (url, endpoint(form.action))
            if not form.action.endswith(SESSION_ONLY) and kind not in kinds:
                kinds.append(kind)

    # Forms that take things away (a project deleted, next year's plan made) go last.
    last = ("delete", "carry_over", "deactivate", "password", "confirm")
    kinds.sort(key=lambda kind: any(word in kind[1] for word in last))
    failures, saved = [], set()
    for url, route in kinds:
        found = (f for f in read_forms(url, sources[url]()).forms if endpoint(f.action) == route)
        form = next(found, None)
        if form is None:
            continue  # an earlier save took it away (a group confirmed, a project merged)
        data = form_data(form, fiscal_year, "", "")
        # A form sent as it came saves nothing (an edit form, a vote count): change its first
        # text and its first number.
        for kinds_of_field in (form.text, {name for name, _id in form.numeric}):
            for n, (name, value) in enumerate(data):
                if name in kinds_of_field and any(ch.isalpha() or ch.isdigit() for ch in value):
                    if name in form.text and not any(ch.isalpha() for ch in value):
                        continue  # a date typed as text
                    changed = filler(name, fiscal_year) if name not in form.text else value + "ก"
                    data[n] = (name, changed)
                    break
        if form.submit:
            data.append(form.submit)
        before = database_state()
        response = client.post(form.action, data=MultiDict(data))
        if database_state() != before:
            saved.add(route)
            if response.status_code not in (302, 303) and route not in SHOWN_ONCE:
                failures.append(
                    f"{url} -> {form.action}: saved and answered {response.status_code}"
                )
        if 'action="/logout"' not in client.get("/").get_data(as_text=True):
            client.login("prg-admin")  # a form that signed us out (a password change)
    # The walk saved through the forms of every area.
    assert len(saved) >= 25, sorted(saved)
    assert not failures, "\n".join(failures)
