"""The figures a page, the CLI or a report asks for: each function joins a store query to metrics calls.

One module per subject (overview, ranking, ...). Each function is the single path from the database
to one published table, so the dashboard, the command line and the exported report cannot disagree.
"""
