"""The front-end packages the Makefile installs are served by the app, to anyone, and nothing else is."""

import pytest

from service.web import vendor


def test_echarts_is_served_from_the_installed_package(client):
    if not vendor.FILES["echarts.js"].is_file():
        pytest.skip("ECharts is not installed (make assets needs npm)")
    with client.get("/vendor/echarts.js") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert b"echarts" in response.data[:2000]
        assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("name", ["echarts.min.js", "..%2Fpackage.json", "tslib.js"])
def test_only_the_named_files_are_served(client, name):
    assert client.get(f"/vendor/{name}").status_code == 404
