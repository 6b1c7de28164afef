"""Reports (xlsx, html, markdown, csv, json), data-collection templates, table export."""
