"""Big outputs off the request path (issue 18): an agency's workbook of tens of thousands of
rows is built by the jobs worker, a process of its own (`flask jobs-worker`), and fetched when
ready. The queue is a table (`report_jobs`): queue.py claims, runs and finishes jobs, outputs.py
says how each kind is built, routes.py shows a job's progress and hands out its file."""
