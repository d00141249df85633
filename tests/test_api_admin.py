"""Administration through the API (SQLite and PostgreSQL): admins only (403 for anyone else, before the body is
read); plants, workshops and users made with the screens' rules and refusals naming the field; the audit trail
read newest first, page by page."""

from __future__ import annotations

from tests.helpers import token_headers


def test_only_admins_administer_and_refusals_name_the_field(app, client):
    admin = token_headers(app, "admin")
    for username in ("manager", "sup1", "auditor"):
        headers = token_headers(app, username)
        trail = [("get", "/api/v1/audit")] if username == "sup1" else []  # managers, auditors: their scope's
        for method, url in (("get", "/api/v1/plants"), ("get", "/api/v1/users"), *trail,
                            ("post", "/api/v1/plants"), ("post", "/api/v1/users"), ("put", "/api/v1/users/sup1")):
            answer = getattr(client, method)(url, headers=headers, data="{not json")
            assert answer.status_code == 403 and answer.json["code"] == "not_allowed", (username, url)

    made = client.post("/api/v1/plants", headers=admin, json={"code": "P9", "name": "九厂",
                                                               "timezone": "Europe/Budapest"})
    assert made.status_code == 201 and made.json == {"code": "P9", "name": "九厂", "timezone": "Europe/Budapest",
                                                      "workshops": []}
    again = client.post("/api/v1/plants", headers=admin, json={"code": "p9", "name": "x"})
    assert again.status_code == 409 and again.json["code"] == "duplicate_site" and again.json["items"] == ["code"]
    zone = client.post("/api/v1/plants", headers=admin, json={"code": "P8", "name": "x", "timezone": "Mars/Base"})
    assert zone.status_code == 422 and zone.json["items"] == ["timezone"]
    assert client.post("/api/v1/plants/P9/workshops", headers=admin,
                       json={"code": "W91", "name": "装配"}).status_code == 201
    assert client.post("/api/v1/plants/NOPE/workshops", headers=admin,
                       json={"code": "W92", "name": "x"}).status_code == 404
    plants = client.get("/api/v1/plants", headers=admin).json["plants"]
    assert [p["code"] for p in plants] == ["P1", "P2", "P9"] and plants[2]["workshops"][0]["code"] == "W91"

    user = client.post("/api/v1/users", headers=admin, json={
        "username": "sup9", "password": "long enough pass 9", "role": "supervisor", "workshops": ["W91"]})
    assert user.status_code == 201, user.json
    assert (user.json["role"], user.json["workshops"], user.json["active"]) == ("supervisor", ["W91"], True)
    weak = client.post("/api/v1/users", headers=admin, json={"username": "x1", "password": "123", "role": "auditor"})
    assert weak.status_code == 422 and weak.json["items"] == ["password"]
    role = client.post("/api/v1/users", headers=admin, json={"username": "x2", "password": "long enough pass 9",
                                                             "role": "boss"})
    assert role.status_code == 422 and role.json["items"] == ["role"]
    taken = client.post("/api/v1/users", headers=admin, json={"username": "sup9", "password": "long enough pass 9",
                                                              "role": "auditor"})
    assert taken.status_code == 409 and taken.json["code"] == "duplicate"
    changed = client.put("/api/v1/users/sup9", headers=admin, json={"active": False, "workshops": ["W1", "W91"]})
    assert changed.status_code == 200 and changed.json["active"] is False and changed.json["workshops"] == ["W1", "W91"]
    assert changed.json["role"] == "supervisor"  # left out: unchanged
    assert client.put("/api/v1/users/admin", headers=admin, json={"role": "auditor"}).json["code"] == "self_lockout"
    assert client.put("/api/v1/users/ghost", headers=admin, json={}).status_code == 404
    assert "sup9" in [u["username"] for u in client.get("/api/v1/users", headers=admin).json["users"]]

    # the audit trail: newest first, page by page, filtered
    first = client.get("/api/v1/audit?limit=2", headers=admin).json
    assert len(first["events"]) == 2 and first["next_before"] == first["events"][-1]["id"]
    assert first["events"][0]["action"] == "user.update" and first["events"][0]["at"].endswith("+00:00")
    second = client.get(f"/api/v1/audit?limit=2&before={first['next_before']}", headers=admin).json
    assert second["events"][0]["id"] < first["events"][-1]["id"]
    plants_made = client.get("/api/v1/audit?action=plant.create", headers=admin).json["events"]
    assert [e["object_id"] for e in plants_made] and all(e["action"] == "plant.create" for e in plants_made)
    assert client.get("/api/v1/audit?limit=0", headers=admin).status_code == 422
