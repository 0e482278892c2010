"""Charts and HTML reports."""
