"""Renderings of a JSON report: Markdown, a self-contained HTML page, and JUnit XML; and the
comparison of several reports as a matrix. Each takes the report data (a dict read from
report.json) and returns text; none of them reads anything else."""

from conformance.render.compare import compare_html, compare_markdown
from conformance.render.html import render_html
from conformance.render.junit import render_junit
from conformance.render.markdown import render_markdown

FORMATS = {"md": render_markdown, "html": render_html, "junit": render_junit}
FILES = {"md": "report.md", "html": "report.html", "junit": "junit.xml"}

__all__ = ["FILES", "FORMATS", "compare_html", "compare_markdown", "render_html", "render_junit", "render_markdown"]
