"""Started from any directory, the dashboard listens on this machine only and sends nothing out.

Streamlit reads `.streamlit/config.toml` from the working directory, and also from beside the
script it runs; the shipped config lives beside dashboard/app.py so that `cd /tmp && streamlit
run /path/to/dashboard/app.py` gets it too. Started elsewhere without it, the server listened on
every interface, looked up this machine's public IP and let the page send usage statistics.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

import pytest
from e2e_env import ROOT, dashboard_server

pytestmark = pytest.mark.e2e

LISTEN = "0A"  # the TCP state column of /proc/net/tcp


def listening_addresses(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses of every socket listening on `port`, IPv4 and IPv6 (Linux)."""
    found = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == LISTEN:
                found.append(_address(address))
    return found


def _address(hex_text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """/proc/net/tcp* prints each 32-bit word of an address in the host's byte order."""
    raw = bytes.fromhex(hex_text)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(raw)


@pytest.fixture
def elsewhere(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no STREAMLIT_* variables and an empty home, so no other config
    file can supply the settings under test."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("STREAMLIT_")}
    return {**env, "HOME": str(home), "ASSETBOARD_SALES_DATA": str(ROOT / "data")}


def test_started_from_another_directory_it_listens_on_localhost_only_and_sends_nothing(
    tmp_path: Path, elsewhere: dict[str, str], page, outside_requests: list[str], screenshot
) -> None:
    db = tmp_path / "elsewhere.duckdb"
    log = tmp_path / "streamlit.log"
    # The README's command, from a directory that has no .streamlit/ of its own.
    with dashboard_server(tmp_path, elsewhere, log, args=["--db", str(db)]) as server:
        addresses = listening_addresses(server.port)
        assert addresses, f"nothing listens on port {server.port}"
        assert all(address.is_loopback for address in addresses), addresses

        page.goto(server.url)
        page.get_by_role("heading", name="Overview", exact=True).wait_for()
        page.get_by_text("No runs yet").first.wait_for()
        page.get_by_test_id("stMetric").first.wait_for()
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
        sidebar = page.get_by_test_id("stSidebar").inner_text()
        assert str(db) in sidebar.replace("\u2060", "")  # the app's own --db arrived
        favicons = page.locator("link[rel~='icon']").evaluate_all("links => links.map(l => l.href)")
        assert favicons and all(href.startswith("data:") for href in favicons), favicons
        screenshot("server-started-elsewhere")
        output = server.output

    assert outside_requests == []  # no usage statistics, no icon from a font CDN
    assert "Collecting usage statistics" not in output
    assert f"URL: http://localhost:{server.port}" in output
    assert "Network URL" not in output and "External URL" not in output  # no public-IP lookup
