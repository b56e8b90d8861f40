"""Manager back office: server-rendered pages (Jinja2) over the feature services."""
