"""Reports (build.py gathers the sections; one renderer per format: xlsx, html,
markdown, csv, json), data-collection templates, table export."""
