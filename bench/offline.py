"""make bench: what a tablet keeps for a shift without the server (static/js/sw.js): the pages on the user's
/offline/holdings.json and the app shell, by the bytes the browser's cache holds (bodies as served, uncompressed),
beside the shell alone. Target (#37): at most 2 MB for the demo plant."""

from __future__ import annotations

import re

TARGET_BYTES = 2 * 1024 * 1024


def held_size_row(client, who: str) -> tuple:
    held = client.get("/offline/holdings.json").get_json()
    sw = client.get("/sw.js").get_data(as_text=True)
    shell = re.findall(r'"(/static/[^"]+)"', re.search(r"var SHELL = \[(.*?)\];", sw, re.S).group(1))
    shell_bytes = sum(len(client.get(url, headers={"Accept-Encoding": "identity"}).data) for url in shell)
    page_bytes = 0
    for url in held["pages"]:
        response = client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, (url, response.status_code)
        page_bytes += len(response.data)
    total = shell_bytes + page_bytes
    return (f"kept for offline, {who}: {len(held['pages'])} pages, {len(held['workshops'])} workshops",
            f"{total / 1024:.0f} KB", f"{shell_bytes / 1024:.0f} KB (the shell alone)",
            f"{total / TARGET_BYTES:.2f} of the 2 MB target")
