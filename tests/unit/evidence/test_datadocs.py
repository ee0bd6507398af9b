"""The offline rendition of a Data Docs page reaches nothing on the network and keeps the content."""

from __future__ import annotations

import re

from ccm.evidence.datadocs import offline_rendition

PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css">
<link rel="shortcut icon" href="../../../static/images/favicon.ico">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script>$(function () { $('[data-toggle="tooltip"]').tooltip() })</script>
<style>.navbar-brand a { background: url('https://assets.example.org/logo.png') 0 0 no-repeat; }</style>
</head><body>
<img src="https://great-expectations-web-assets.s3.amazonaws.com/logo-long.png?d=1">
<a href="https://greatexpectations.io/newsletter">newsletter</a>
<a href="../../../../index.html">Home</a> <a href="#section-1">Overview</a>
<a data-toggle="collapse" href="#section-1-collapse-body-1" aria-expanded="false">Show more</a>
<table><tr><td>expect_column_values_to_be_between</td><td>00uABC</td></tr></table>
</body></html>"""


def test_nothing_external_remains_and_the_content_does():
    page = offline_rendition(PAGE, banner='original <a href="../index.html">back</a>')
    assert not re.search(r"https?://", page)
    assert "<script" not in page and "favicon" not in page
    assert 'href="../../../../index.html"' in page and 'href="#section-1"' in page
    assert "Show more" in page and 'href="#section-1-collapse-body-1"' not in page
    assert "expect_column_values_to_be_between" in page and "00uABC" in page
    assert page.index('class="ccm-offline"') > page.index("<body>")
