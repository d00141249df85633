"""The audit screen shows what an event changed, field by field (a pure function)."""

import json

from audit.service import field_changes


def test_only_changed_fields_are_listed_with_old_and_new():
    old = json.dumps({"value": "1", "note": "", "overall_percent": 73.87218045112783, "passed": True})
    new = json.dumps({"value": "4", "note": "", "overall_percent": 74.43609022556391, "passed": True})
    assert field_changes(old, new) == [("overall_percent", "73.87", "74.44"), ("value", "1", "4")]


def test_a_created_object_lists_its_new_fields_and_a_removed_one_its_old():
    assert field_changes(None, json.dumps({"role": "auditor", "plants": ["P1"]})) == [
        ("plants", "", '["P1"]'), ("role", "", "auditor")]
    assert field_changes(json.dumps({"token": 3}), None) == [("token", "3", "")]
    assert field_changes(None, None) == []
